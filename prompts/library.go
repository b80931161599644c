package prompts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Source says where a prompt version comes from.
type Source string

// The sources, from weakest to strongest: an active stored version wins over
// the override directory, which wins over the embedded file.
const (
	SourceEmbedded Source = "embedded"
	SourceOverride Source = "override"
	SourceStored   Source = "stored"
)

// Prompt is one version of a prompt. Version is the name and the first 12 hex
// digits of the SHA-256 of the text: the same text is the same version
// wherever it lives, and every AI event records it.
type Prompt struct {
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	Text      string    `json:"text"`
	Source    Source    `json:"source"`
	Active    bool      `json:"active"`
	Note      string    `json:"note,omitempty"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// VersionOf is the version a text has under a name.
func VersionOf(name, text string) string {
	sum := sha256.Sum256([]byte(text))
	return name + "@" + hex.EncodeToString(sum[:6])
}

// Errors callers branch on.
var (
	ErrNotFound = errors.New("prompt not found")
	ErrInvalid  = errors.New("invalid prompt")
)

// maxPromptBytes bounds a prompt's text: it is sent with every turn.
const maxPromptBytes = 32 << 10

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$`)

// ValidName reports whether name can name a prompt: dot-separated lower-case
// parts, the first one its kind (sectors.sales, channels.whatsapp, handoff.summary).
func ValidName(name string) bool { return len(name) <= 100 && namePattern.MatchString(name) }

// Library resolves prompts for an account: its active stored version, else
// the override directory's file, else the embedded file.
type Library struct {
	pool     *pgxpool.Pool
	override string // directory with the same layout as prompts/ ("" for none)
}

// NewLibrary returns the library. overrideDir may be empty; its files are read
// at every lookup, so an edit takes effect without a restart.
func NewLibrary(pool *pgxpool.Pool, overrideDir string) *Library {
	return &Library{pool: pool, override: overrideDir}
}

func fileOf(name string) string { return strings.ReplaceAll(name, ".", "/") + ".md" }

// files returns the file versions of name: override first, then embedded.
func (l *Library) files(name string) []Prompt {
	var out []Prompt
	if l.override != "" {
		if raw, err := os.ReadFile(filepath.Join(l.override, filepath.FromSlash(fileOf(name)))); err == nil {
			text := strings.TrimSpace(string(raw))
			out = append(out, Prompt{Name: name, Version: VersionOf(name, text), Text: text, Source: SourceOverride})
		}
	}
	if raw, err := files.ReadFile(fileOf(name)); err == nil {
		text := strings.TrimSpace(string(raw))
		out = append(out, Prompt{Name: name, Version: VersionOf(name, text), Text: text, Source: SourceEmbedded})
	}
	return out
}

const promptColumns = `name, version, text, note, created_by, created_at, active`

func scanPrompt(row pgx.Row) (Prompt, error) {
	p := Prompt{Source: SourceStored}
	err := row.Scan(&p.Name, &p.Version, &p.Text, &p.Note, &p.CreatedBy, &p.CreatedAt, &p.Active)
	return p, err
}

// Get returns the version of name that is in effect for the account.
func (l *Library) Get(ctx context.Context, accountID uuid.UUID, name string) (Prompt, error) {
	p, err := scanPrompt(l.pool.QueryRow(ctx, `SELECT `+promptColumns+` FROM prompt_versions
		WHERE account_id = $1 AND name = $2 AND active`, accountID, name))
	if err == nil {
		return p, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Prompt{}, fmt.Errorf("get prompt %s: %w", name, err)
	}
	if fs := l.files(name); len(fs) > 0 {
		fs[0].Active = true
		return fs[0], nil
	}
	return Prompt{}, fmt.Errorf("%w: %s", ErrNotFound, name)
}

// Version returns one version by its id, stored or from the files.
func (l *Library) Version(ctx context.Context, accountID uuid.UUID, version string) (Prompt, error) {
	name, _, ok := strings.Cut(version, "@")
	if !ok || !ValidName(name) {
		return Prompt{}, fmt.Errorf("%w: version %q is not NAME@HASH", ErrInvalid, version)
	}
	versions, err := l.Versions(ctx, accountID, name)
	if err != nil {
		return Prompt{}, err
	}
	for _, p := range versions {
		if p.Version == version {
			return p, nil
		}
	}
	return Prompt{}, fmt.Errorf("%w: %s", ErrNotFound, version)
}

