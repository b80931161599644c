package memory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TouchConversation returns the contact's open conversation (any status but
// resolved), opening one in the bot's hands if there is none, and records the
// channel and time of the latest message. Conversations are episodes of the
// one history: a customer who comes back after a resolution starts a new one.
func (t *Tx) TouchConversation(ctx context.Context, accountID, contactID uuid.UUID, channel string, at time.Time) (ConversationState, error) {
	if at.IsZero() {
		at = t.s.now()
	}
	var c ConversationState
	err := t.tx.QueryRow(ctx, `UPDATE conversations SET last_channel = $3, last_message_at = greatest(last_message_at, $4)
		WHERE id = (SELECT id FROM conversations WHERE account_id = $1 AND contact_id = $2 AND status <> 'resolved'
			ORDER BY last_message_at DESC LIMIT 1 FOR UPDATE)
		RETURNING id, status, sector, assignee_id, last_channel`, accountID, contactID, channel, at).
		Scan(&c.ID, &c.Status, &c.Sector, &c.AssigneeID, &c.LastChannel)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("touch conversation of %s: %w", contactID, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return c, fmt.Errorf("new conversation id: %w", err)
	}
	err = t.tx.QueryRow(ctx, `INSERT INTO conversations (id, account_id, contact_id, last_channel, started_at, last_message_at)
		VALUES ($1, $2, $3, $4, $5, $5) RETURNING id, status, sector, assignee_id, last_channel`,
		id, accountID, contactID, channel, at).Scan(&c.ID, &c.Status, &c.Sector, &c.AssigneeID, &c.LastChannel)
	if err != nil {
		return c, fmt.Errorf("open conversation of %s: %w", contactID, err)
	}
	return c, nil
}

// EventByExternalID finds an event by the id its channel gave it (to attach a
// delivery status to the message it is about).
func (t *Tx) EventByExternalID(ctx context.Context, accountID uuid.UUID, channel, externalID string) (Event, error) {
	e, err := scanEvent(t.tx.QueryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE account_id = $1 AND channel = $2 AND external_id = $3`,
		accountID, channel, externalID))
	if errors.Is(err, pgx.ErrNoRows) {
		return e, notFound("event", externalID)
	}
	if err != nil {
		return e, fmt.Errorf("find event %s: %w", externalID, err)
	}
	return e, nil
}

// Conversation reads a conversation of the account.
func (s *Store) Conversation(ctx context.Context, accountID, id uuid.UUID) (ConversationState, error) {
	var c ConversationState
	err := s.pool.QueryRow(ctx, `SELECT id, contact_id, status, sector, assignee_id, last_channel FROM conversations
		WHERE account_id = $1 AND id = $2`, accountID, id).Scan(&c.ID, &c.ContactID, &c.Status, &c.Sector, &c.AssigneeID, &c.LastChannel)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, notFound("conversation", id)
	}
	if err != nil {
		return c, fmt.Errorf("read conversation %s: %w", id, err)
	}
	return c, nil
}

// SetConversation records the sector that owns a conversation and its status
// (bot, pending_human, human, resolved).
func (t *Tx) SetConversation(ctx context.Context, accountID, id uuid.UUID, sector, status string) error {
	tag, err := t.tx.Exec(ctx, `UPDATE conversations SET sector = $3, status = $4,
		resolved_at = CASE WHEN $4 = 'resolved' THEN now() ELSE NULL END WHERE account_id = $1 AND id = $2`,
		accountID, id, sector, status)
	if err != nil {
		return fmt.Errorf("update conversation %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("conversation", id)
	}
	return nil
}

// MaxPendingInbound bounds how many unanswered messages one turn reads: after
// an outage or a connected backlog, only the latest ones still matter.
const MaxPendingInbound = 20

// PendingInbound returns the customer's messages of a conversation not yet
// answered — those after the last message sent to them, at most the latest
// MaxPendingInbound — oldest first. A turn answers them together (three short
// WhatsApp messages in a row are one turn).
func (s *Store) PendingInbound(ctx context.Context, accountID, conversationID uuid.UUID) ([]Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT * FROM (SELECT `+eventColumns+` FROM events e
		WHERE e.account_id = $1 AND e.conversation_id = $2 AND e.kind = 'message' AND e.direction = 'in'
		AND e.id > coalesce((SELECT max(id) FROM events o WHERE o.account_id = $1 AND o.conversation_id = $2
			AND o.kind = 'message' AND o.direction = 'out'), 0)
		ORDER BY e.id DESC LIMIT $3) latest ORDER BY occurred_at, id`, accountID, conversationID, MaxPendingInbound)
	if err != nil {
		return nil, fmt.Errorf("read unanswered messages of %s: %w", conversationID, err)
	}
	return collectEvents(rows)
}

