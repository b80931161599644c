package memory

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/testdb"
)

// newTestStore returns a store on a fresh database and a new account in it.
// Jobs are not enqueued (nil inserter): tests that need chunks call ChunkContact.
func newTestStore(t *testing.T) (*Store, uuid.UUID) { return newBenchStore(t) }

// newBenchStore is newTestStore for tests and benchmarks alike.
func newBenchStore(t testing.TB) (*Store, uuid.UUID) {
	t.Helper()
	pool, _ := testdb.New(t)
	store := NewStore(pool, nil, NewHashEmbedder(DefaultHashDims), slog.New(slog.NewTextHandler(io.Discard, nil)))
	return store, testdb.NewAccount(t, pool, "acme")
}

func mustResolve(t *testing.T, s *Store, account uuid.UUID, kind IdentityKind, value, name string) Contact {
	t.Helper()
	res, err := s.Resolve(context.Background(), account, kind, value, Profile{Name: name, Channel: string(kind)})
	if err != nil {
		t.Fatalf("resolve %s:%s: %v", kind, value, err)
	}
	return res.Contact
}

func mustAppend(t *testing.T, s *Store, account uuid.UUID, e Event) AppendResult {
	t.Helper()
	var res AppendResult
	err := s.testTx(context.Background(), func(tx *txn) error {
		var err error
		res, err = tx.Append(context.Background(), account, e)
		return err
	})
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return res
}

func inbound(contact uuid.UUID, channel, text, externalID string, at time.Time) Event {
	return Event{ContactID: contact, Kind: EventMessage, Direction: DirectionIn, Author: AuthorContact,
		Channel: channel, Text: text, ExternalID: externalID, OccurredAt: at}
}

func allEvents(t *testing.T, s *Store, account, contact uuid.UUID) []Event {
	t.Helper()
	var out []Event
	var cursor *Cursor
	for {
		page, err := s.Timeline(context.Background(), account, contact, cursor, 50)
		if err != nil {
			t.Fatalf("timeline: %v", err)
		}
		out = append(out, page.Events...)
		if page.Next == nil {
			return out
		}
		cursor = page.Next
	}
}

func newAccountIn(t *testing.T, s *Store, slug string) uuid.UUID {
	return testdb.NewAccount(t, s.pool, slug)
}

var fixedTime = time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)

// testTx runs fn in a transaction, as a caller's database.InTx would.
func (s *Store) testTx(ctx context.Context, fn func(*txn) error) error {
	return database.InTx(ctx, s.pool, func(tx pgx.Tx) error { return fn(s.bind(tx)) })
}
