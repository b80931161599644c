// Package webhooks sends Atende's events to the business's own systems (how
// n8n workflows plug in): subscriptions per account, each event a delivery
// recorded in the transaction that caused it, POSTed by a River job signed
// with HMAC-SHA256, retried with backoff, with a delivery log.
package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/atende/atende/internal/secretbox"
)

// The events a subscription may ask for.
const (
	MessageCreated  = "message.created"
	HandoffCreated  = "handoff.created"
	HandoffAssigned = "handoff.assigned"
	HandoffResolved = "handoff.resolved"
	SLABreached     = "sla.breached"
	ContactMerged   = "contact.merged"
	CSATReceived    = "csat.received"
	// ContactErased says a person was erased, with their ids only: the
	// subscriber erases what it keeps about them too.
	ContactErased = "contact.erased"
	// TagAdded and TagRemoved say a tag was put on or taken off a contact
	// or a conversation, and by whom.
	TagAdded   = "tag.added"
	TagRemoved = "tag.removed"
)

// Events lists every event, for validation and documentation.
var Events = []string{MessageCreated, HandoffCreated, HandoffAssigned, HandoffResolved, SLABreached, ContactMerged, CSATReceived, ContactErased, TagAdded, TagRemoved}

// Errors callers branch on.
var (
	ErrInvalid  = errors.New("invalid webhook subscription")
	ErrNotFound = errors.New("webhook subscription not found")
)

// JobInserter enqueues jobs in the caller's transaction.
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Subscription is where an account wants some events sent.
type Subscription struct {
	ID        uuid.UUID `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Secret    string    `json:"secret,omitempty"` // shown once, when created
	CreatedAt time.Time `json:"created_at"`
}

// Delivery is one event sent (or being sent) to one subscription.
type Delivery struct {
	ID          int64           `json:"id"`
	Event       string          `json:"event"`
	Payload     json.RawMessage `json:"payload"`
	Status      string          `json:"status"`
	Attempts    int             `json:"attempts"`
	LastStatus  *int            `json:"last_status,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	DeliveredAt *time.Time      `json:"delivered_at,omitempty"`
}

// Store keeps subscriptions and deliveries (it owns their tables). The
// signing secrets are stored sealed and opened only to sign a delivery.
type Store struct {
	pool *pgxpool.Pool
	box  *secretbox.Box
	jobs JobInserter
	now  func() time.Time
}

// NewStore returns the store; box seals and opens the subscriptions'
// secrets, jobs enqueues deliveries.
func NewStore(pool *pgxpool.Pool, box *secretbox.Box, jobs JobInserter) *Store {
	return &Store{pool: pool, box: box, jobs: jobs, now: time.Now}
}

// Subscribe adds a subscription. An empty secret is generated (32 random
// bytes, hex) and returned this once.
func (s *Store) Subscribe(ctx context.Context, accountID uuid.UUID, rawURL, secret string, events []string) (Subscription, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Subscription{}, fmt.Errorf("%w: url %q must be http(s)://host/...", ErrInvalid, rawURL)
	}
	if len(events) == 0 {
		return Subscription{}, fmt.Errorf("%w: name at least one event (%v)", ErrInvalid, Events)
	}
	for _, e := range events {
		if !slices.Contains(Events, e) {
			return Subscription{}, fmt.Errorf("%w: unknown event %q (%v)", ErrInvalid, e, Events)
		}
	}
	if secret == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		secret = hex.EncodeToString(b)
	}
	sub := Subscription{ID: uuid.Must(uuid.NewV7()), URL: rawURL, Events: events, Secret: secret}
	sealed, err := s.box.Seal(secret)
	if err != nil {
		return Subscription{}, fmt.Errorf("subscribe %s: %w", rawURL, err)
	}
	err = s.pool.QueryRow(ctx, `INSERT INTO webhook_subscriptions (id, account_id, url, secret, events) VALUES ($1, $2, $3, $4, $5)
		RETURNING created_at`, sub.ID, accountID, rawURL, sealed, events).Scan(&sub.CreatedAt)
	if err != nil {
		return Subscription{}, fmt.Errorf("subscribe %s: %w", rawURL, err)
	}
	return sub, nil
}

// List returns the account's subscriptions, secrets left out.
func (s *Store) List(ctx context.Context, accountID uuid.UUID) ([]Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, url, events, created_at FROM webhook_subscriptions WHERE account_id = $1 ORDER BY created_at`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Subscription, error) {
		var sub Subscription
		return sub, r.Scan(&sub.ID, &sub.URL, &sub.Events, &sub.CreatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return out, nil
}

// Delete removes a subscription and its log.
func (s *Store) Delete(ctx context.Context, accountID, id uuid.UUID) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhook_subscriptions WHERE account_id = $1 AND id = $2`, accountID, id)
	if err != nil {
		return fmt.Errorf("delete webhook %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Deliveries is a subscription's delivery log, newest first.
func (s *Store) Deliveries(ctx context.Context, accountID, subscriptionID uuid.UUID, limit int) ([]Delivery, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_subscriptions WHERE account_id = $1 AND id = $2)`,
		accountID, subscriptionID).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	if !exists {
		return nil, ErrNotFound
	}
	rows, err := s.pool.Query(ctx, `SELECT id, event, payload, status, attempts, last_status, last_error, created_at, delivered_at
		FROM webhook_deliveries WHERE account_id = $1 AND subscription_id = $2 ORDER BY id DESC LIMIT $3`, accountID, subscriptionID, limit)
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		return d, r.Scan(&d.ID, &d.Event, &d.Payload, &d.Status, &d.Attempts, &d.LastStatus, &d.LastError, &d.CreatedAt, &d.DeliveredAt)
	})
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	return out, nil
}

// Emit records the event for every subscription that wants it and enqueues
// their deliveries, in the caller's transaction: an event is sent if and
// only if what caused it was committed.
func (s *Store) Emit(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, event string, data any) error {
	payload, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s: %w", event, err)
	}
	rows, err := tx.Query(ctx, `INSERT INTO webhook_deliveries (account_id, subscription_id, event, payload)
		SELECT account_id, id, $2, $3 FROM webhook_subscriptions WHERE account_id = $1 AND $2 = ANY (events)
		RETURNING id`, accountID, event, payload)
	if err != nil {
		return fmt.Errorf("emit %s: %w", event, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("emit %s: %w", event, err)
	}
	for _, id := range ids {
		if _, err := s.jobs.InsertTx(ctx, tx, DeliverArgs{AccountID: accountID, DeliveryID: id}, nil); err != nil {
			return fmt.Errorf("enqueue delivery of %s: %w", event, err)
		}
	}
	return nil
}

// EmitNow is Emit in a transaction of its own, for events whose cause was
// committed by someone else (a merge by hand).
func (s *Store) EmitNow(ctx context.Context, accountID uuid.UUID, event string, data any) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.Emit(ctx, tx, accountID, event, data) })
}