// LockConversation holds a session advisory lock on a conversation until
// unlock is called, so its turns run one at a time even across replicas.
func (s *Store) LockConversation(ctx context.Context, conversationID uuid.UUID) (unlock func(), err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock conversation %s: %w", conversationID, err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended($1, 11))`, conversationID.String()); err != nil {
		conn.Release()
		return nil, fmt.Errorf("lock conversation %s: %w", conversationID, err)
	}
	return func() {
		_, _ = conn.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtextextended($1, 11))`, conversationID.String())
		conn.Release()
	}, nil
}

// LastDecision returns the latest AI decision event of a conversation (an
// action or handoff by ai whose payload names an engine), false when the AI
// has not decided anything there yet.
func (s *Store) LastDecision(ctx context.Context, accountID, conversationID uuid.UUID) (Event, bool, error) {
	e, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventColumns+` FROM events
		WHERE account_id = $1 AND conversation_id = $2 AND author = 'ai' AND kind IN ('action', 'handoff')
		AND payload ? 'engine' ORDER BY id DESC LIMIT 1`, accountID, conversationID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Event{}, false, nil
	}
	if err != nil {
		return Event{}, false, fmt.Errorf("read last decision of %s: %w", conversationID, err)
	}
	return e, true, nil
}

// LastCustomerMessage returns the latest message the customer sent in a
// conversation, false when there is none.
func (s *Store) LastCustomerMessage(ctx context.Context, accountID, conversationID uuid.UUID) (Event, bool, error) {
	e, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventColumns+` FROM events
		WHERE account_id = $1 AND conversation_id = $2 AND kind = 'message' AND direction = 'in'
		ORDER BY id DESC LIMIT 1`, accountID, conversationID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Event{}, false, nil
	}
	if err != nil {
		return Event{}, false, fmt.Errorf("read last message of %s: %w", conversationID, err)
	}
	return e, true, nil
}

// ConversationMessages returns the latest limit messages of a conversation,
// in the order they happened (the handoff card reads them).
func (s *Store) ConversationMessages(ctx context.Context, accountID, conversationID uuid.UUID, limit int) ([]Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT * FROM (SELECT `+eventColumns+` FROM events e
		WHERE e.account_id = $1 AND e.conversation_id = $2 AND e.kind = 'message'
		ORDER BY e.id DESC LIMIT $3) latest ORDER BY occurred_at, id`, accountID, conversationID, limit)
	if err != nil {
		return nil, fmt.Errorf("read messages of %s: %w", conversationID, err)
	}
	return collectEvents(rows)
}

// SetConversationStatus changes a conversation's status (bot, pending_human,
// human, resolved) and keeps its sector.
func (t *Tx) SetConversationStatus(ctx context.Context, accountID, id uuid.UUID, status string) error {
	tag, err := t.tx.Exec(ctx, `UPDATE conversations SET status = $3,
		resolved_at = CASE WHEN $3 = 'resolved' THEN now() ELSE NULL END WHERE account_id = $1 AND id = $2`, accountID, id, status)
	if err != nil {
		return fmt.Errorf("update conversation %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("conversation", id)
	}
	return nil
}

// RequestCSAT marks a (resolved) conversation as waiting for the customer's
// satisfaction score.
func (t *Tx) RequestCSAT(ctx context.Context, accountID, id uuid.UUID) error {
	_, err := t.tx.Exec(ctx, `UPDATE conversations SET csat_requested_at = now(), csat_score = NULL WHERE account_id = $1 AND id = $2`, accountID, id)
	if err != nil {
		return fmt.Errorf("request csat on %s: %w", id, err)
	}
	return nil
}

// AwaitingCSAT returns the contact's conversation whose score was asked for
// after since and not given yet, false when there is none.
func (s *Store) AwaitingCSAT(ctx context.Context, accountID, contactID uuid.UUID, since time.Time) (ConversationState, bool, error) {
	var c ConversationState
	err := s.pool.QueryRow(ctx, `SELECT id, contact_id, status, sector, assignee_id, last_channel FROM conversations
		WHERE account_id = $1 AND contact_id = $2 AND csat_requested_at > $3 AND csat_score IS NULL
		ORDER BY csat_requested_at DESC LIMIT 1`, accountID, contactID, since).Scan(&c.ID, &c.ContactID, &c.Status, &c.Sector, &c.AssigneeID, &c.LastChannel)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("read csat of %s: %w", contactID, err)
	}
	return c, true, nil
}

// RecordCSATScore stores the score a conversation got.
func (t *Tx) RecordCSATScore(ctx context.Context, accountID, id uuid.UUID, score int) error {
	_, err := t.tx.Exec(ctx, `UPDATE conversations SET csat_score = $3 WHERE account_id = $1 AND id = $2`, accountID, id, score)
	if err != nil {
		return fmt.Errorf("record csat on %s: %w", id, err)
	}
	return nil
}
