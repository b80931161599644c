package conversations

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/testdb"
)

func newContact(t *testing.T, pool *pgxpool.Pool, acct uuid.UUID) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	if _, err := pool.Exec(context.Background(), `INSERT INTO contacts (id, account_id) VALUES ($1, $2)`, id, acct); err != nil {
		t.Fatal(err)
	}
	return id
}

func touch(t *testing.T, s *Store, pool *pgxpool.Pool, acct, contact uuid.UUID) (Conversation, error) {
	t.Helper()
	var c Conversation
	err := database.InTx(context.Background(), pool, func(tx pgx.Tx) error {
		var err error
		c, err = s.TouchTx(context.Background(), tx, acct, contact, "whatsapp", time.Now())
		return err
	})
	return c, err
}

// Two webhooks for a contact with no open conversation, at once, open one
// conversation between them (before: each opened its own).
func TestConcurrentMessagesOpenOneConversation(t *testing.T) {
	pool, _ := testdb.New(t)
	acct := testdb.NewAccount(t, pool, "loja")
	s := NewStore(pool)
	contact := newContact(t, pool, acct)
	const n = 12
	ids := make([]uuid.UUID, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := touch(t, s, pool, acct, contact)
			ids[i], errs[i] = c.ID, err
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("message %d landed in conversation %s, message 0 in %s", i, ids[i], ids[0])
		}
	}
	var open int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM conversations WHERE contact_id = $1 AND status <> 'resolved'`, contact).Scan(&open); err != nil || open != 1 {
		t.Fatalf("one open conversation, got %d (%v)", open, err)
	}
	// After a resolution the next message starts a new one.
	err := database.InTx(context.Background(), pool, func(tx pgx.Tx) error {
		return s.SetStatusTx(context.Background(), tx, acct, ids[0], StatusResolved)
	})
	if err != nil {
		t.Fatal(err)
	}
	next, err := touch(t, s, pool, acct, contact)
	if err != nil || next.ID == ids[0] || next.Status != StatusBot {
		t.Fatalf("a new conversation after the resolution: %+v, %v", next, err)
	}
}

func TestTurnLease(t *testing.T) {
	pool, _ := testdb.New(t)
	acct := testdb.NewAccount(t, pool, "loja")
	s := NewStore(pool)
	c, err := touch(t, s, pool, acct, newContact(t, pool, acct))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := s.ClaimTurn(ctx, acct, c.ID, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var busy ErrBusy
	if _, err := s.ClaimTurn(ctx, acct, c.ID, time.Minute); !errors.As(err, &busy) || busy.Until.Before(time.Now().Add(50*time.Second)) {
		t.Fatalf("a held conversation is busy until the lease ends: %v", err)
	}
	other := testdb.NewAccount(t, pool, "outra")
	if _, err := s.ClaimTurn(ctx, other, c.ID, time.Minute); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another account's conversation is not found: %v", err)
	}
	answer := func(l TurnLease, through int64) error {
		return database.InTx(ctx, pool, func(tx pgx.Tx) error { return s.AnswerTx(ctx, tx, l, "vendas", StatusBot, through) })
	}
	if err := answer(first, 10); err != nil {
		t.Fatal(err)
	}
	// The holder dies; its lease runs out; the next turn takes over, and the
	// old holder, come back, can no longer answer.
	if _, err := pool.Exec(ctx, `UPDATE conversations SET turn_lease_until = now() - interval '1 second' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	second, err := s.ClaimTurn(ctx, acct, c.ID, time.Minute)
	if err != nil {
		t.Fatalf("an expired lease is taken over: %v", err)
	}
	if second.Conversation.AnsweredThrough != 10 || second.Conversation.Sector != "vendas" {
		t.Fatalf("the lease reads the conversation: %+v", second.Conversation)
	}
	if err := answer(first, 20); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("a turn that lost its lease writes nothing: %v", err)
	}
	if err := s.ReleaseTurn(ctx, first); err != nil { // a stale release frees nothing
		t.Fatal(err)
	}
	if _, err := s.ClaimTurn(ctx, acct, c.ID, time.Minute); !errors.As(err, &busy) {
		t.Fatalf("a stale release must not free the new holder's lease: %v", err)
	}
	if err := answer(second, 5); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, acct, c.ID)
	if got.AnsweredThrough != 10 {
		t.Fatalf("answered_through never goes back: %d", got.AnsweredThrough)
	}
	if err := s.ReleaseTurn(ctx, second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimTurn(ctx, acct, c.ID, time.Minute); err != nil {
		t.Fatalf("a released conversation can be claimed: %v", err)
	}
}
