package agents

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/internal/secretbox"
)

// ResealSecrets re-seals every HTTP tool's secret with the Box's first key
// (key rotation, and sealing secrets stored in clear before encryption),
// batch tools at a time, each in its own transaction with the row locked.
// Secrets already sealed with that key are not written, so running it
// again changes nothing.
func (s *SectorStore) ResealSecrets(ctx context.Context, batch int) (secretbox.Tally, error) {
	list := func(ctx context.Context, after *toolKey) ([]toolKey, error) {
		from := toolKey{Account: uuid.Nil}
		if after != nil {
			from = *after
		}
		rows, err := s.pool.Query(ctx, `SELECT account_id, name FROM agent_tools WHERE (account_id, name) > ($1, $2)
			ORDER BY account_id, name LIMIT $3`, from.Account, from.Name, batch)
		if err != nil {
			return nil, fmt.Errorf("list tools to reseal: %w", err)
		}
		keys, err := pgx.CollectRows(rows, pgx.RowToStructByPos[toolKey])
		if err != nil {
			return nil, fmt.Errorf("list tools to reseal: %w", err)
		}
		return keys, nil
	}
	return secretbox.ResealRows(ctx, list, func(ctx context.Context, k toolKey) (bool, bool, error) {
		return s.resealTool(ctx, k.Account, k.Name)
	})
}

// toolKey names one HTTP tool row.
type toolKey struct {
	Account uuid.UUID
	Name    string
}

func (s *SectorStore) resealTool(ctx context.Context, accountID uuid.UUID, name string) (found, changed bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var stored string
		err := tx.QueryRow(ctx, `SELECT secret FROM agent_tools WHERE account_id = $1 AND name = $2 FOR UPDATE`, accountID, name).Scan(&stored)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // replaced since it was listed (and so sealed anew)
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
		_, err = tx.Exec(ctx, `UPDATE agent_tools SET secret = $3 WHERE account_id = $1 AND name = $2`, accountID, name, out)
		return err
	})
	if err != nil {
		return false, false, fmt.Errorf("reseal tool %s of %s: %w", name, accountID, err)
	}
	return found, changed, nil
}
