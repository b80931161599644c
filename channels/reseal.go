package channels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/internal/secretbox"
)

// ResealSecrets re-seals every channel's secrets with the Box's first key
// (key rotation, and sealing what was stored in clear before encryption):
// batch channels at a time, each in its own transaction with its row locked,
// so a concurrent change of its secrets is neither lost nor overwritten.
// Channels already sealed with that key are not written: a second run, or a
// run after an interrupted one, only does what is left.
func (s *Store) ResealSecrets(ctx context.Context, batch int) (secretbox.Tally, error) {
	list := func(ctx context.Context, after *uuid.UUID) ([]uuid.UUID, error) {
		from := uuid.Nil
		if after != nil {
			from = *after
		}
		rows, err := s.pool.Query(ctx, `SELECT id FROM channels WHERE id > $1 ORDER BY id LIMIT $2`, from, batch)
		if err != nil {
			return nil, fmt.Errorf("list channels to reseal: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return nil, fmt.Errorf("list channels to reseal: %w", err)
		}
		return ids, nil
	}
	return secretbox.ResealRows(ctx, list, s.resealChannel)
}

func (s *Store) resealChannel(ctx context.Context, id uuid.UUID) (found, changed bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var name string
		var raw []byte
		err := tx.QueryRow(ctx, `SELECT name, secrets FROM channels WHERE id = $1 FOR UPDATE`, id).Scan(&name, &raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // deleted since it was listed
		}
		if err != nil {
			return err
		}
		found = true
		var secrets map[string]string
		if err := json.Unmarshal(raw, &secrets); err != nil {
			return fmt.Errorf("decode secrets of channel %q: %w", name, err)
		}
		for k, v := range secrets {
			out, c, err := s.box.Reseal(v)
			if err != nil {
				return fmt.Errorf("secrets.%s of channel %q: %w", k, name, err)
			}
			secrets[k] = out
			changed = changed || c
		}
		if !changed {
			return nil
		}
		raw, _ = json.Marshal(secrets)
		_, err = tx.Exec(ctx, `UPDATE channels SET secrets = $2 WHERE id = $1`, id, raw)
		return err
	})
	if err != nil {
		return false, false, fmt.Errorf("reseal channel %s: %w", id, err)
	}
	return found, changed, nil
}
