package agents

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// EraseCorrectionsTx forgets the routing examples taken from these events
// (an erased person's messages: a person's correction keeps the customer's
// text), in the caller's transaction: the rows, and their copies in the
// account's stored router versions, whose example sets are the models. A
// version keeps its name; this process trains it again from what is left
// the next time it routes with it, other replicas when they restart.
func (r *Routers) EraseCorrectionsTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, eventIDs []int64) error {
	if len(eventIDs) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `DELETE FROM routing_examples WHERE account_id = $1 AND event_id = ANY($2) RETURNING id`, accountID, eventIDs)
	if err != nil {
		return fmt.Errorf("delete routing examples: %w", err)
	}
	gone, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("delete routing examples: %w", err)
	}
	if len(gone) == 0 {
		return nil
	}
	ids := make([]string, len(gone))
	for i, id := range gone {
		ids[i] = fmt.Sprintf("correction-%d", id) // as Corrections names them
	}
	rows, err = tx.Query(ctx, `UPDATE router_versions v SET examples = (
			SELECT coalesce(jsonb_agg(x.e ORDER BY x.n), '[]'::jsonb) FROM jsonb_array_elements(v.examples) WITH ORDINALITY AS x(e, n)
			WHERE NOT (x.e->>'id' = ANY($2)))
		WHERE v.account_id = $1 AND EXISTS (SELECT 1 FROM jsonb_array_elements(v.examples) e WHERE e->>'id' = ANY($2))
		RETURNING v.version`, accountID, ids)
	if err != nil {
		return fmt.Errorf("take erased examples out of router versions: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("take erased examples out of router versions: %w", err)
	}
	r.mu.Lock()
	for _, v := range versions {
		delete(r.cache, v)
	}
	r.mu.Unlock()
	return nil
}
