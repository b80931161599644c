package media

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Erasing a person removes the files they sent. Their media_files rows go
// with their events (the foreign key cascades); the bytes are in the blob
// store, shared by content: the same photo sent by two people, in two
// accounts even, is one blob. So an erasure collects the addresses of the
// person's files inside its transaction, before the delete, and once it has
// committed deletes the blobs no media_files row references any more —
// outside any transaction, since storage may be slow or far.

// ShasOfContactTx lists the blob addresses of the stored files of the
// contacts' events (each once), read in the caller's transaction. It locks
// all their files, those still downloading too: a download that finishes
// before the erasure commits waits for it, finds its row gone (StoredTx:
// ErrNotFound) and drops its blob, rather than record an address this list
// does not have, whose blob would outlive the person.
func (f *Files) ShasOfContactTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, contactIDs []uuid.UUID) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT f.sha256 FROM media_files f
		JOIN events e ON e.account_id = f.account_id AND e.id = f.event_id
		WHERE f.account_id = $1 AND e.contact_id = ANY($2)
		ORDER BY f.id FOR UPDATE OF f`, accountID, contactIDs)
	if err != nil {
		return nil, fmt.Errorf("list media of contacts: %w", err)
	}
	all, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list media of contacts: %w", err)
	}
	var shas []string
	for _, sha := range all {
		if sha != "" {
			shas = append(shas, sha)
		}
	}
	slices.Sort(shas)
	return slices.Compact(shas), nil
}

// Unreferenced returns those of shas that no media_files row, of any
// account, references: the blobs that may be deleted. A file being fetched
// right now with the same bytes is referenced only once its fetch is
// recorded (Stored), so a blob deleted in that moment leaves the new file's
// row pointing at nothing; the window is the few milliseconds between a Put
// and its Stored.
func (f *Files) Unreferenced(ctx context.Context, shas []string) ([]string, error) {
	if len(shas) == 0 {
		return nil, nil
	}
	rows, err := f.pool.Query(ctx, `SELECT s FROM unnest($1::text[]) AS s
		WHERE NOT EXISTS (SELECT 1 FROM media_files m WHERE m.sha256 = s AND m.sha256 <> '') ORDER BY s`, shas)
	if err != nil {
		return nil, fmt.Errorf("find unreferenced media: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find unreferenced media: %w", err)
	}
	return out, nil
}
