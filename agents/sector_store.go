package agents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/internal/secretbox"
)

// ErrInvalidSector is returned for a sector or tool definition that cannot work.
var ErrInvalidSector = errors.New("invalid sector definition")

// SectorStore keeps each account's sectors and HTTP tools (the business
// file's definitions); it owns the sectors and agent_tools tables. A tool's
// signing secret is stored sealed and opened when the tools are loaded.
type SectorStore struct {
	pool *pgxpool.Pool
	box  *secretbox.Box
}

// NewSectorStore returns the store; box seals and opens the tools' secrets.
func NewSectorStore(pool *pgxpool.Pool, box *secretbox.Box) *SectorStore {
	return &SectorStore{pool: pool, box: box}
}

// Put makes the account's sectors and tools exactly these (in this order).
// Sector prompts are not stored here: the caller stores them as prompt versions.
func (s *SectorStore) Put(ctx context.Context, accountID uuid.UUID, sectors []Sector, tools []HTTPTool) error {
	known := map[string]bool{}
	for _, t := range tools {
		if err := t.validate(); err != nil {
			return err
		}
		if known[t.Name] {
			return fmt.Errorf("%w: tool %s declared twice", ErrInvalidSector, t.Name)
		}
		known[t.Name] = true
	}
	names := map[string]bool{}
	for _, sec := range sectors {
		if err := sec.validate(known); err != nil {
			return err
		}
		if names[sec.Name] {
			return fmt.Errorf("%w: sector %s defined twice", ErrInvalidSector, sec.Name)
		}
		names[sec.Name] = true
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sectors WHERE account_id = $1`, accountID); err != nil {
			return err
		}
		for i, sec := range sectors {
			def, _ := json.Marshal(sec)
			if _, err := tx.Exec(ctx, `INSERT INTO sectors (account_id, name, position, definition) VALUES ($1, $2, $3, $4)`,
				accountID, sec.Name, i, def); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM agent_tools WHERE account_id = $1`, accountID); err != nil {
			return err
		}
		for _, t := range tools {
			def, _ := json.Marshal(t)
			secret, err := s.box.Seal(t.Secret)
			if err != nil {
				return fmt.Errorf("seal the secret of tool %s: %w", t.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO agent_tools (account_id, name, definition, secret) VALUES ($1, $2, $3, $4)`,
				accountID, t.Name, def, secret); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store sectors of %s: %w", accountID, err)
	}
	return nil
}

// Sectors returns the account's sectors with defaults filled in: the
// business file's, or sales, support and billing.
func (s *SectorStore) Sectors(ctx context.Context, accountID uuid.UUID) ([]Sector, error) {
	rows, err := s.pool.Query(ctx, `SELECT definition FROM sectors WHERE account_id = $1 ORDER BY position`, accountID)
	if err != nil {
		return nil, fmt.Errorf("load sectors of %s: %w", accountID, err)
	}
	defs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("load sectors of %s: %w", accountID, err)
	}
	var out []Sector
	for _, d := range defs {
		var sec Sector
		if err := json.Unmarshal(d, &sec); err != nil {
			return nil, fmt.Errorf("decode sector of %s: %w", accountID, err)
		}
		out = append(out, sec.withDefaults())
	}
	if len(out) == 0 {
		for _, sec := range DefaultSectors() {
			out = append(out, sec.withDefaults())
		}
	}
	return out, nil
}

// Tools returns the account's HTTP tools, secrets included (to sign calls).
func (s *SectorStore) Tools(ctx context.Context, accountID uuid.UUID) (map[string]HTTPTool, error) {
	rows, err := s.pool.Query(ctx, `SELECT definition, secret FROM agent_tools WHERE account_id = $1`, accountID)
	if err != nil {
		return nil, fmt.Errorf("load tools of %s: %w", accountID, err)
	}
	defer rows.Close()
	out := map[string]HTTPTool{}
	for rows.Next() {
		var def []byte
		var t HTTPTool
		if err := rows.Scan(&def, &t.Secret); err != nil {
			return nil, fmt.Errorf("load tools of %s: %w", accountID, err)
		}
		stored := t.Secret
		if err := json.Unmarshal(def, &t); err != nil {
			return nil, fmt.Errorf("decode tool of %s: %w", accountID, err)
		}
		if t.Secret, err = s.box.Open(stored); err != nil {
			return nil, fmt.Errorf("open the secret of tool %s of %s: %w", t.Name, accountID, err)
		}
		out[t.Name] = t
	}
	return out, rows.Err()
}
