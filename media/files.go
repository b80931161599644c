package media

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// WordsStatus is where a file's words stand — a voice note's transcript, an
// image's description; "" is "not asked for" (no provider configured, or a
// kind that has none).
type WordsStatus string

// The statuses of a file's words.
const (
	WordsNone    WordsStatus = ""
	WordsPending WordsStatus = "pending"
	WordsDone    WordsStatus = "done"
	WordsFailed  WordsStatus = "failed"
)

// File is one media item of a message and what became of its download.
type File struct {
	ID        uuid.UUID `json:"id"`
	AccountID uuid.UUID `json:"-"`
	EventID   int64     `json:"event_id"`
	Position  int       `json:"position"`
	// Kind is the item's type as the platform said (audio, image, document…).
	Kind     string `json:"kind,omitempty"`
	Status   Status `json:"status"`
	SHA256   string `json:"sha256,omitempty"`
	MIME     string `json:"mime,omitempty"`
	Size     int64  `json:"size"`
	FileName string `json:"file_name,omitempty"`
	Error    string `json:"error,omitempty"`
	// WordsStatus and WordsError say whether a voice note's or an image's words
	// are on its message, are coming, or why they never will.
	WordsStatus WordsStatus `json:"words_status,omitempty"`
	WordsError  string      `json:"words_error,omitempty"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

// Transcribable says whether a media kind is speech worth transcribing.
func Transcribable(kind string) bool { return kind == "audio" || kind == "voice" }

// WordsFor says which files are put into words here: voice notes when a
// transcription provider is configured, images when a model with vision is.
type WordsFor struct {
	Transcribe, Describe bool
}

// Want says whether a file of kind gets words.
func (w WordsFor) Want(kind string) bool {
	return (w.Transcribe && Transcribable(kind)) || (w.Describe && Describable(kind))
}

// Describable says whether a media kind is a picture a model with vision can describe.
func Describable(kind string) bool { return kind == "image" }

// Files is the media_files table.
type Files struct{ pool *pgxpool.Pool }

// NewFiles returns the table's store.
func NewFiles(pool *pgxpool.Pool) *Files { return &Files{pool: pool} }

// Item is a media item of a message as it is recorded: where it sits in
// the message, what it is, and whether its words are wanted (a voice
// note's transcript, an image's description).
type Item struct {
	EventID   int64
	Position  int
	Kind      string
	FileName  string
	WantWords bool
}

func (it Item) words() WordsStatus {
	if it.WantWords {
		return WordsPending
	}
	return WordsNone
}

// PendingTx records a media item to fetch, in the transaction that stores
// its message; a retried delivery finds the row already there.
func (f *Files) PendingTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, it Item) (uuid.UUID, error) {
	return f.record(ctx, tx, accountID, it, StatusPending, Blob{}, "")
}

// KeptTx records a media item whose bytes came in the delivery and are
// already in the blob store (an e-mail attachment, Evolution's base64).
func (f *Files) KeptTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, it Item, b Blob, mime string) (uuid.UUID, error) {
	return f.record(ctx, tx, accountID, it, StatusStored, b, mime)
}

// Kept records, in a transaction of its own, a file already stored (an
// attendant's upload, recorded once its reply is queued).
func (f *Files) Kept(ctx context.Context, accountID uuid.UUID, it Item, b Blob, mime string) error {
	return pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		_, err := f.KeptTx(ctx, tx, accountID, it, b, mime)
		return err
	})
}

func (f *Files) record(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, it Item, st Status, b Blob, mime string) (uuid.UUID, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, err
	}
	err = tx.QueryRow(ctx, `INSERT INTO media_files (id, account_id, event_id, position, kind, status, sha256, size, mime, file_name, words_status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (account_id, event_id, position) DO UPDATE SET updated_at = media_files.updated_at
		RETURNING id`, id, accountID, it.EventID, it.Position, it.Kind, st, b.SHA256, b.Size, mime, it.FileName, it.words()).Scan(&id)
	if err != nil {
		return uuid.Nil, fmt.Errorf("record media %d/%d: %w", it.EventID, it.Position, err)
	}
	return id, nil
}

// StoredTx marks a file fetched and kept; a file whose row is gone (its
// contact was erased while it downloaded) is ErrNotFound, and the caller
// drops the blob unless someone else's message holds the same bytes.
func (f *Files) StoredTx(ctx context.Context, tx pgx.Tx, accountID, id uuid.UUID, b Blob, mime string) error {
	tag, err := tx.Exec(ctx, `UPDATE media_files SET status = 'stored', sha256 = $3, size = $4, mime = $5, error = '', updated_at = now()
		WHERE account_id = $1 AND id = $2`, accountID, id, b.SHA256, b.Size, mime)
	if err != nil {
		return fmt.Errorf("mark media %s stored: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return nil
}

// Failed marks a file that could not be fetched, with why; a transcription
// it was waiting for fails with it (the turn stops waiting).
func (f *Files) Failed(ctx context.Context, accountID, id uuid.UUID, reason string) error {
	return f.failed(ctx, f.pool, accountID, id, reason)
}

// FailedTx is Failed inside the caller's transaction.
func (f *Files) FailedTx(ctx context.Context, tx pgx.Tx, accountID, id uuid.UUID, reason string) error {
	return f.failed(ctx, tx, accountID, id, reason)
}

func (f *Files) failed(ctx context.Context, db interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, accountID, id uuid.UUID, reason string) error {
	_, err := db.Exec(ctx, `UPDATE media_files SET status = 'failed', error = $3, updated_at = now(),
		words_status = CASE words_status WHEN 'pending' THEN 'failed' ELSE words_status END,
		words_error = CASE words_status WHEN 'pending' THEN 'o arquivo não pôde ser baixado' ELSE words_error END
		WHERE account_id = $1 AND id = $2`, accountID, id, reason)
	if err != nil {
		return fmt.Errorf("mark media %s failed: %w", id, err)
	}
	return nil
}

// WordsDoneTx marks a file's words written (a transcript or a description
// on its message, see memory.SetMediaWordsTx) or failed with why.
func (f *Files) WordsDoneTx(ctx context.Context, tx pgx.Tx, accountID, id uuid.UUID, failure string) error {
	st := WordsDone
	if failure != "" {
		st = WordsFailed
	}
	_, err := tx.Exec(ctx, `UPDATE media_files SET words_status = $3, words_error = $4, updated_at = now()
		WHERE account_id = $1 AND id = $2`, accountID, id, st, failure)
	if err != nil {
		return fmt.Errorf("mark transcript of %s: %w", id, err)
	}
	return nil
}

// AwaitingWords says whether a voice note of these messages is still being
// transcribed or an image described: their turn waits for the words (up to
// its limit) rather than answer "I can't listen to audio".
func (f *Files) AwaitingWords(ctx context.Context, accountID uuid.UUID, eventIDs []int64) (bool, error) {
	var yes bool
	err := f.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM media_files WHERE account_id = $1 AND event_id = ANY($2) AND words_status = 'pending')`,
		accountID, eventIDs).Scan(&yes)
	if err != nil {
		return false, fmt.Errorf("media awaiting words: %w", err)
	}
	return yes, nil
}

