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

	"github.com/atende/atende/internal/database"
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

// Store is the memory's entry point. Reads go straight to the pool; writes
// take the caller's transaction (the ...Tx methods) so channels can resolve a
// contact, append an event and enqueue work atomically.
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

// txn is the memory's view of a caller's transaction: its methods are the
// write operations, exported through the Store's ...Tx methods, which take the
// caller's pgx.Tx (River's InsertTx style) so memory writes join whatever unit
// of work the caller runs with database.InTx.
type txn struct {
	tx pgx.Tx
	s  *Store
}

func (s *Store) bind(tx pgx.Tx) *txn { return &txn{tx: tx, s: s} }

// inTxValue runs fn in a transaction of the memory's own, for the operations
// that are a whole unit of work by themselves (an API merge, a note).
func inTxValue[T any](ctx context.Context, s *Store, fn func(*txn) (T, error)) (T, error) {
	var out T
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = fn(s.bind(tx))
		return err
	})
	return out, err
}

func notFound(what string, id any) error {
	return fmt.Errorf("%s %v: %w", what, id, ErrNotFound)
}
