package memory

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// EventByExternalID finds an event by the id its channel gave it (to attach a
// delivery status to the message it is about).
func (t *txn) EventByExternalID(ctx context.Context, accountID uuid.UUID, channel, externalID string) (Event, error) {
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

// EventByID reads one event of the account inside a transaction.
func (t *txn) EventByID(ctx context.Context, accountID uuid.UUID, id int64) (Event, error) {
	return eventByID(ctx, t.tx, accountID, id)
}

// MaxPendingInbound bounds how many unanswered messages one turn reads: after
// an outage or a connected backlog, only the latest ones still matter.
const MaxPendingInbound = 20

// PendingInbound returns the customer's messages of a conversation not yet
// answered — those after answeredThrough (the last one a turn answered) and
// after the last message a person sent them, at most the latest
// MaxPendingInbound — oldest first. A turn answers them together (three short
// WhatsApp messages in a row are one turn). The bot's own replies are not the
// cut: a message that arrived while a turn was deciding has a smaller id than
// that turn's reply, and is still unanswered.
func (s *Store) PendingInbound(ctx context.Context, accountID, conversationID uuid.UUID, answeredThrough int64) ([]Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT * FROM (SELECT `+eventColumns+` FROM events e
		WHERE e.account_id = $1 AND e.conversation_id = $2 AND e.kind = 'message' AND e.direction = 'in'
		AND e.id > greatest($4, coalesce((SELECT max(id) FROM events o WHERE o.account_id = $1 AND o.conversation_id = $2
			AND o.kind = 'message' AND o.direction = 'out' AND o.author <> 'ai'), 0))
		ORDER BY e.id DESC LIMIT $3) latest ORDER BY occurred_at, id`, accountID, conversationID, MaxPendingInbound, answeredThrough)
	if err != nil {
		return nil, fmt.Errorf("read unanswered messages of %s: %w", conversationID, err)
	}
	return collectEvents(rows)
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
	return lastCustomerMessage(ctx, s.pool, accountID, conversationID)
}

// LastCustomerMessageTx is LastCustomerMessage inside the caller's transaction.
func (s *Store) LastCustomerMessageTx(ctx context.Context, tx pgx.Tx, accountID, conversationID uuid.UUID) (Event, bool, error) {
	return lastCustomerMessage(ctx, tx, accountID, conversationID)
}

func lastCustomerMessage(ctx context.Context, q querier, accountID, conversationID uuid.UUID) (Event, bool, error) {
	e, err := scanEvent(q.QueryRow(ctx, `SELECT `+eventColumns+` FROM events
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
	return conversationMessages(ctx, s.pool, accountID, conversationID, limit)
}

// ConversationMessagesTx is ConversationMessages inside the caller's
// transaction (the handoff card is written in the turn's).
func (s *Store) ConversationMessagesTx(ctx context.Context, tx pgx.Tx, accountID, conversationID uuid.UUID, limit int) ([]Event, error) {
	return conversationMessages(ctx, tx, accountID, conversationID, limit)
}

func conversationMessages(ctx context.Context, q querier, accountID, conversationID uuid.UUID, limit int) ([]Event, error) {
	rows, err := q.Query(ctx, `SELECT * FROM (SELECT `+eventColumns+` FROM events e
		WHERE e.account_id = $1 AND e.conversation_id = $2 AND e.kind = 'message'
		ORDER BY e.id DESC LIMIT $3) latest ORDER BY occurred_at, id`, accountID, conversationID, limit)
	if err != nil {
		return nil, fmt.Errorf("read messages of %s: %w", conversationID, err)
	}
	return collectEvents(rows)
}

// HasInboundAfter reports whether the customer wrote again in a conversation
// after the message eventID: a turn for that message can leave the answer to
// the later message's own turn, which reads both.
func (s *Store) HasInboundAfter(ctx context.Context, accountID, conversationID uuid.UUID, eventID int64) (bool, error) {
	var later bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE account_id = $1 AND conversation_id = $2
		AND kind = 'message' AND direction = 'in' AND id > $3)`, accountID, conversationID, eventID).Scan(&later)
	if err != nil {
		return false, fmt.Errorf("read later messages of %s: %w", conversationID, err)
	}
	return later, nil
}
