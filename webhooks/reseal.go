package webhooks

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/internal/secretbox"
)

// ResealSecrets re-seals every subscription's secret with the Box's first
// key (key rotation, and sealing secrets stored in clear before encryption),
// batch rows at a time, each in its own transaction with the row locked.
// Secrets already sealed with that key are not written, so running it again
// changes nothing.
func (s *Store) ResealSecrets(ctx context.Context, batch int) (secretbox.Tally, error) {
	list := func(ctx context.Context, after *uuid.UUID) ([]uuid.UUID, error) {
		from := uuid.Nil
		if after != nil {
			from = *after
		}
		rows, err := s.pool.Query(ctx, `SELECT id FROM webhook_subscriptions WHERE id > $1 ORDER BY id LIMIT $2`, from, batch)
		if err != nil {
			return nil, fmt.Errorf("list webhook subscriptions to reseal: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return nil, fmt.Errorf("list webhook subscriptions to reseal: %w", err)
		}
		return ids, nil
	}
	return secretbox.ResealRows(ctx, list, s.resealSubscription)
}

func (s *Store) resealSubscription(ctx context.Context, id uuid.UUID) (found, changed bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var stored string
		err := tx.QueryRow(ctx, `SELECT secret FROM webhook_subscriptions WHERE id = $1 FOR UPDATE`, id).Scan(&stored)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // deleted since it was listed
		}
		if err != nil {
			return err
		}
		found = true
		out, c, err := s.box.Reseal(stored)
		if err != nil || !c {
			return err
		}
		changed = true
		_, err = tx.Exec(ctx, `UPDATE webhook_subscriptions SET secret = $2 WHERE id = $1`, id, out)
		return err
	})
	if err != nil {
		return false, false, fmt.Errorf("reseal webhook subscription %s: %w", id, err)
	}
	return found, changed, nil
}
