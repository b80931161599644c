package api

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/conversations"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/browser"
	"github.com/atende/atende/memory"
)

// A supervisor watches the conversations the bot is handling and takes one
// over before the customer asks: the live page lists it with its channel,
// last message and how long; "Assumir" opens a card owned by the supervisor
// and the conversation is a person's from then on (issue 14).
func TestTheBotLiveAndTakeOver(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	if _, err := s.handoffs.PutAttendant(ctx, s.acctA, handoff.NewAttendant{Email: "ana@acme.com", Name: "Ana Souza", Password: "senha-da-ana-1", Role: handoff.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	ch := s.channel(t, channels.NewChannel{Kind: channels.KindTelegram, Name: "Bot da loja", Secrets: map[string]string{"bot_token": "1:x"}})
	ing := channels.NewIngestor(s.pool, s.store, nil)
	for i, who := range []struct{ id, name, text string }{
		{"901", "Carla Dias", "vocês entregam em Niterói? quero o sofá retrátil"},
		{"902", "Bruno Reis", "meu boleto venceu, consigo pagar amanhã?"},
	} {
		if _, err := ing.Ingest(ctx, ch, channels.Batch{Messages: []channels.Inbound{{ExternalID: who.id, Type: "text", Text: who.text,
			At: time.Now().Add(-time.Duration(i+1) * time.Minute), From: channels.Sender{Name: who.name, Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: who.id}}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	// another account's live conversation never shows
	chB, err := s.channels.Create(ctx, s.acctB, channels.NewChannel{Kind: channels.KindTelegram, Name: "B", Secrets: map[string]string{"bot_token": "2:y"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ing.Ingest(ctx, chB, channels.Batch{Messages: []channels.Inbound{{ExternalID: "1", Type: "text", Text: "segredo da outra loja", At: time.Now(),
		From: channels.Sender{Name: "Outro Cliente", Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "77"}}}}}}); err != nil {
		t.Fatal(err)
	}
	var live struct {
		Conversations []struct {
			ContactName string `json:"contact_name"`
			Channel     string `json:"channel"`
			LastMessage string `json:"last_message"`
			Confidence  int    `json:"confidence"`
		} `json:"conversations"`
	}
	if code := s.call(t, s.keyA, "GET", "/api/v1/conversations/live", nil, &live); code != 200 || len(live.Conversations) != 2 ||
		live.Conversations[0].ContactName != "Carla Dias" || live.Conversations[1].LastMessage != "meu boleto venceu, consigo pagar amanhã?" ||
		live.Conversations[0].Channel != "telegram" || live.Conversations[0].Confidence != -1 {
		t.Fatalf("the live list through the API: %d %+v", code, live)
	}
	if code := s.call(t, s.keyB, "GET", "/api/v1/conversations/live", nil, &live); code != 200 || len(live.Conversations) != 1 || live.Conversations[0].ContactName != "Outro Cliente" {
		t.Fatalf("another account's live list: %d %+v", code, live)
	}
	bctx := browser.New(t)
	bctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(bctx, loginAt(s, "/inbox/bot", "ana@acme.com", "senha-da-ana-1", chromedp.WaitVisible(chromedp.CSS("table.live-list tr.live-row")))...); err != nil {
		t.Fatalf("log in to the live page: %v", err)
	}
	text, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('#live').innerText`))
	for _, want := range []string{"Carla Dias", "sofá retrátil", "Bruno Reis", "boleto venceu", "Telegram"} {
		if !strings.Contains(text, want) {
			t.Errorf("the live page lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "outra loja") {
		t.Fatalf("another account's conversation on the live page:\n%s", text)
	}
	if png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot()); err == nil {
		_ = os.WriteFile(filepath.Join(artifactsDir(t), "inbox-bot-live.png"), png, 0o644)
	}
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS("tr.live-row:first-child button")),
		chromedp.WaitVisible(chromedp.CSS("#timeline .events")),
	); err != nil {
		t.Fatalf("take over: %v", err)
	}
	page, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
	if !strings.Contains(page, "Você assumiu a conversa") || !strings.Contains(page, "sofá retrátil") {
		t.Fatalf("after taking over, the card:\n%s", page)
	}
	carla, err := s.store.FindByIdentity(ctx, s.acctA, memory.Identity{Kind: memory.KindTelegram, Value: "901"})
	if err != nil {
		t.Fatal(err)
	}
	cards, err := s.handoffs.List(ctx, s.acctA, handoff.Filter{})
	if err != nil || len(cards) != 1 || cards[0].ContactID != carla.ID || cards[0].OwnerName != "Ana Souza" || cards[0].Reason != "human_takeover" {
		t.Fatalf("the supervisor's card: %+v %v", cards, err)
	}
	conv, err := conversations.NewStore(s.pool).Get(ctx, s.acctA, cards[0].ConversationID)
	if err != nil || !conv.Status.WithHuman() {
		t.Fatalf("the conversation after the take-over: %+v %v", conv, err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(s.URL+"/inbox/bot"), chromedp.WaitVisible(chromedp.CSS("#live"))); err != nil {
		t.Fatal(err)
	}
	text, _ = chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('#live').innerText`))
	if strings.Contains(text, "Carla Dias") || !strings.Contains(text, "Bruno Reis") {
		t.Fatalf("the live page after the take-over:\n%s", text)
	}
}
