// Package accounts owns the tenants (accounts) and the API keys that act for
// them. Keys are stored as SHA-256 digests: they are random 256-bit secrets,
// so a fast hash is as safe as a slow one and keeps every request cheap.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrUnauthorized is returned for a missing, unknown or revoked API key.
var ErrUnauthorized = errors.New("unauthorized")

// ErrNotFound is returned for an account that does not exist.
var ErrNotFound = errors.New("account not found")

// ErrKeyNotFound is returned for an API key the account does not have (a key
// of another account is not found either: nothing tells the two apart).
var ErrKeyNotFound = errors.New("api key not found")

// ErrAmbiguousKey is returned when a prefix names more than one of the
// account's keys; the caller names the key by its id instead.
var ErrAmbiguousKey = errors.New("that prefix names more than one api key: use the key's id")

// ErrLastKey is returned when revoking would leave the account without an
// active key and the caller asked to keep one (the REST API does: a tenant
// must not lock itself out; an operator with the CLI may).
var ErrLastKey = errors.New("that is the account's last active api key: create another first")

// ErrInvalid is returned for a key label that cannot be stored.
var ErrInvalid = errors.New("invalid")

// MaxKeyNameLen caps a key's label, which only tells keys apart in lists.
const MaxKeyNameLen = 100

// lastUsedPrecision is how stale a key's last_used_at may get: it is written
// at most once a minute per key, so a busy key costs no write per request.
const lastUsedPrecision = "1 minute"

// KeyPrefix starts every Atende API key, so leaked keys are easy to find in logs and repos.
const KeyPrefix = "atd_"

// Account is a tenant: one business and everything it stores.
type Account struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
	Slug string    `json:"slug"`
}

// Store reads and writes accounts and API keys.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a Store on the pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Ensure returns the account with this slug, creating it if needed; seeding
// the demo account twice changes nothing.
func (s *Store) Ensure(ctx context.Context, slug, name string) (Account, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Account{}, fmt.Errorf("new account id: %w", err)
	}
	var a Account
	err = s.pool.QueryRow(ctx, `INSERT INTO accounts (id, name, slug) VALUES ($1, $2, $3)
		ON CONFLICT (slug) DO UPDATE SET slug = excluded.slug RETURNING id, name, slug`, id, name, slug).Scan(&a.ID, &a.Name, &a.Slug)
	if err != nil {
		return Account{}, fmt.Errorf("ensure account %s: %w", slug, err)
	}
	return a, nil
}

// Summary is an account as `atende accounts list` shows it.
type Summary struct {
	Account
	CreatedAt time.Time `json:"created_at"`
	// ActiveKeys counts the account's keys not revoked.
	ActiveKeys int `json:"active_keys"`
}

