package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/internal/browser"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
)

// The card reads as a team reads it: in Portuguese (a routing decision is
// "O assistente direcionou para Suporte", a delivery "entregue", a field
// edit "Pedido: (vazio) → 48213"), statuses folded onto their message, the
// name field filled with the name the card shows, and the history opened at
// its latest message (issue 14).
func TestTheCardReadsInTheTeamsWords(t *testing.T) {
	s := newTestServer(t)
	tg := newTelegramAPI(t)
	card := inboxFixture(t, s, tg)
	ctx := context.Background()
	conv := card.ConversationID
	decision, _ := json.Marshal(map[string]any{"engine": "offline", "sector": "support", "confidence": 0.91})
	var reply memory.Event
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := s.store.AppendTx(ctx, tx, s.acctA, memory.Event{ContactID: card.ContactID, ConversationID: &conv, Kind: memory.EventAction,
			Direction: memory.DirectionInternal, Author: memory.AuthorAI, Text: "rotear: support", Payload: decision}); err != nil {
			return err
		}
		res, err := s.store.AppendTx(ctx, tx, s.acctA, memory.Event{ContactID: card.ContactID, ConversationID: &conv, Kind: memory.EventMessage,
			Direction: memory.DirectionOut, Author: memory.AuthorAI, Channel: "telegram", Text: "Vou verificar o pedido 48213."})
		if err != nil {
			return err
		}
		reply = res.Event
		for _, st := range []string{"sent", "delivered"} {
			p, _ := json.Marshal(map[string]any{"status": st, "message_event_id": reply.ID})
			if _, err := s.store.AppendTx(ctx, tx, s.acctA, memory.Event{ContactID: card.ContactID, ConversationID: &conv, Kind: memory.EventStatus,
				Direction: memory.DirectionInternal, Author: memory.AuthorSystem, Channel: "telegram", Text: st, Payload: p, ExternalID: "st-" + st}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.UpdateFields(ctx, s.acctA, card.ContactID, map[string]any{memory.FieldOrderNumber: "48213"}, memory.AuthorAPI, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 40 { // a long history: the card opens at its end
		if _, err := s.store.AddNote(ctx, s.acctA, card.ContactID, memory.AuthorHuman, "anotação antiga "+strings.Repeat("x", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.store.AddNote(ctx, s.acctA, card.ContactID, memory.AuthorHuman, "a nota mais recente"); err != nil {
		t.Fatal(err)
	}
	bctx := browser.New(t)
	bctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(bctx, loginAt(s, "/inbox/handoffs/"+card.ID.String(), "ana@acme.com", "senha-da-ana-1", chromedp.WaitVisible(chromedp.CSS("#timeline .events")))...); err != nil {
		t.Fatalf("open the card: %v", err)
	}
	timeline, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('#timeline').innerText`))
	for _, want := range []string{"O assistente direcionou para Suporte · confiança 91%", "entregue", "Pedido: (vazio) → 48213", "Integração (API)"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("the history lacks %q", want)
		}
	}
	if strings.Contains(timeline, "rotear: support") || strings.Contains(timeline, "delivered") {
		t.Errorf("machine words on the card:\n%s", timeline)
	}
	statusLines, _ := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('#timeline li.ev.status').length`))
	if statusLines != 0 {
		t.Errorf("%d status lines: a delivery folds onto its message", statusLines)
	}
	name, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`(document.querySelector('input[name=name]')||{}).value||''`))
	if name != "Rui Costa" {
		t.Errorf("the name field: %q, the card says Rui Costa", name)
	}
	atEnd, _ := chromedp.Run(bctx, chromedp.Evaluate[bool](`(function(){var l=document.querySelector('#timeline .events');return l.scrollHeight>l.clientHeight && l.scrollHeight-l.scrollTop-l.clientHeight<5})()`))
	if !atEnd {
		t.Error("the history does not open at its latest message")
	}
}
