package conversations

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Live is a conversation the bot is handling now, with when it began and
// when the customer or the bot last wrote.
type Live struct {
	Conversation
	StartedAt     time.Time `json:"started_at"`
	LastMessageAt time.Time `json:"last_message_at"`
}

// Live lists the conversations the bot holds that had a message within the
// last within, newest first: what a supervisor watches to step in before the
// customer has to ask for a person.
func (s *Store) Live(ctx context.Context, accountID uuid.UUID, within time.Duration, limit int) ([]Live, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+`, started_at, last_message_at FROM conversations
		WHERE account_id = $1 AND status = 'bot' AND last_message_at > $2
		ORDER BY last_message_at DESC, id DESC LIMIT $3`, accountID, s.now().Add(-within), limit)
	if err != nil {
		return nil, fmt.Errorf("list live conversations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Live, error) {
		var l Live
		err := r.Scan(&l.ID, &l.ContactID, &l.Status, &l.Sector, &l.AssigneeID, &l.LastChannel, &l.AnsweredThrough, &l.StartedAt, &l.LastMessageAt)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("list live conversations: %w", err)
	}
	return out, nil
}