// Versions lists every version of name: stored ones newest first, then the
// override and embedded files. Exactly one is marked active.
func (l *Library) Versions(ctx context.Context, accountID uuid.UUID, name string) ([]Prompt, error) {
	rows, err := l.pool.Query(ctx, `SELECT `+promptColumns+` FROM prompt_versions
		WHERE account_id = $1 AND name = $2 ORDER BY created_at DESC, version`, accountID, name)
	if err != nil {
		return nil, fmt.Errorf("list versions of %s: %w", name, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Prompt, error) { return scanPrompt(r) })
	if err != nil {
		return nil, fmt.Errorf("list versions of %s: %w", name, err)
	}
	active := false
	for _, p := range out {
		active = active || p.Active
	}
	seen := map[string]bool{}
	for _, p := range out {
		seen[p.Version] = true
	}
	for _, f := range l.files(name) {
		if seen[f.Version] {
			continue
		}
		seen[f.Version] = true
		if !active {
			f.Active, active = true, true
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return out, nil
}

// List returns the version in effect of every prompt the account has.
func (l *Library) List(ctx context.Context, accountID uuid.UUID) ([]Prompt, error) {
	names := map[string]bool{}
	_ = fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			names[strings.ReplaceAll(strings.TrimSuffix(path, ".md"), "/", ".")] = true
		}
		return nil
	})
	if l.override != "" {
		_ = filepath.WalkDir(l.override, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
				rel, _ := filepath.Rel(l.override, path)
				if name := strings.ReplaceAll(strings.TrimSuffix(filepath.ToSlash(rel), ".md"), "/", "."); ValidName(name) {
					names[name] = true
				}
			}
			return nil
		})
	}
	rows, err := l.pool.Query(ctx, `SELECT DISTINCT name FROM prompt_versions WHERE account_id = $1`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list prompts: %w", err)
	}
	stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list prompts: %w", err)
	}
	for _, n := range stored {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	out := make([]Prompt, 0, len(sorted))
	for _, n := range sorted {
		p, err := l.Get(ctx, accountID, n)
		if errors.Is(err, ErrNotFound) {
			continue // stored versions exist but none is active and no file backs it
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Create stores a version of name (the same text twice is the same version,
// returned with created false). With activate it becomes the one in effect.
func (l *Library) Create(ctx context.Context, accountID uuid.UUID, name, text, note, author string, activate bool) (Prompt, bool, error) {
	text = strings.TrimSpace(text)
	switch {
	case !ValidName(name):
		return Prompt{}, false, fmt.Errorf("%w: name %q (want kind.name, e.g. sectors.sales)", ErrInvalid, name)
	case text == "":
		return Prompt{}, false, fmt.Errorf("%w: empty text", ErrInvalid)
	case len(text) > maxPromptBytes:
		return Prompt{}, false, fmt.Errorf("%w: text is %d bytes, the limit is %d", ErrInvalid, len(text), maxPromptBytes)
	}
	version := VersionOf(name, text)
	tag, err := l.pool.Exec(ctx, `INSERT INTO prompt_versions (account_id, name, version, text, note, created_by)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, accountID, name, version, text, note, author)
	if err != nil {
		return Prompt{}, false, fmt.Errorf("create prompt version %s: %w", version, err)
	}
	if activate {
		p, err := l.Activate(ctx, accountID, version)
		return p, tag.RowsAffected() == 1, err
	}
	p, err := l.Version(ctx, accountID, version)
	return p, tag.RowsAffected() == 1, err
}

// Activate puts a version in effect. Activating a file version (embedded or
// override) deactivates the stored ones, so the files are in effect again.
func (l *Library) Activate(ctx context.Context, accountID uuid.UUID, version string) (Prompt, error) {
	p, err := l.Version(ctx, accountID, version)
	if err != nil {
		return Prompt{}, err
	}
	err = pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE prompt_versions SET active = false WHERE account_id = $1 AND name = $2 AND active`,
			accountID, p.Name); err != nil {
			return err
		}
		if p.Source == SourceStored {
			_, err := tx.Exec(ctx, `UPDATE prompt_versions SET active = true WHERE account_id = $1 AND version = $2`, accountID, version)
			return err
		}
		return nil
	})
	if err != nil {
		return Prompt{}, fmt.Errorf("activate %s: %w", version, err)
	}
	return l.Get(ctx, accountID, p.Name)
}
