package conversations

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned for a conversation that does not exist in the
// caller's account (another account's ids are reported the same way).
var ErrNotFound = errors.New("conversation not found")

// Status says who holds a conversation.
type Status string

// The statuses a conversation goes through: the bot answers, a card waits for
// a person, a person answers, and it ends.
const (
	StatusBot          Status = "bot"
	StatusPendingHuman Status = "pending_human"
	StatusHuman        Status = "human"
	StatusResolved     Status = "resolved"
)

// WithHuman reports whether a person holds (or is about to hold) the
// conversation, so the bot must stay silent.
func (s Status) WithHuman() bool { return s == StatusPendingHuman || s == StatusHuman }

// Conversation is one episode of a contact's history.
type Conversation struct {
	ID          uuid.UUID  `json:"id"`
	ContactID   uuid.UUID  `json:"contact_id"`
	Status      Status     `json:"status"`
	Sector      string     `json:"sector,omitempty"`
	AssigneeID  *uuid.UUID `json:"assignee_id,omitempty"`
	LastChannel string     `json:"last_channel,omitempty"`
	// AnsweredThrough is the id of the last customer message a turn answered.
	AnsweredThrough int64 `json:"answered_through"`
}

const columns = `id, contact_id, status, sector, assignee_id, last_channel, answered_through`

func scan(row pgx.Row) (Conversation, error) {
	var c Conversation
	err := row.Scan(&c.ID, &c.ContactID, &c.Status, &c.Sector, &c.AssigneeID, &c.LastChannel, &c.AnsweredThrough)
	return c, err
}

// Store reads conversations from the pool; writes take the caller's
// transaction.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewStore returns the conversations of the database.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool, now: time.Now} }

// TouchTx returns the contact's open conversation, opening one in the bot's
// hands if there is none, and records the channel and time of the latest
// message. One statement against the one-open-conversation index, so two
// webhooks for the same new contact at once open one conversation, not two.
// A customer who comes back after a resolution starts a new one.
func (s *Store) TouchTx(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, channel string, at time.Time) (Conversation, error) {
	if at.IsZero() {
		at = s.now()
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Conversation{}, fmt.Errorf("new conversation id: %w", err)
	}
	c, err := scan(tx.QueryRow(ctx, `INSERT INTO conversations (id, account_id, contact_id, last_channel, started_at, last_message_at)
		VALUES ($1, $2, $3, $4, $5, $5)
		ON CONFLICT (account_id, contact_id) WHERE status <> 'resolved'
		DO UPDATE SET last_channel = EXCLUDED.last_channel, last_message_at = greatest(conversations.last_message_at, EXCLUDED.last_message_at)
		RETURNING `+columns, id, accountID, contactID, channel, at))
	if err != nil {
		return c, fmt.Errorf("open conversation of %s: %w", contactID, err)
	}
	return c, nil
}

// Get reads a conversation of the account.
func (s *Store) Get(ctx context.Context, accountID, id uuid.UUID) (Conversation, error) {
	return get(ctx, s.pool, accountID, id)
}

// GetTx reads a conversation as the caller's transaction sees it.
func (s *Store) GetTx(ctx context.Context, tx pgx.Tx, accountID, id uuid.UUID) (Conversation, error) {
	return get(ctx, tx, accountID, id)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func get(ctx context.Context, q querier, accountID, id uuid.UUID) (Conversation, error) {
	c, err := scan(q.QueryRow(ctx, `SELECT `+columns+` FROM conversations WHERE account_id = $1 AND id = $2`, accountID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("conversation %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("read conversation %s: %w", id, err)
	}
	return c, nil
}

// SetTx records the sector that owns a conversation and who holds it.
func (s *Store) SetTx(ctx context.Context, tx pgx.Tx, accountID, id uuid.UUID, sector string, status Status) error {
	tag, err := tx.Exec(ctx, `UPDATE conversations SET sector = $3, status = $4,
		resolved_at = CASE WHEN $4 = 'resolved' THEN now() ELSE NULL END WHERE account_id = $1 AND id = $2`,
		accountID, id, sector, status)
	if err != nil {
		return fmt.Errorf("update conversation %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("conversation %s: %w", id, ErrNotFound)
	}
	return nil
}

// SetStatusTx changes who holds a conversation and keeps its sector.
func (s *Store) SetStatusTx(ctx context.Context, tx pgx.Tx, accountID, id uuid.UUID, status Status) error {
	tag, err := tx.Exec(ctx, `UPDATE conversations SET status = $3,
		resolved_at = CASE WHEN $3 = 'resolved' THEN now() ELSE NULL END WHERE account_id = $1 AND id = $2`, accountID, id, status)
	if err != nil {
		return fmt.Errorf("update conversation %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("conversation %s: %w", id, ErrNotFound)
	}
	return nil
}
