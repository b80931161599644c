// Package canned is an account's canned responses ("respostas prontas"):
// ready replies an attendant picks in the inbox by typing "/" and a shortcut
// ("/boleto"), with {{variables}} filled from the contact (Fill) and the
// result rendered per channel like any reply (Render). It owns the
// canned_responses table; every query is scoped to the account.
package canned

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/database"
)

// Errors callers branch on.
var (
	// ErrNotFound: no such response in the account (another account's ids
	// are reported the same way).
	ErrNotFound = errors.New("canned response not found")
	// ErrInvalid: the shortcut, title, text or channel kind is refused.
	ErrInvalid = errors.New("invalid canned response")
	// ErrDuplicate: the account already has a response with this shortcut
	// (in any case).
	ErrDuplicate = errors.New("duplicate shortcut")
)

// Limits of a response.
const (
	MaxShortcut = 40
	MaxTitle    = 200
	// MaxText bounds the text: a canned response is a reply, not a document
	// (longer than the channel allows, it is split like any reply).
	MaxText = 4096
)

var shortcutPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// Response is one canned response.
type Response struct {
	ID       uuid.UUID `json:"id"`
	Shortcut string    `json:"shortcut"`
	Title    string    `json:"title"`
	// Text is canonical Markdown (see channels.Render) with {{variables}}.
	Text string `json:"text"`
	// Channel is the only kind it is offered on; "" is every channel.
	Channel   channels.Kind `json:"channel"`
	CreatedBy string        `json:"created_by"`
	UpdatedBy string        `json:"updated_by"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// OfferedOn says whether the response is offered on a channel of kind k
// ("" asks for every response).
func (r Response) OfferedOn(k channels.Kind) bool {
	return r.Channel == "" || k == "" || r.Channel == k
}

// Input is a response as written by the API or an attendant.
type Input struct {
	Shortcut string
	Title    string // empty: the shortcut
	Text     string
	Channel  channels.Kind
	// By is who writes it (an attendant's e-mail, "api"), kept as
	// created_by and updated_by.
	By string
}

// Store reads and writes canned responses.
type Store struct {
	pool  *pgxpool.Pool
	kinds *channels.Registry
}

// NewStore is the store over pool; channel kinds are the built-in platforms'.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, kinds: channels.Builtin()}
}

// ValidKind reports whether k is a channel kind a response may be limited to
// ("" is: every channel).
func (s *Store) ValidKind(k channels.Kind) bool {
	if k == "" {
		return true
	}
	_, ok := s.kinds.Adapter(k)
	return ok
}

func (s *Store) kindError(k channels.Kind) error {
	names := make([]string, 0, len(s.kinds.Kinds()))
	for _, k := range s.kinds.Kinds() {
		names = append(names, string(k))
	}
	return fmt.Errorf("%w: unknown channel kind %q (%s, or empty for every channel)", ErrInvalid, k, strings.Join(names, ", "))
}

// normalize trims the input and checks it, saying what is wrong.
func (s *Store) normalize(in Input) (Input, error) {
	in.Shortcut = strings.TrimPrefix(strings.TrimSpace(in.Shortcut), "/")
	in.Title = strings.TrimSpace(in.Title)
	in.Text = strings.TrimSpace(in.Text)
	in.Channel = channels.Kind(strings.ToLower(strings.TrimSpace(string(in.Channel))))
	in.By = strings.TrimSpace(in.By)
	switch {
	case in.Shortcut == "":
		return in, fmt.Errorf("%w: a shortcut is required (like boleto: typed as /boleto in the inbox)", ErrInvalid)
	case utf8.RuneCountInString(in.Shortcut) > MaxShortcut || !shortcutPattern.MatchString(in.Shortcut):
		return in, fmt.Errorf("%w: shortcut %q: up to %d letters, digits, - or _, starting with a letter or digit, no spaces or accents (like boleto or 2a-via)",
			ErrInvalid, in.Shortcut, MaxShortcut)
	case in.Text == "":
		return in, fmt.Errorf("%w: the text is empty", ErrInvalid)
	case utf8.RuneCountInString(in.Text) > MaxText:
		return in, fmt.Errorf("%w: the text has %d characters; at most %d", ErrInvalid, utf8.RuneCountInString(in.Text), MaxText)
	case utf8.RuneCountInString(in.Title) > MaxTitle:
		return in, fmt.Errorf("%w: the title has %d characters; at most %d", ErrInvalid, utf8.RuneCountInString(in.Title), MaxTitle)
	case !s.ValidKind(in.Channel):
		return in, s.kindError(in.Channel)
	}
	if in.Title == "" {
		in.Title = in.Shortcut
	}
	return in, nil
}

func duplicate(shortcut string) error {
	return fmt.Errorf("%w: the account already has a canned response /%s", ErrDuplicate, strings.ToLower(shortcut))
}

const columns = `id, shortcut, title, body, channel_kind, created_by, updated_by, created_at, updated_at`

func scan(row pgx.Row) (Response, error) {
	var r Response
	err := row.Scan(&r.ID, &r.Shortcut, &r.Title, &r.Text, &r.Channel, &r.CreatedBy, &r.UpdatedBy, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

// Create stores a new response in a transaction of its own.
func (s *Store) Create(ctx context.Context, accountID uuid.UUID, in Input) (Response, error) {
	var out Response
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.CreateTx(ctx, tx, accountID, in)
		return err
	})
	return out, err
}

// CreateTx stores a new response inside the caller's transaction:
// ErrInvalid when the input is refused, ErrDuplicate when the shortcut is
// taken (the transaction stays usable: nothing is inserted).
func (s *Store) CreateTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, in Input) (Response, error) {
	in, err := s.normalize(in)
	if err != nil {
		return Response{}, err
	}
	r, err := scan(tx.QueryRow(ctx, `INSERT INTO canned_responses (id, account_id, shortcut, title, body, channel_kind, created_by, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
		ON CONFLICT (account_id, lower(shortcut)) DO NOTHING
		RETURNING `+columns, uuid.Must(uuid.NewV7()), accountID, in.Shortcut, in.Title, in.Text, in.Channel, in.By))
	if errors.Is(err, pgx.ErrNoRows) {
		return Response{}, duplicate(in.Shortcut)
	}
	if err != nil {
		return Response{}, fmt.Errorf("store canned response /%s: %w", in.Shortcut, err)
	}
	return r, nil
}

// Update replaces a response in a transaction of its own.
func (s *Store) Update(ctx context.Context, accountID, id uuid.UUID, in Input) (Response, error) {
	var out Response
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.UpdateTx(ctx, tx, accountID, id, in)
		return err
	})
	return out, err
}

// UpdateTx replaces a response's shortcut, title, text and channel inside
// the caller's transaction; By becomes its updated_by.
func (s *Store) UpdateTx(ctx context.Context, tx pgx.Tx, accountID, id uuid.UUID, in Input) (Response, error) {
	in, err := s.normalize(in)
	if err != nil {
		return Response{}, err
	}
	// Not the account's first (a 404 says nothing of its shortcuts), then
	// the shortcut: checked before writing, so the caller's transaction is
	// not aborted by the unique index.
	var taken *bool
	err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM canned_responses
		WHERE account_id = $1 AND lower(shortcut) = lower($2) AND id <> $3)
		FROM canned_responses WHERE account_id = $1 AND id = $3 FOR UPDATE`, accountID, in.Shortcut, id).Scan(&taken)
	if errors.Is(err, pgx.ErrNoRows) {
		return Response{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return Response{}, fmt.Errorf("check shortcut /%s: %w", in.Shortcut, err)
	}
	if *taken {
		return Response{}, duplicate(in.Shortcut)
	}
	r, err := scan(tx.QueryRow(ctx, `UPDATE canned_responses SET shortcut = $3, title = $4, body = $5, channel_kind = $6,
		updated_by = $7, updated_at = now() WHERE account_id = $1 AND id = $2 RETURNING `+columns,
		accountID, id, in.Shortcut, in.Title, in.Text, in.Channel, in.By))
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Response{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	case errors.As(err, &pgErr) && pgErr.Code == "23505":
		// Taken meanwhile by a concurrent create.
		return Response{}, duplicate(in.Shortcut)
	case err != nil:
		return Response{}, fmt.Errorf("update canned response %s: %w", id, err)
	}
	return r, nil
}

// Delete removes a response in a transaction of its own.
func (s *Store) Delete(ctx context.Context, accountID, id uuid.UUID) error {
	return database.InTx(ctx, s.pool, func(tx pgx.Tx) error { return s.DeleteTx(ctx, tx, accountID, id) })
}

// DeleteTx removes a response inside the caller's transaction.
func (s *Store) DeleteTx(ctx context.Context, tx pgx.Tx, accountID, id uuid.UUID) error {
	tag, err := tx.Exec(ctx, `DELETE FROM canned_responses WHERE account_id = $1 AND id = $2`, accountID, id)
	if err != nil {
		return fmt.Errorf("delete canned response %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return nil
}

// Get reads one response of the account.
func (s *Store) Get(ctx context.Context, accountID, id uuid.UUID) (Response, error) {
	r, err := scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM canned_responses WHERE account_id = $1 AND id = $2`, accountID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return r, fmt.Errorf("read canned response %s: %w", id, err)
	}
	return r, nil
}

// List is the account's responses by shortcut: with a kind, only those
// offered on it (its own and those for every channel); "" lists all.
func (s *Store) List(ctx context.Context, accountID uuid.UUID, kind channels.Kind) ([]Response, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM canned_responses
		WHERE account_id = $1 AND ($2 = '' OR channel_kind IN ('', $2))
		ORDER BY lower(shortcut)`, accountID, string(kind))
	if err != nil {
		return nil, fmt.Errorf("list canned responses: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Response, error) { return scan(row) })
	if err != nil {
		return nil, fmt.Errorf("list canned responses: %w", err)
	}
	return out, nil
}
