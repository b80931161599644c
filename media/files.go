package media

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is a media file the account does not have.
var ErrNotFound = errors.New("media not found")

// Status is where a media file's download stands.
type Status string

// The statuses of a media file.
const (
	StatusPending Status = "pending"
	StatusStored  Status = "stored"
	StatusFailed  Status = "failed"
)

// File is one media item of a message and what became of its download.
type File struct {
	ID        uuid.UUID `json:"id"`
	AccountID uuid.UUID `json:"-"`
	EventID   int64     `json:"event_id"`
	Position  int       `json:"position"`
	Status    Status    `json:"status"`
	SHA256    string    `json:"sha256,omitempty"`
	MIME      string    `json:"mime,omitempty"`
	Size      int64     `json:"size"`
	FileName  string    `json:"file_name,omitempty"`
	Error     string    `json:"error,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Files is the media_files table.
type Files struct{ pool *pgxpool.Pool }

// NewFiles returns the table's store.
func NewFiles(pool *pgxpool.Pool) *Files { return &Files{pool: pool} }

// PendingTx records a media item to fetch, in the transaction that stores
// its message; a retried delivery finds the row already there.
func (f *Files) PendingTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, eventID int64, position int, fileName string) (uuid.UUID, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, err
	}
	err = tx.QueryRow(ctx, `INSERT INTO media_files (id, account_id, event_id, position, status, file_name)
		VALUES ($1, $2, $3, $4, 'pending', $5)
		ON CONFLICT (account_id, event_id, position) DO UPDATE SET updated_at = media_files.updated_at
		RETURNING id`, id, accountID, eventID, position, fileName).Scan(&id)
	if err != nil {
		return uuid.Nil, fmt.Errorf("record media %d/%d: %w", eventID, position, err)
	}
	return id, nil
}

// Stored marks a file fetched and kept.
func (f *Files) Stored(ctx context.Context, accountID, id uuid.UUID, b Blob, mime string) error {
	_, err := f.pool.Exec(ctx, `UPDATE media_files SET status = 'stored', sha256 = $3, size = $4, mime = $5, error = '', updated_at = now()
		WHERE account_id = $1 AND id = $2`, accountID, id, b.SHA256, b.Size, mime)
	if err != nil {
		return fmt.Errorf("mark media %s stored: %w", id, err)
	}
	return nil
}

// Failed marks a file that could not be fetched, with why.
func (f *Files) Failed(ctx context.Context, accountID, id uuid.UUID, reason string) error {
	_, err := f.pool.Exec(ctx, `UPDATE media_files SET status = 'failed', error = $3, updated_at = now()
		WHERE account_id = $1 AND id = $2`, accountID, id, reason)
	if err != nil {
		return fmt.Errorf("mark media %s failed: %w", id, err)
	}
	return nil
}

// fileColumns are media_files' columns in scanFile's order.
const fileColumns = `id, account_id, event_id, position, status, sha256, mime, size, file_name, error, updated_at`

func scanFile(row pgx.Row) (File, error) {
	var out File
	err := row.Scan(&out.ID, &out.AccountID, &out.EventID, &out.Position, &out.Status, &out.SHA256, &out.MIME, &out.Size, &out.FileName, &out.Error, &out.UpdatedAt)
	return out, err
}

// Get reads a file of the account; another account's id is ErrNotFound.
func (f *Files) Get(ctx context.Context, accountID, id uuid.UUID) (File, error) {
	out, err := scanFile(f.pool.QueryRow(ctx, `SELECT `+fileColumns+` FROM media_files WHERE account_id = $1 AND id = $2`, accountID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return File{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return File{}, fmt.Errorf("read media %s: %w", id, err)
	}
	return out, nil
}

// OfEvent lists a message's media files, by position.
func (f *Files) OfEvent(ctx context.Context, accountID uuid.UUID, eventID int64) ([]File, error) {
	rows, err := f.pool.Query(ctx, `SELECT `+fileColumns+` FROM media_files WHERE account_id = $1 AND event_id = $2 ORDER BY position`, accountID, eventID)
	if err != nil {
		return nil, fmt.Errorf("list media of %d: %w", eventID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (File, error) { return scanFile(r) })
}
