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
