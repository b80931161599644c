package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atende/atende/memory"
)

// An attendant attaches a PDF to a reply: it is kept, sent by a signed link
// the platform fetches without a key (the link cannot be changed or reused
// past its expiry), and shown on the card like the customer's files.
func TestAnAttendantSendsAFile(t *testing.T) {
	s := newTestServer(t)
	tg := newTelegramAPI(t)
	card := inboxFixture(t, s, tg)
	client := inboxLogin(t, s, "acme", "ana@acme.com", "senha-da-ana-1")
	cardURL := s.URL + "/inbox/handoffs/" + card.ID.String()
	page := func() string {
		resp, err := client.Get(cardURL)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		raw, _ := io.ReadAll(resp.Body)
		return string(raw)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page())[1]
	pdf := []byte("%PDF-1.4\n% segunda via\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf", csrf)
	_ = w.WriteField("text", "Segue a segunda via, Rui.")
	part, _ := w.CreateFormFile("file", "boleto-dezembro.pdf")
	_, _ = part.Write(pdf)
	_ = w.Close()
	resp, err := client.Post(cardURL+"/reply", w.FormDataContentType(), &body)
	if err != nil || resp.StatusCode != http.StatusSeeOther || strings.Contains(resp.Header.Get("Location"), "erro") {
		t.Fatalf("reply with a file: %v %d %s", err, resp.StatusCode, resp.Header.Get("Location"))
	}
	page0, err := s.store.Timeline(context.Background(), s.acctA, card.ContactID, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	var sent memory.Event
	for _, e := range page0.Events {
		if e.Direction == memory.DirectionOut && e.Author == memory.AuthorHuman && len(e.Media) > 0 {
			sent = e
		}
	}
	if sent.ID == 0 || sent.Text != "Segue a segunda via, Rui." || sent.Media[0].Type != "document" || sent.Media[0].MIME != "application/pdf" ||
		sent.Media[0].FileName != "boleto-dezembro.pdf" || !strings.HasPrefix(sent.Media[0].URL, testPublicURL+"/media/") {
		t.Fatalf("the attendant's reply: %+v", sent)
	}
	// the platform fetches the link, with no key
	link := s.URL + strings.TrimPrefix(sent.Media[0].URL, testPublicURL)
	resp, err = http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, pdf) || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("the link: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), got)
	}
	u, _ := url.Parse(link)
	q := u.Query()
	q.Set("type", "text/html") // serve it as a page instead
	u.RawQuery = q.Encode()
	if resp, _ := http.Get(u.String()); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a link with its type changed: %d", resp.StatusCode)
	}
	s.setNow(time.Now().Add(8 * 24 * time.Hour))
	if resp, _ := http.Get(link); resp.StatusCode != http.StatusGone {
		t.Fatalf("a link past its week: %d", resp.StatusCode)
	}
	s.setNow(time.Now())
	// the card shows the sent file as a named link with its size
	if html := page(); !strings.Contains(html, "boleto-dezembro.pdf") || !strings.Contains(html, `class="doc" href="/inbox/media/`) {
		t.Fatalf("the card does not show the sent file:\n%s", html[strings.Index(html, `id="timeline"`):])
	}
}

// An integration sends a file with a reply through the API (a boleto's PDF
// from an n8n flow): its bytes in base64, kept and sent by a signed link;
// bytes that are not base64 are a 400 and nothing is sent.
func TestAReplyThroughTheAPICarriesAFile(t *testing.T) {
	s := newTestServer(t)
	tg := newTelegramAPI(t)
	card := inboxFixture(t, s, tg)
	pdf := []byte("%PDF-1.4\n% boleto\n%%EOF\n")
	path := "/api/v1/handoffs/" + card.ID.String() + "/reply"
	if code := s.call(t, s.keyA, "POST", path, map[string]any{"attendant": "ana@acme.com", "text": "Segue o boleto.",
		"file": map[string]string{"name": `C:\fakepath\boleto.pdf`, "data": "não é base64"}}, nil); code != http.StatusBadRequest {
		t.Fatalf("a file that is not base64: %d", code)
	}
	var sent memory.Event
	if code := s.call(t, s.keyA, "POST", path, map[string]any{"attendant": "ana@acme.com", "text": "Segue o boleto.",
		"file": map[string]string{"name": `C:\fakepath\boleto.pdf`, "data": base64.StdEncoding.EncodeToString(pdf)}}, &sent); code != http.StatusOK {
		t.Fatalf("a reply with a file: %d", code)
	}
	if len(sent.Media) != 1 || sent.Media[0].FileName != "boleto.pdf" || sent.Media[0].MIME != "application/pdf" || sent.Text != "Segue o boleto." {
		t.Fatalf("the reply: %+v", sent)
	}
	resp, err := http.Get(s.URL + strings.TrimPrefix(sent.Media[0].URL, testPublicURL))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, pdf) {
		t.Fatalf("the link: %d %q", resp.StatusCode, got)
	}
	files, err := s.mediaFiles.OfEvent(context.Background(), s.acctA, sent.ID)
	if err != nil || len(files) != 1 || files[0].Status != "stored" {
		t.Fatalf("the sent file on the card: %+v %v", files, err)
	}
}