// List returns every account, by slug. It is the operator's view across
// tenants (the CLI); nothing a tenant's key reaches calls it.
func (s *Store) List(ctx context.Context) ([]Summary, error) {
	rows, err := s.pool.Query(ctx, `SELECT a.id, a.name, a.slug, a.created_at,
			count(k.id) FILTER (WHERE k.revoked_at IS NULL)
		FROM accounts a LEFT JOIN api_keys k ON k.account_id = a.id
		GROUP BY a.id ORDER BY a.slug`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Summary, error) {
		var a Summary
		err := r.Scan(&a.ID, &a.Name, &a.Slug, &a.CreatedAt, &a.ActiveKeys)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return list, nil
}

// Key is an API key as lists show it: never the key itself nor its hash,
// only what tells keys apart (the label and the first characters).
type Key struct {
	ID     uuid.UUID `json:"id"`
	Name   string    `json:"name"`
	Prefix string    `json:"prefix"`
	// CreatedAt is when the key was issued.
	CreatedAt time.Time `json:"created_at"`
	// LastUsedAt is the last authenticated request, to the minute (nil: never used).
	LastUsedAt *time.Time `json:"last_used_at"`
	// RevokedAt is when the key stopped working (nil: it works).
	RevokedAt *time.Time `json:"revoked_at"`
}

const keyColumns = `id, name, prefix, created_at, last_used_at, revoked_at`

func scanKey(r pgx.Row) (Key, error) {
	var k Key
	err := r.Scan(&k.ID, &k.Name, &k.Prefix, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt)
	return k, err
}

// NewKey creates a random API key for the account and returns it in clear;
// this is the only time the clear key exists.
func (s *Store) NewKey(ctx context.Context, accountID uuid.UUID, name string) (string, error) {
	_, key, err := s.CreateKey(ctx, accountID, name)
	return key, err
}

// CreateKey issues a random API key to the account and returns it in clear
// with what lists will show of it; the clear key exists only in this answer.
func (s *Store) CreateKey(ctx context.Context, accountID uuid.UUID, name string) (Key, string, error) {
	name = strings.TrimSpace(name)
	if len(name) > MaxKeyNameLen {
		return Key{}, "", fmt.Errorf("%w: a key's name is at most %d bytes", ErrInvalid, MaxKeyNameLen)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, "", fmt.Errorf("generate api key: %w", err)
	}
	key := KeyPrefix + base64.RawURLEncoding.EncodeToString(secret)
	id, err := uuid.NewV7()
	if err != nil {
		return Key{}, "", fmt.Errorf("new api key id: %w", err)
	}
	hash := sha256.Sum256([]byte(key))
	k, err := scanKey(s.pool.QueryRow(ctx, `INSERT INTO api_keys (id, account_id, name, prefix, key_hash)
		SELECT $1, id, $3, $4, $5 FROM accounts WHERE id = $2 RETURNING `+keyColumns,
		id, accountID, name, displayPrefix(key), hash[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		return Key{}, "", fmt.Errorf("issue api key: %w", ErrNotFound)
	}
	if err != nil {
		return Key{}, "", fmt.Errorf("store api key: %w", err)
	}
	return k, key, nil
}

// Keys lists the account's API keys, revoked ones included, oldest first.
func (s *Store) Keys(ctx context.Context, accountID uuid.UUID) ([]Key, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE account_id = $1 ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Key, error) { return scanKey(r) })
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return list, nil
}

// RevokeOptions say how careful a revocation is.
type RevokeOptions struct {
	// KeepLast refuses (ErrLastKey) to revoke the account's last active key.
	KeepLast bool
}

// RevokeKey stops one of the account's keys from working: its next request
// is refused, since Authenticate reads the database every time (there is no
// cache to wait for). ref is the key's id, its prefix as lists show it, or
// the key itself (to revoke a leaked key by what leaked). A key of another
// account is ErrKeyNotFound. Revoking a revoked key changes nothing. active
// is how many of the account's keys still work afterwards, so a caller can
// say so when none does.
func (s *Store) RevokeKey(ctx context.Context, accountID uuid.UUID, ref string, opts RevokeOptions) (revoked Key, active int, err error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return Key{}, 0, fmt.Errorf("revoke api key: %w", ErrKeyNotFound)
	}
	// ref never goes into an error or a log: it may be the key itself.
	id, _ := uuid.Parse(ref) // not an id: uuid.Nil matches no key
	hash := sha256.Sum256([]byte(ref))
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The account's active keys are locked, in one order, with the one
		// named: two revocations at once cannot both leave "one more".
		rows, err := tx.Query(ctx, `SELECT `+keyColumns+`, (id = $2 OR prefix = $3 OR key_hash = $4) FROM api_keys
			WHERE account_id = $1 AND (revoked_at IS NULL OR id = $2 OR prefix = $3 OR key_hash = $4)
			ORDER BY id FOR UPDATE`, accountID, id, ref, hash[:])
		if err != nil {
			return fmt.Errorf("read api keys: %w", err)
		}
		var named []Key
		active = 0
		for rows.Next() {
			var k Key
			var match bool
			if err := rows.Scan(&k.ID, &k.Name, &k.Prefix, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt, &match); err != nil {
				rows.Close()
				return fmt.Errorf("read api keys: %w", err)
			}
			if k.RevokedAt == nil {
				active++
			}
			if match {
				named = append(named, k)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read api keys: %w", err)
		}
		switch {
		case len(named) == 0:
			return fmt.Errorf("revoke api key: %w", ErrKeyNotFound)
		case len(named) > 1:
			return fmt.Errorf("revoke api key: %w", ErrAmbiguousKey)
		}
		revoked = named[0]
		if revoked.RevokedAt != nil {
			return nil
		}
		if opts.KeepLast && active <= 1 {
			return fmt.Errorf("revoke api key %s: %w", revoked.ID, ErrLastKey)
		}
		if err := tx.QueryRow(ctx, `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND account_id = $2 RETURNING revoked_at`,
			revoked.ID, accountID).Scan(&revoked.RevokedAt); err != nil {
			return fmt.Errorf("revoke api key %s: %w", revoked.ID, err)
		}
		active--
		return nil
	})
	if err != nil {
		return Key{}, 0, err
	}
	return revoked, active, nil
}

