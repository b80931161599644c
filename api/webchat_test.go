package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/browser"
)

// startSendWorkers runs the outbound River workers of the test server.
func (s *testServer) startSendWorkers(t *testing.T) {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, channels.NewSendWorker(s.outbox))
	client, err := river.NewClient(riverpgxv5.New(s.pool), &river.Config{
		Queues: map[string]river.QueueConfig{channels.SendQueue: {MaxWorkers: 2}}, Workers: workers,
		FetchPollInterval: 100 * time.Millisecond, FetchCooldown: 20 * time.Millisecond, TestOnly: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(context.Background()) })
}

// TestWebchatInARealBrowser opens /chat in headless Chromium, fills the
// pre-chat form, sends a message, and sees an attendant's reply arrive over SSE.
func TestWebchatInARealBrowser(t *testing.T) {
	s := newTestServer(t)
	s.startSendWorkers(t)
	wc := s.channel(t, channels.NewChannel{Kind: channels.KindWebchat, Name: "Site"})
	ctx := browser.New(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/chat/"+wc.ID.String()),
		chromedp.WaitVisible(chromedp.CSS("#atende-bubble")),
		chromedp.Click(chromedp.CSS("#atende-bubble")),
		chromedp.WaitVisible(chromedp.CSS("#atende-prechat input[name=name]")),
		chromedp.SendKeys(chromedp.CSS("#atende-prechat input[name=name]"), "Ana Paula"),
		chromedp.SendKeys(chromedp.CSS("#atende-prechat input[name=email]"), "Ana.Paula@Exemplo.com.br"),
		chromedp.Click(chromedp.CSS("#atende-prechat button.start")),
		chromedp.WaitVisible(chromedp.CSS("#atende-form input")),
		chromedp.SendKeys(chromedp.CSS("#atende-form input"), "Quero um orçamento de 10 cadeiras"),
		chromedp.Click(chromedp.CSS("#atende-form button")),
	)
	if err != nil {
		t.Fatalf("using the widget: %v", err)
	}
	visible, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`getComputedStyle(document.querySelector('#atende-prechat')).display !== 'none'`))
	if err != nil || visible {
		t.Fatalf("the pre-chat form must be gone once the chat starts (visible=%v, %v)", visible, err)
	}
	// The message reached the contact the pre-chat e-mail names.
	var contact contactJSON
	deadline := time.Now().Add(15 * time.Second)
	for {
		var found struct{ Contacts []contactJSON }
		s.call(t, s.keyA, "GET", "/api/v1/contacts?identity=email:ana.paula@exemplo.com.br", nil, &found)
		if len(found.Contacts) == 1 && len(messagesOf(s.timeline(t, found.Contacts[0].ID))) == 1 {
			contact = found.Contacts[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the visitor's message never reached the timeline")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if contact.Name != "Ana Paula" || messagesOf(s.timeline(t, contact.ID))[0].Text != "Quero um orçamento de 10 cadeiras" {
		t.Fatalf("contact %+v", contact)
	}
	// An attendant answers through the API; the reply is delivered over SSE.
	var ev eventJSON
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts/"+contact.ID+"/messages",
		map[string]any{"channel_id": wc.ID, "text": "Olá, **Ana**! Já preparo o orçamento."}, &ev); code != http.StatusAccepted {
		t.Fatalf("reply: %d", code)
	}
	html, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(function(){var m=document.querySelector('.atende-them');return m?m.innerHTML:false})()`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("no reply arrived in the widget: %v", err)
	}
	if !strings.Contains(html, "Olá, <b>Ana</b>! Já preparo o orçamento.") {
		t.Fatalf("reply rendered as %q", html)
	}
	if dir := os.Getenv("ATENDE_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err == nil {
			_ = os.WriteFile(dir+"/webchat.png", png, 0o644)
		}
	}
}
