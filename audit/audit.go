// Package audit keeps the account's audit trail: who did what, when, and
// whether it went through — an attendant in the inbox or an API key —
// for the actions a team lead and an auditor ask about (admin actions,
// field edits, merges, prompt activations, channel and secret changes,
// erasures, logins). Entries name people and records by id only.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ActorKind is who acted.
type ActorKind string

// The actors of the trail.
const (
	ActorAPIKey    ActorKind = "api_key"
	ActorAttendant ActorKind = "attendant"
	ActorSystem    ActorKind = "system"
)

// Outcome is whether the action went through.
type Outcome string

// The outcomes of an action.
const (
	OutcomeOK      Outcome = "ok"
	OutcomeRefused Outcome = "refused" // bad input, no permission, a wrong password
	OutcomeFailed  Outcome = "failed"  // the server could not
)

// Entry is one line of the trail.
type Entry struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	ActorKind ActorKind      `json:"actor_kind"`
	ActorID   string         `json:"actor_id,omitempty"`
	ActorName string         `json:"actor_name,omitempty"`
	Action    string         `json:"action"`
	Subject   string         `json:"subject,omitempty"`
	Outcome   Outcome        `json:"outcome"`
	Status    int            `json:"status,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Detail    map[string]any `json:"detail,omitempty"`
}

// Filter narrows a listing: a time range, an actor (id or name), an action
// prefix ("contact." is every contact action), a page.
type Filter struct {
	From, To time.Time
	Actor    string
	Action   string
	Before   int64 // an entry id: the page after it, newest first (by at, then id)
	Limit    int
}

// ErrBadFilter is a listing that cannot be answered as asked.
var ErrBadFilter = errors.New("bad audit filter")

// Store is the audit_log table.
type Store struct{ pool *pgxpool.Pool }

// NewStore returns the trail's store.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Record appends an entry in a statement of its own: what is recorded is
// what happened, whatever the caller's transaction did.
func (s *Store) Record(ctx context.Context, accountID uuid.UUID, e Entry) error {
	detail, err := json.Marshal(e.Detail)
	if err != nil || e.Detail == nil {
		detail = []byte("{}")
	}
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO audit_log (account_id, at, actor_kind, actor_id, actor_name, action, subject, outcome, status, request_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		accountID, at, e.ActorKind, e.ActorID, e.ActorName, e.Action, e.Subject, e.Outcome, e.Status, e.RequestID, detail)
	if err != nil {
		return fmt.Errorf("record audit entry %s: %w", e.Action, err)
	}
	return nil
}

// maxList bounds one page of the trail.
const maxList = 500

// List reads the account's trail, newest first.
func (s *Store) List(ctx context.Context, accountID uuid.UUID, f Filter) ([]Entry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > maxList {
		return nil, fmt.Errorf("%w: limit is at most %d", ErrBadFilter, maxList)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, fmt.Errorf("%w: from must be before to", ErrBadFilter)
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	var before *int64
	if f.Before > 0 {
		before = &f.Before
	}
	rows, err := s.pool.Query(ctx, `SELECT id, at, actor_kind, actor_id, actor_name, action, subject, outcome, status, request_id, detail
		FROM audit_log WHERE account_id = $1
		AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3)
		AND ($4 = '' OR actor_id = $4 OR actor_name ILIKE $4)
		AND ($5 = '' OR action = $5 OR starts_with(action, $5))
		AND ($6::bigint IS NULL OR (at, id) < (SELECT b.at, b.id FROM audit_log b WHERE b.account_id = $1 AND b.id = $6))
		ORDER BY at DESC, id DESC LIMIT $7`, accountID, from, to, f.Actor, f.Action, before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("read the audit trail: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		var detail []byte
		err := r.Scan(&e.ID, &e.At, &e.ActorKind, &e.ActorID, &e.ActorName, &e.Action, &e.Subject, &e.Outcome, &e.Status, &e.RequestID, &detail)
		if err == nil && len(detail) > 2 {
			_ = json.Unmarshal(detail, &e.Detail)
		}
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the audit trail: %w", err)
	}
	return out, nil
}