// AddKey stores the hash of a given key (the demo key from ATENDE_DEMO_API_KEY).
// Adding a key the account already has is a no-op; a key of another account is refused.
func (s *Store) AddKey(ctx context.Context, accountID uuid.UUID, name, key string) error {
	if len(key) < 16 {
		return errors.New("an API key must be at least 16 characters")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("new api key id: %w", err)
	}
	hash := sha256.Sum256([]byte(key))
	var owner uuid.UUID
	err = s.pool.QueryRow(ctx, `WITH ins AS (
			INSERT INTO api_keys (id, account_id, name, prefix, key_hash) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (key_hash) DO NOTHING RETURNING account_id)
		SELECT account_id FROM ins UNION ALL SELECT account_id FROM api_keys WHERE key_hash = $5 LIMIT 1`,
		id, accountID, name, displayPrefix(key), hash[:]).Scan(&owner)
	if err != nil {
		return fmt.Errorf("store api key: %w", err)
	}
	if owner != accountID {
		return errors.New("that API key already belongs to another account")
	}
	return nil
}

// displayPrefix is the part of a key safe to show in lists ("atd_AbCd…").
func displayPrefix(key string) string {
	if len(key) <= 8 {
		return key[:len(key)/2]
	}
	return key[:8]
}

// Caller is who an API request acts as: the account, and the key (by id
// and name, never the key) — what the audit trail and the timeline say did it.
type Caller struct {
	Account Account
	KeyID   uuid.UUID
	KeyName string
}

// Authenticate returns the account a key acts for. Nothing is cached: a key
// revoked a moment ago is refused on its next request, on every replica.
func (s *Store) Authenticate(ctx context.Context, key string) (Account, error) {
	c, err := s.Caller(ctx, key)
	return c.Account, err
}

// Caller is Authenticate with the key that authenticated.
func (s *Store) Caller(ctx context.Context, key string) (Caller, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return Caller{}, ErrUnauthorized
	}
	hash := sha256.Sum256([]byte(key))
	var c Caller
	// last_used_at is written at most once per lastUsedPrecision, in the
	// same statement, so a busy key costs no extra round trip and no write
	// per request; a key row another transaction holds (a revocation, a
	// concurrent touch) is skipped, so authenticating never waits on a lock.
	err := s.pool.QueryRow(ctx, `WITH k AS (
			SELECT id, account_id, name FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL),
		touched AS (
			UPDATE api_keys SET last_used_at = now() WHERE id = (
				SELECT t.id FROM api_keys t JOIN k ON k.id = t.id
				WHERE t.last_used_at IS NULL OR t.last_used_at < now() - interval '`+lastUsedPrecision+`'
				FOR UPDATE OF t SKIP LOCKED))
		SELECT a.id, a.name, a.slug, k.id, k.name FROM k JOIN accounts a ON a.id = k.account_id`, hash[:]).
		Scan(&c.Account.ID, &c.Account.Name, &c.Account.Slug, &c.KeyID, &c.KeyName)
	if errors.Is(err, pgx.ErrNoRows) {
		return Caller{}, ErrUnauthorized
	}
	if err != nil {
		return Caller{}, fmt.Errorf("authenticate api key: %w", err)
	}
	return c, nil
}

// BySlug returns the account with this slug.
func (s *Store) BySlug(ctx context.Context, slug string) (Account, error) {
	var a Account
	err := s.pool.QueryRow(ctx, `SELECT id, name, slug FROM accounts WHERE slug = $1`, slug).Scan(&a.ID, &a.Name, &a.Slug)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, fmt.Errorf("account %s: %w", slug, ErrNotFound)
	}
	if err != nil {
		return Account{}, fmt.Errorf("read account %s: %w", slug, err)
	}
	return a, nil
}

// BusinessName is the company's name as customers know it (the account's
// name from the business file or `atende accounts create`): the offline
// greeting says it instead of a generic "nossa empresa".
func (s *Store) BusinessName(ctx context.Context, accountID uuid.UUID) (string, error) {
	var name string
	err := s.pool.QueryRow(ctx, `SELECT name FROM accounts WHERE id = $1`, accountID).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("account %s: %w", accountID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read account %s: %w", accountID, err)
	}
	return name, nil
}
