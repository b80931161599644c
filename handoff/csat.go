package handoff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The handoff package owns CSAT: a resolved conversation asks the customer
// for a score (csat_requests), and the next message that reads as one within
// csatWindow becomes it.

// requestCSATTx records that a resolved conversation waits for the
// customer's score (asking again clears an earlier score).
func requestCSATTx(ctx context.Context, tx pgx.Tx, accountID, contactID, conversationID uuid.UUID, at time.Time) error {
	if _, err := tx.Exec(ctx, `INSERT INTO csat_requests (conversation_id, account_id, contact_id, requested_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (conversation_id) DO UPDATE SET requested_at = EXCLUDED.requested_at, score = NULL, scored_at = NULL`,
		conversationID, accountID, contactID, at); err != nil {
		return fmt.Errorf("request csat on %s: %w", conversationID, err)
	}
	return nil
}

// awaitingCSAT returns the contact's conversation whose score was asked for
// after since and not given yet, false when there is none.
func awaitingCSAT(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, since time.Time) (uuid.UUID, bool, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `SELECT conversation_id FROM csat_requests
		WHERE account_id = $1 AND contact_id = $2 AND requested_at > $3 AND score IS NULL
		ORDER BY requested_at DESC LIMIT 1`, accountID, contactID, since).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return id, false, nil
	}
	if err != nil {
		return id, false, fmt.Errorf("read csat of %s: %w", contactID, err)
	}
	return id, true, nil
}

// recordCSATScoreTx stores the score a conversation got; false when it was
// scored already (two messages racing: only the first counts).
func recordCSATScoreTx(ctx context.Context, tx pgx.Tx, accountID, conversationID uuid.UUID, score int, at time.Time) (bool, error) {
	tag, err := tx.Exec(ctx, `UPDATE csat_requests SET score = $3, scored_at = $4 WHERE account_id = $1 AND conversation_id = $2 AND score IS NULL`,
		accountID, conversationID, score, at)
	if err != nil {
		return false, fmt.Errorf("record csat on %s: %w", conversationID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// RequestCSATTx records, in the caller's transaction, that a resolved
// conversation waits for the customer's score when the question went out by
// other means than Resolve's channel template (history imported with its
// survey, the demo month's generator); RecordCSAT then takes the answer.
func (s *Service) RequestCSATTx(ctx context.Context, tx pgx.Tx, accountID, contactID, conversationID uuid.UUID) error {
	return requestCSATTx(ctx, tx, accountID, contactID, conversationID, s.now())
}
