package channels

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// EraseWebchatSessionsTx ends the webchat sessions of these visitors (an
// erased person's webchat identities), in the caller's transaction: the
// browser's token resumes nothing, and a visitor who writes again gets a new
// id and starts as someone new.
func EraseWebchatSessionsTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, visitorIDs []string) error {
	if len(visitorIDs) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM webchat_sessions WHERE account_id = $1 AND visitor_id = ANY($2)`, accountID, visitorIDs); err != nil {
		return fmt.Errorf("end webchat sessions: %w", err)
	}
	return nil
}
