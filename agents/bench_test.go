package agents

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/memory"
)

// BenchmarkTurnOn100kHistory is the orchestrator's own time for one turn (the
// offline engine: no LLM time) on a contact whose conversation already holds
// 100,000 events. It reports p50 and p99 besides the mean.
func BenchmarkTurnOn100kHistory(b *testing.B) {
	e := newEnvTB(b)
	ctx := context.Background()
	first := []channels.Inbound{{ExternalID: "seed", Type: "text", Text: "oi", At: time.Now().Add(-time.Hour),
		From: channels.Sender{Name: "Marcos", Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "777"}}}}}
	if _, err := e.ing.Ingest(ctx, e.ch, channels.Batch{Messages: first}); err != nil {
		b.Fatal(err)
	}
	c, err := e.mem.FindByIdentity(ctx, e.acct, memory.Identity{Kind: memory.KindTelegram, Value: "777"})
	if err != nil {
		b.Fatal(err)
	}
	conv := *mustConversation(b, e, c.ID)
	history := make([]channels.Inbound, 0, 1000)
	t0 := time.Now().Add(-100 * 24 * time.Hour)
	for i := 0; i < 100_000; i++ {
		history = append(history, channels.Inbound{ExternalID: fmt.Sprintf("h%d", i), Type: "text",
			Text: "mensagem antiga sobre o pedido e o boleto", At: t0.Add(time.Duration(i) * time.Minute),
			From: channels.Sender{Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "777"}}}})
		if len(history) == cap(history) {
			if _, err := e.ing.Ingest(ctx, e.ch, channels.Batch{Messages: history}); err != nil {
				b.Fatal(err)
			}
			history = history[:0]
		}
	}
	// The backlog is answered once (its latest messages); then each turn is a new message.
	if err := e.orch.Turn(ctx, TurnArgs{AccountID: e.acct, ConversationID: conv, ContactID: c.ID}); err != nil {
		b.Fatal(err)
	}
	var durations []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		msg := channels.Inbound{ExternalID: uuid.NewString(), Type: "text", Text: "qual o prazo de entrega?", At: time.Now(),
			From: channels.Sender{Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "777"}}}}
		if _, err := e.ing.Ingest(ctx, e.ch, channels.Batch{Messages: []channels.Inbound{msg}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := e.orch.Turn(ctx, TurnArgs{AccountID: e.acct, ConversationID: conv, ContactID: c.ID}); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
	}
	slices.Sort(durations)
	b.ReportMetric(float64(durations[len(durations)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(durations[min(len(durations)-1, len(durations)*99/100)].Microseconds())/1000, "p99-ms")
}
