package notify

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/internal/testdb"
)

func woken(c <-chan struct{}, within time.Duration) bool {
	select {
	case <-c:
		return true
	case <-time.After(within):
		return false
	}
}

// A poke wakes this replica's subscribers of the topic at once, and only
// them; signals coalesce; an ended subscription hears nothing.
func TestPokeWakesTheTopicHere(t *testing.T) {
	h := New(nil) // no Run: nothing reaches the database
	a, stopA := h.Subscribe("inbox/a")
	b, stopB := h.Subscribe("inbox/b")
	defer stopB()
	h.Poke("inbox/a")
	h.Poke("inbox/a")
	if !woken(a, time.Second) {
		t.Fatal("the poked topic's subscriber was not woken")
	}
	if woken(a, 50*time.Millisecond) {
		t.Fatal("two pokes before a read are one signal")
	}
	if woken(b, 50*time.Millisecond) {
		t.Fatal("another topic's subscriber was woken")
	}
	stopA()
	h.Poke("inbox/a")
	if woken(a, 50*time.Millisecond) {
		t.Fatal("an ended subscription was woken")
	}
	if len(h.subs) != 1 {
		t.Fatalf("the ended topic is still held: %v", h.subs)
	}
}

// Another replica hears pokes (within pokeInterval), Notify at once, and Tx
// when its transaction commits, never when it rolls back.
func TestOtherReplicasHearTheTopic(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	here, there := New(pool), New(pool)
	go func() { _ = here.Run(ctx) }()
	go func() { _ = there.Run(ctx) }()
	c, stop := there.Subscribe("webchat/visitor")
	defer stop()
	// Run has to be listening before a notification can be heard: wait for it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN `+Channel+`'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the hubs never listened")
		}
		time.Sleep(20 * time.Millisecond)
	}

	here.Poke("webchat/visitor")
	if !woken(c, 5*time.Second) {
		t.Fatal("a poke here did not reach the other replica")
	}
	if err := here.Notify(ctx, "webchat/visitor"); err != nil {
		t.Fatal(err)
	}
	if !woken(c, 5*time.Second) {
		t.Fatal("Notify did not reach the other replica")
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := Tx(ctx, tx, "webchat/visitor"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if woken(c, 300*time.Millisecond) {
		t.Fatal("a rolled-back Tx woke the other replica")
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return Tx(ctx, tx, "webchat/visitor") }); err != nil {
		t.Fatal(err)
	}
	if !woken(c, 5*time.Second) {
		t.Fatal("a committed Tx did not reach the other replica")
	}
}
