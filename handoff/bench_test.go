package handoff

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
)

// BenchmarkOpenHandoff is the cost of opening a card in a turn: the
// extractive card over the conversation, choosing the owner among 20 team
// members (with the team lock), the insert, the SLA job, the events. Beside
// it, in the same run, the floor: appending one event to the timeline.
func BenchmarkOpenHandoff(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	var members []string
	for i := range 20 {
		a := e.attendant(b, fmt.Sprintf("a%02d@loja.com", i), 100000)
		members = append(members, a.Email)
	}
	if err := e.svc.PutTeams(ctx, e.acct, []Team{{Name: "suporte", Members: members}}); err != nil {
		b.Fatal(err)
	}
	report := func(b *testing.B, d []time.Duration) {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(d[min(len(d)-1, len(d)*99/100)].Microseconds())/1000, "p99-ms")
	}
	b.Run("open", func(b *testing.B) {
		var d []time.Duration
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			contact, conv := e.conversation(b, fmt.Sprintf("b%d-%s", i, uuid.NewString()[:8]), "meu fone parou de carregar, pedido 48213, e eu preciso dele pra trabalhar")
			b.StartTimer()
			start := time.Now()
			e.open(b, contact, conv, Request{Reason: "asked_for_person", Team: "suporte", Sector: "support", Like: "support", SLA: time.Hour})
			d = append(d, time.Since(start))
		}
		report(b, d)
	})
	b.Run("append-baseline", func(b *testing.B) {
		contact, conv := e.conversation(b, "baseline", "oi")
		var d []time.Duration
		for b.Loop() {
			start := time.Now()
			if err := database.InTx(ctx, e.pool, func(tx pgx.Tx) error {
				_, err := e.mem.AppendTx(ctx, tx, e.acct, memory.Event{ContactID: contact, ConversationID: &conv, Kind: memory.EventNote,
					Direction: memory.DirectionInternal, Author: memory.AuthorHuman, Text: "nota"})
				return err
			}); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(start))
		}
		report(b, d)
	})
}
