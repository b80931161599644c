package channels

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
	"github.com/jackc/pgx/v5"
)

// A customer who writes in the instant a reply is being held reopens the
// window: the hold is abandoned and the reply planned again, so it is not
// left waiting for their next message; no template goes out for it.
func TestAHoldSeesTheCustomerWhoWroteMeanwhile(t *testing.T) {
	e := newOutboxEnv(t)
	srv := newPlatformServer(t, graphOK)
	ch := e.whatsapp(t, srv.URL)
	contact := e.contactWhoWrote(t, memory.KindWhatsApp, "5511987654329", KindWhatsApp, 30*time.Hour)
	ctx := context.Background()
	// The reply is recorded without its delivery job: the test plays the job.
	var ev memory.AppendResult
	err := database.InTx(ctx, e.pool, func(tx pgx.Tx) error {
		var err error
		ev, err = e.mem.AppendTx(ctx, tx, e.acct, memory.Event{ContactID: contact, Kind: memory.EventMessage, Direction: memory.DirectionOut,
			Author: memory.AuthorHuman, Channel: string(KindWhatsApp), Text: "Seu pedido chegou!", Payload: mustJSON(t, outboundPayload{ChannelID: ch.ID})})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.outbox.plan(ctx, e.acct, ev.Event, ch, outboundPayload{ChannelID: ch.ID})
	var held heldForTemplate
	if !errors.As(err, &held) {
		t.Fatalf("outside the window the plan is a hold: %v", err)
	}
	// the customer writes now, before the hold is written
	if _, err := NewIngestor(e.pool, e.mem, nil).WithHeldReleases(e.outbox).Ingest(ctx, ch, Batch{Messages: []Inbound{{ExternalID: "wamid.meanwhile",
		Type: "text", Text: "oi", At: time.Now(), From: Sender{Identities: []memory.Identity{{Kind: memory.KindWhatsApp, Value: "5511987654329"}}}}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.outbox.hold(ctx, e.acct, ev.Event, ch, held); !errors.Is(err, errWindowMoved) {
		t.Fatalf("the hold after the customer wrote: %v", err)
	}
	statuses, err := e.mem.StatusesOf(ctx, e.acct, ev.Event.ID)
	if err != nil || len(statuses) != 0 {
		t.Fatalf("statuses of a reply planned again: %+v %v", statuses, err)
	}
	parts, reason, err := e.outbox.plan(ctx, e.acct, ev.Event, ch, outboundPayload{ChannelID: ch.ID})
	if err != nil || reason != "" || len(parts) != 1 || parts[0].Template != nil || parts[0].Text != "Seu pedido chegou!" {
		t.Fatalf("planned again, the reply goes as it is: %+v %q %v", parts, reason, err)
	}
	if n := len(srv.all()); n != 0 {
		t.Fatalf("%d requests: no template for a window the customer reopened", n)
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
