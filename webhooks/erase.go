package webhooks

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// EraseDeliveriesTx deletes, in the caller's transaction, the deliveries
// whose payload names any of ids (an erased person's contacts and merges):
// a delivery is a copy of what it was about — a message's text, a card's
// summary and fields. One still pending is not sent (its job finds no
// delivery and gives up). What subscribers received already is theirs to
// erase: contact.erased tells them.
func (s *Store) EraseDeliveriesTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	patterns := make([]string, len(ids))
	for i, id := range ids {
		patterns[i] = "%" + id.String() + "%" // a UUID's text has no LIKE wildcards
	}
	if _, err := tx.Exec(ctx, `DELETE FROM webhook_deliveries WHERE account_id = $1 AND payload::text LIKE ANY($2)`,
		accountID, patterns); err != nil {
		return fmt.Errorf("delete deliveries about erased contacts: %w", err)
	}
	return nil
}
