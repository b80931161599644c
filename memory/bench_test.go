package memory

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// withJobInserter makes appends enqueue their chunk job as in production (the
// jobs are not worked here).
func withJobInserter(b *testing.B, s *Store) {
	client, err := river.NewClient(riverpgxv5.New(s.pool), &river.Config{})
	if err != nil {
		b.Fatal(err)
	}
	s.jobs = client
}

// BenchmarkAppend measures one inbound message per transaction, the shape of
// webhook traffic: resolve-free append with dedupe on (channel, external id),
// and its chunk job enqueued in the same transaction.
func BenchmarkAppend(b *testing.B) {
	s, acct := newBenchStore(b)
	withJobInserter(b, s)
	c, err := s.Resolve(context.Background(), acct, KindWhatsApp, "5511987654321", Profile{Name: "Maria"})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		err := s.testTx(context.Background(), func(tx *txn) error {
			_, err := tx.Append(context.Background(), acct, inbound(c.Contact.ID, "whatsapp", "quero saber do meu pedido", fmt.Sprintf("wamid.%d", i), time.Now()))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkResolveAndAppend is a first message from a new number: contact,
// identity, phone field and message in one transaction.
func BenchmarkResolveAndAppend(b *testing.B) {
	s, acct := newBenchStore(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		err := s.testTx(context.Background(), func(tx *txn) error {
			res, err := tx.Resolve(context.Background(), acct, KindWhatsApp, fmt.Sprintf("55119%08d", i), Profile{Name: "Cliente"})
			if err != nil {
				return err
			}
			_, err = tx.Append(context.Background(), acct, inbound(res.Contact.ID, "whatsapp", "oi", fmt.Sprintf("wamid.%d", i), time.Now()))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkImport appends 100 events per transaction, as a history import does.
func BenchmarkImport(b *testing.B) {
	s, acct := newBenchStore(b)
	c, err := s.Resolve(context.Background(), acct, KindWhatsApp, "5511987654321", Profile{Name: "Maria"})
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]Event, 100)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for j := range batch {
			batch[j] = inbound(c.Contact.ID, "whatsapp", "mensagem importada", fmt.Sprintf("imp.%d.%d", i, j), time.Now())
		}
		if _, err := s.Import(context.Background(), acct, c.Contact.ID, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSearchHistory is one contact-scoped hybrid query over 1,000 messages.
func BenchmarkSearchHistory(b *testing.B) {
	s, acct := newBenchStore(b)
	contact := seedHistory(b, s, acct, 1000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.SearchHistory(context.Background(), acct, contact, "e o pedido que chegou quebrado?", 5); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoryView builds a 1,500-token view over 1,000 messages.
func BenchmarkMemoryView(b *testing.B) {
	s, acct := newBenchStore(b)
	contact := seedHistory(b, s, acct, 1000)
	v := newViewer(b, s)
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.View(context.Background(), acct, contact, ViewRequest{Query: "e o pedido que chegou quebrado?", Budget: 1500}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendParallel is BenchmarkAppend from several connections at once
// (one contact per goroutine), as concurrent webhooks arrive.
func BenchmarkAppendParallel(b *testing.B) {
	s, acct := newBenchStore(b)
	withJobInserter(b, s)
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := next.Add(1)
		c, err := s.Resolve(context.Background(), acct, KindWhatsApp, fmt.Sprintf("55119%08d", g), Profile{Name: "Cliente"})
		if err != nil {
			b.Error(err)
			return
		}
		for i := 0; pb.Next(); i++ {
			err := s.testTx(context.Background(), func(tx *txn) error {
				_, err := tx.Append(context.Background(), acct, inbound(c.Contact.ID, "whatsapp", "oi", fmt.Sprintf("wamid.%d.%d", g, i), time.Now()))
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
