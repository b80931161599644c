package channels

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// seedFuzz adds every fixture of the folders as a seed.
func seedFuzz(f *testing.F, folders ...string) {
	for _, folder := range folders {
		entries, err := os.ReadDir(filepath.Join(fixturesDir(f), folder))
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			body := readFixture(f, folder+"/"+e.Name())
			f.Add(body)
			// The same payload with a NUL escape, and a byte that is not
			// UTF-8, at the start of every string value.
			f.Add(bytes.ReplaceAll(body, []byte(`": "`), []byte(`": "\u0000`)))
			f.Add(bytes.ReplaceAll(body, []byte(`": "`), []byte("\": \"\xff")))
		}
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
}

// checkBatch is what every parser promises whatever the input: no panic,
// every message it returns can be stored (an id and a sender), and every item
// it skips says why.
func checkBatch(t *testing.T, b Batch, err error) {
	if err != nil {
		return
	}
	for _, s := range b.Skipped {
		if s.Reason == "" {
			t.Fatalf("skipped without a reason: %+v", s)
		}
	}
	for _, m := range b.Messages {
		if m.ExternalID == "" || len(m.From.Identities) == 0 {
			t.Fatalf("unstorable message: %+v", m)
		}
	}
}

func FuzzParseWhatsAppCloud(f *testing.F) {
	seedFuzz(f, "whatsapp_cloud")
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := ParseWhatsAppCloud(body)
		checkBatch(t, b, err)
	})
}

func FuzzParseEvolution(f *testing.F) {
	seedFuzz(f, "evolution")
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := ParseEvolution(body)
		checkBatch(t, b, err)
	})
}

func FuzzParseInstagram(f *testing.F) {
	seedFuzz(f, "instagram")
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := ParseInstagram(body)
		checkBatch(t, b, err)
	})
}

func FuzzParseTelegram(f *testing.F) {
	seedFuzz(f, "telegram")
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := ParseTelegram(body)
		checkBatch(t, b, err)
	})
}

func FuzzParsePostmarkInbound(f *testing.F) {
	seedFuzz(f, "email")
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := ParsePostmarkInbound(body)
		checkBatch(t, b, err)
	})
}

func FuzzParseEmailForm(f *testing.F) {
	f.Add("Maria <maria@exemplo.com>", "Re: pedido", "oi\n> quote", "Message-ID: <a@b>\nIn-Reply-To: <c@d>", "0")
	f.Fuzz(func(t *testing.T, from, subject, text, headers, attachments string) {
		form := url.Values{"from": {from}, "subject": {subject}, "text": {text}, "headers": {headers}, "attachments": {attachments},
			"body-plain": {text}, "message-headers": {headers}, "Message-Id": {"<x@y>"}}
		for _, provider := range []string{EmailSendGrid, EmailMailgun} {
			b, err := ParseEmailForm(provider, form)
			checkBatch(t, b, err)
		}
		_ = StripEmailReply(text)
	})
}

func FuzzParseChatwoot(f *testing.F) {
	seedFuzz(f, "chatwoot")
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := ParseChatwoot(body)
		checkBatch(t, b, err)
	})
}
