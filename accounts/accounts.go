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

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrUnauthorized is returned for a missing, unknown or revoked API key.
var ErrUnauthorized = errors.New("unauthorized")

// ErrNotFound is returned for an account that does not exist.
var ErrNotFound = errors.New("account not found")

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

// NewKey creates a random API key for the account and returns it in clear;
// this is the only time the clear key exists.
func (s *Store) NewKey(ctx context.Context, accountID uuid.UUID, name string) (string, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", fmt.Errorf("generate api key: %w", err)
	}
	key := KeyPrefix + base64.RawURLEncoding.EncodeToString(secret)
	if err := s.AddKey(ctx, accountID, name, key); err != nil {
		return "", err
	}
	return key, nil
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

// Authenticate returns the account a key acts for.
func (s *Store) Authenticate(ctx context.Context, key string) (Account, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return Account{}, ErrUnauthorized
	}
	hash := sha256.Sum256([]byte(key))
	var a Account
	err := s.pool.QueryRow(ctx, `SELECT a.id, a.name, a.slug FROM api_keys k JOIN accounts a ON a.id = k.account_id
		WHERE k.key_hash = $1 AND k.revoked_at IS NULL`, hash[:]).Scan(&a.ID, &a.Name, &a.Slug)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, ErrUnauthorized
	}
	if err != nil {
		return Account{}, fmt.Errorf("authenticate api key: %w", err)
	}
	return a, nil
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