// fileColumns are media_files' columns in scanFile's order.
const fileColumns = `id, account_id, event_id, position, kind, status, sha256, mime, size, file_name, error, words_status, words_error, updated_at`

func scanFile(row pgx.Row) (File, error) {
	var out File
	err := row.Scan(&out.ID, &out.AccountID, &out.EventID, &out.Position, &out.Kind, &out.Status, &out.SHA256, &out.MIME, &out.Size,
		&out.FileName, &out.Error, &out.WordsStatus, &out.WordsError, &out.UpdatedAt)
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
	byEvent, err := f.OfEvents(ctx, accountID, []int64{eventID})
	return byEvent[eventID], err
}

// OfEvents lists the media files of many messages (a page of a timeline),
// each message's by position.
func (f *Files) OfEvents(ctx context.Context, accountID uuid.UUID, eventIDs []int64) (map[int64][]File, error) {
	rows, err := f.pool.Query(ctx, `SELECT `+fileColumns+` FROM media_files WHERE account_id = $1 AND event_id = ANY($2) ORDER BY event_id, position`, accountID, eventIDs)
	if err != nil {
		return nil, fmt.Errorf("list media of %d messages: %w", len(eventIDs), err)
	}
	files, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (File, error) { return scanFile(r) })
	if err != nil {
		return nil, fmt.Errorf("list media of %d messages: %w", len(eventIDs), err)
	}
	out := make(map[int64][]File, len(eventIDs))
	for _, f := range files {
		out[f.EventID] = append(out[f.EventID], f)
	}
	return out, nil
}
