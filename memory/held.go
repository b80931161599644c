package memory

import (
	"context"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// HeldMessagesTx lists the outbound messages to a contact on a channel that
// are held until the customer answers (their last status is "held": the
// messaging window was closed and a re-engagement template went instead),
// oldest first. The customer's message that reopens the window releases them.
// Each is keyed by the "held" status that holds it (HeldMessage.Hold), so
// that releases of the same hold are one delivery.
func (s *Store) HeldMessagesTx(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, channel string) ([]HeldMessage, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT ON (id) (h.payload->>'message_event_id')::bigint AS id, h.id AS hold FROM events h
		WHERE h.account_id = $1 AND h.contact_id = $2 AND h.channel = $3 AND h.kind = 'status' AND h.payload->>'status' = 'held'
		AND NOT EXISTS (SELECT 1 FROM events l WHERE l.account_id = $1 AND l.contact_id = $2 AND l.kind = 'status'
			AND l.payload->>'message_event_id' = h.payload->>'message_event_id' AND l.id > h.id)
		ORDER BY id, hold DESC`, accountID, contactID, channel)
	if err != nil {
		return nil, fmt.Errorf("read held messages of %s: %w", contactID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowToStructByPos[HeldMessage])
	if err != nil {
		return nil, fmt.Errorf("read held messages of %s: %w", contactID, err)
	}
	return ids, nil
}

// HeldMessage is a held outbound message (Message) and the "held" status
// event that holds it (Hold).
type HeldMessage struct {
	Message int64
	Hold    int64
}

// TemplateSinceTx says whether a template message went to the contact on
// the channel after the event after (its last inbound message): one
// re-engagement template is enough while the customer has not answered.
// A template the platform refused (a failed status) reached nobody and
// does not count: the next held message tries again.
func (s *Store) TemplateSinceTx(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, channel string, after int64) (bool, error) {
	var yes bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events t WHERE t.account_id = $1 AND t.contact_id = $2 AND t.channel = $3
		AND t.kind = 'message' AND t.direction = 'out' AND t.payload ? 'template' AND t.payload->'template' <> 'null'::jsonb AND t.id > $4
		AND NOT EXISTS (SELECT 1 FROM events f WHERE f.account_id = $1 AND f.kind = 'status'
			AND f.payload->>'message_event_id' = t.id::text AND f.payload->>'status' = 'failed'))`,
		accountID, contactID, channel, after).Scan(&yes)
	if err != nil {
		return false, fmt.Errorf("read templates sent to %s since %s: %w", contactID, strconv.FormatInt(after, 10), err)
	}
	return yes, nil
}
