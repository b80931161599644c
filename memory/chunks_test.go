package memory

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

func TestChunkJobEmbedsNewHistoryThroughRiver(t *testing.T) {
	s, acct := newTestStore(t)
	ctx := context.Background()
	workers := river.NewWorkers()
	river.AddWorker(workers, NewChunkWorker(s))
	client, err := river.NewClient(riverpgxv5.New(s.pool), &river.Config{
		Queues:            map[string]river.QueueConfig{ChunkQueue: {MaxWorkers: 2}},
		Workers:           workers,
		FetchPollInterval: 100 * time.Millisecond,
		TestOnly:          true,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.jobs = client
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(context.Background()) })

	c := mustResolve(t, s, acct, KindWhatsApp, "5511987654321", "Maria")
	for i, text := range []string{"oi", "minha encomenda veio com a tampa rachada", "preciso de uma troca"} {
		mustAppend(t, s, acct, inbound(c.ID, "whatsapp", text, "wamid."+string(rune('a'+i)), fixedTime.Add(time.Duration(i)*time.Minute)))
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var chunked int
		if err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(event_count), 0) FROM memory_chunks WHERE account_id = $1 AND contact_id = $2`,
			acct, c.ID).Scan(&chunked); err != nil {
			t.Fatal(err)
		}
		if chunked == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15s only %d of 3 messages embedded", chunked)
		}
		time.Sleep(100 * time.Millisecond)
	}
	hits, err := s.SearchHistory(ctx, acct, c.ID, "tampa rachada", 3)
	if err != nil || len(hits) != 1 || hits[0].TextRank != 1 {
		t.Fatalf("the partial window must be searchable: %+v %v", hits, err)
	}
	// A fourth message re-cuts the partial window: still one chunk, now of four.
	mustAppend(t, s, acct, inbound(c.ID, "whatsapp", "obrigada", "wamid.d", fixedTime.Add(time.Hour)))
	for {
		var chunks, events int
		if err := s.pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(event_count), 0) FROM memory_chunks WHERE account_id = $1 AND contact_id = $2`,
			acct, c.ID).Scan(&chunks, &events); err != nil {
			t.Fatal(err)
		}
		if chunks == 1 && events == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the fourth message: %d chunks over %d events", chunks, events)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
