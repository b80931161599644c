package channels

import (
	"net/url"
	"strings"
	"testing"
)

// SendGrid's raw mode with the usual shape: mixed around alternative, the
// text quoted-printable in ISO-8859-1, a PDF attached. The customer's words
// arrive whole and in UTF-8, the attachment by name.
func TestSendGridRawModeReadsNestedQuotedPrintableLatin1(t *testing.T) {
	raw := strings.Join([]string{
		"From: Fernanda Lopes <fernanda.lopes@exemplo.com.br>",
		"Subject: =?ISO-8859-1?Q?Pre=E7o_do_plano?=",
		"Message-ID: <raw-1@exemplo.com.br>",
		"Date: Fri, 21 Nov 2025 10:00:00 -0300",
		"MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="mix"`,
		"",
		"--mix",
		`Content-Type: multipart/alternative; boundary="alt"`,
		"",
		"--alt",
		"Content-Type: text/plain; charset=ISO-8859-1",
		"Content-Transfer-Encoding: quoted-printable",
		"",
		"Qual o pre=E7o do plano anual? N=E3o achei no site.",
		"--alt",
		"Content-Type: text/html; charset=ISO-8859-1",
		"",
		"<p>Qual o pre&ccedil;o?</p>",
		"--alt--",
		"--mix",
		`Content-Type: application/pdf; name="orcamento.pdf"`,
		`Content-Disposition: attachment; filename="orcamento.pdf"`,
		"Content-Transfer-Encoding: base64",
		"",
		"JVBERi0xLjQK",
		"--mix--",
		"",
	}, "\r\n")
	b, err := ParseEmailForm(EmailSendGrid, url.Values{"email": {raw}})
	if err != nil {
		t.Fatal(err)
	}
	m := b.Messages[0]
	if m.Text != "Qual o preço do plano anual? Não achei no site." {
		t.Fatalf("text %q", m.Text)
	}
	if len(m.Media) != 1 || m.Media[0].FileName != "orcamento.pdf" || m.Email.Subject != "Preço do plano" {
		t.Fatalf("media %+v, subject %q", m.Media, m.Email.Subject)
	}
}
