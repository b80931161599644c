package memory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// ErrNotFound is returned when a contact, event or merge does not exist in the
// caller's account. Another account's ids are reported the same way, so ids
// leak nothing across tenants.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a request contradicts what is stored: two
// identifiers naming two different contacts, merging a contact into itself or
// into one already merged away.
var ErrConflict = errors.New("conflict")

// JobInserter enqueues River jobs inside the caller's transaction, so an event
// and the job that embeds it commit or roll back together. *river.Client[pgx.Tx]
// satisfies it, including an insert-only client.
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Store is the memory's entry point. Reads go straight to the pool; writes run
// in a transaction (see InTx) so channels can resolve a contact, append an
// event and enqueue work atomically.
type Store struct {
	pool     *pgxpool.Pool
	jobs     JobInserter
	embedder Embedder
	log      *slog.Logger
	now      func() time.Time
	indexed  sync.Map // embedding model -> dims whose vector indexes exist
}

// NewStore wires the memory to its database, the job queue that embeds history
// and the embedder used for retrieval.
func NewStore(pool *pgxpool.Pool, jobs JobInserter, embedder Embedder, log *slog.Logger) *Store {
	return &Store{pool: pool, jobs: jobs, embedder: embedder, log: log, now: time.Now}
}

// Embedder returns the embedder the store retrieves with.
func (s *Store) Embedder() Embedder { return s.embedder }

// Tx is one memory transaction. Its methods are the store's write operations;
// nothing is visible to others until InTx returns nil.
type Tx struct {
	tx pgx.Tx
	s  *Store
}

// PgxTx exposes the underlying transaction so a caller (a webhook handler) can
// enqueue its own jobs atomically with what the memory wrote.
func (t *Tx) PgxTx() pgx.Tx { return t.tx }

// InTx runs fn in one database transaction, committing when it returns nil.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(&Tx{tx: tx, s: s})
	})
}

func inTxValue[T any](ctx context.Context, s *Store, fn func(*Tx) (T, error)) (T, error) {
	var out T
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

func notFound(what string, id any) error {
	return fmt.Errorf("%s %v: %w", what, id, ErrNotFound)
}
