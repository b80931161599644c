package channels

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/internal/secretbox"
)

// ErrNotFound is returned for a channel that does not exist (in the account).
var ErrNotFound = errors.New("channel not found")

// ErrInvalidConfig is returned for a channel configuration missing what its kind needs.
var ErrInvalidConfig = errors.New("invalid channel configuration")

// ErrDuplicateName is returned when the account already has a channel with that name.
var ErrDuplicateName = errors.New("channel name already used")

// Channel is one configured channel instance of an account.
type Channel struct {
	ID        uuid.UUID         `json:"id"`
	AccountID uuid.UUID         `json:"-"`
	Kind      Kind              `json:"kind"`
	Name      string            `json:"name"`
	Settings  map[string]string `json:"settings"`
	Secrets   map[string]string `json:"-"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// Secret returns one secret by name.
func (c Channel) Secret(name string) string { return c.Secrets[name] }

// MaskedSecrets shows which secrets are set without revealing them: the last
// four characters of long ones, nothing of short ones.
func (c Channel) MaskedSecrets() map[string]string {
	out := make(map[string]string, len(c.Secrets))
	for k, v := range c.Secrets {
		if len(v) >= 16 {
			out[k] = "…" + v[len(v)-4:]
		} else {
			out[k] = "set"
		}
	}
	return out
}

// generatedSecrets are made by Atende when not given (the platform learns
// them from Atende); an adapter's Capabilities say which its kind requires.
var generatedSecrets = map[string]bool{"secret_token": true, "session_key": true, "inbound_token": true}

// NewChannel is a channel to create.
type NewChannel struct {
	Kind     Kind
	Name     string
	Settings map[string]string
	Secrets  map[string]string
}

// Store keeps channel configurations. It owns the channels table. Secrets
// are sealed value by value in the secrets column (the names stay readable,
// the values do not) and opened when read: a Channel holds them in clear.
type Store struct {
	pool     *pgxpool.Pool
	box      *secretbox.Box
	adapters *Registry
}

// NewStore returns a Store on the pool; box seals and opens the secrets.
func NewStore(pool *pgxpool.Pool, box *secretbox.Box) *Store {
	return &Store{pool: pool, box: box, adapters: builtin}
}

func randomSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// validate checks a channel has what its kind's adapter requires.
func (s *Store) validate(n NewChannel) error {
	a, ok := s.adapters.Adapter(n.Kind)
	if !ok {
		return fmt.Errorf("%w: unknown kind %q (%s)", ErrInvalidConfig, n.Kind, s.adapters.kindList())
	}
	if strings.TrimSpace(n.Name) == "" {
		return fmt.Errorf("%w: a channel needs a name", ErrInvalidConfig)
	}
	caps := a.Capabilities()
	var missing []string
	for _, name := range caps.RequiredSettings {
		if strings.TrimSpace(n.Settings[name]) == "" {
			missing = append(missing, "settings."+name)
		}
	}
	for _, name := range caps.RequiredSecrets {
		if strings.TrimSpace(n.Secrets[name]) == "" && !generatedSecrets[name] {
			missing = append(missing, "secrets."+name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("%w: a %s channel needs %s", ErrInvalidConfig, n.Kind, strings.Join(missing, ", "))
	}
	switch GroupPolicy(n.Settings["groups"]) {
	case "", GroupsRecord, GroupsIgnore:
	default:
		return fmt.Errorf("%w: settings.groups must be record (store group messages, unanswered) or ignore", ErrInvalidConfig)
	}
	if c, ok := a.(configChecker); ok {
		return c.checkConfig(n)
	}
	return nil
}

const channelColumns = `id, account_id, kind, name, settings, secrets, created_at, updated_at`

// sealSecrets is the secrets column for secrets: each value sealed.
func (s *Store) sealSecrets(secrets map[string]string) ([]byte, error) {
	sealed := make(map[string]string, len(secrets))
	for name, v := range secrets {
		var err error
		if sealed[name], err = s.box.Seal(v); err != nil {
			return nil, fmt.Errorf("seal secrets.%s: %w", name, err)
		}
	}
	return json.Marshal(sealed)
}

func (s *Store) scanChannel(row pgx.Row) (Channel, error) {
	var c Channel
	var settings, secrets []byte
	if err := row.Scan(&c.ID, &c.AccountID, &c.Kind, &c.Name, &settings, &secrets, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return c, err
	}
	if err := json.Unmarshal(settings, &c.Settings); err != nil {
		return c, fmt.Errorf("decode settings of channel %s: %w", c.ID, err)
	}
	if err := json.Unmarshal(secrets, &c.Secrets); err != nil {
		return c, fmt.Errorf("decode secrets of channel %s: %w", c.ID, err)
	}
	for name, v := range c.Secrets {
		plain, err := s.box.Open(v)
		if err != nil {
			return c, fmt.Errorf("open secrets.%s of channel %s (%q): %w", name, c.ID, c.Name, err)
		}
		c.Secrets[name] = plain
	}
	return c, nil
}

// Create validates and stores a channel, generating the secrets Atende hands
// to the platform (Telegram's secret token, the webchat session key, the
// inbound e-mail token) when they are not given.
func (s *Store) Create(ctx context.Context, accountID uuid.UUID, n NewChannel) (Channel, error) {
	if n.Settings == nil {
		n.Settings = map[string]string{}
	}
	if n.Secrets == nil {
		n.Secrets = map[string]string{}
	}
	if err := s.validate(n); err != nil {
		return Channel{}, err
	}
	a, _ := s.adapters.Adapter(n.Kind) // validate found it
	for _, name := range a.Capabilities().RequiredSecrets {
		if generatedSecrets[name] && n.Secrets[name] == "" {
			v, err := randomSecret()
			if err != nil {
				return Channel{}, err
			}
			n.Secrets[name] = v
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Channel{}, fmt.Errorf("new channel id: %w", err)
	}
	settings, _ := json.Marshal(n.Settings)
	secrets, err := s.sealSecrets(n.Secrets)
	if err != nil {
		return Channel{}, err
	}
	c, err := s.scanChannel(s.pool.QueryRow(ctx, `INSERT INTO channels (id, account_id, kind, name, settings, secrets)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+channelColumns, id, accountID, n.Kind, strings.TrimSpace(n.Name), settings, secrets))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return Channel{}, fmt.Errorf("%w: %q", ErrDuplicateName, n.Name)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("create %s channel: %w", n.Kind, err)
	}
	return c, nil
}

// List returns the account's channels by name.
func (s *Store) List(ctx context.Context, accountID uuid.UUID) ([]Channel, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+channelColumns+` FROM channels WHERE account_id = $1 ORDER BY name`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Channel, error) { return s.scanChannel(r) })
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	return out, nil
}

// Get returns one channel of the account.
func (s *Store) Get(ctx context.Context, accountID, id uuid.UUID) (Channel, error) {
	return s.getChannel(ctx, s.pool, accountID, id)
}

// GetTx is Get inside the caller's transaction, which must never wait for a
// second pool connection.
func (s *Store) GetTx(ctx context.Context, tx pgx.Tx, accountID, id uuid.UUID) (Channel, error) {
	return s.getChannel(ctx, tx, accountID, id)
}

func (s *Store) getChannel(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, accountID, id uuid.UUID) (Channel, error) {
	c, err := s.scanChannel(q.QueryRow(ctx, `SELECT `+channelColumns+` FROM channels WHERE account_id = $1 AND id = $2`, accountID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Channel{}, fmt.Errorf("channel %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("read channel %s: %w", id, err)
	}
	return c, nil
}

// ForWebhook finds the channel a webhook URL names. It is the one read not
// scoped by an API key: the channel id in the URL is what names the account,
// and the request is then verified with that channel's own secret.
func (s *Store) ForWebhook(ctx context.Context, kind Kind, id uuid.UUID) (Channel, error) {
	c, err := s.scanChannel(s.pool.QueryRow(ctx, `SELECT `+channelColumns+` FROM channels WHERE id = $1 AND kind = $2`, id, kind))
	if errors.Is(err, pgx.ErrNoRows) {
		return Channel{}, fmt.Errorf("%s channel %s: %w", kind, id, ErrNotFound)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("read channel %s: %w", id, err)
	}
	return c, nil
}

// SetSecrets replaces secrets of a channel (rotation). A generated secret
// given as "" is generated anew; the others must be given.
func (s *Store) SetSecrets(ctx context.Context, accountID, id uuid.UUID, secrets map[string]string) (Channel, error) {
	c, err := s.Get(ctx, accountID, id)
	if err != nil {
		return Channel{}, err
	}
	for name, v := range secrets {
		if v == "" && generatedSecrets[name] {
			if v, err = randomSecret(); err != nil {
				return Channel{}, err
			}
		}
		if v == "" {
			return Channel{}, fmt.Errorf("%w: secrets.%s cannot be empty", ErrInvalidConfig, name)
		}
		c.Secrets[name] = v
	}
	raw, err := s.sealSecrets(c.Secrets)
	if err != nil {
		return Channel{}, err
	}
	c, err = s.scanChannel(s.pool.QueryRow(ctx, `UPDATE channels SET secrets = $3, updated_at = now() WHERE account_id = $1 AND id = $2
		RETURNING `+channelColumns, accountID, id, raw))
	if err != nil {
		return Channel{}, fmt.Errorf("rotate secrets of %s: %w", id, err)
	}
	return c, nil
}

// SeenToken records a one-time webhook token and reports whether it was
// already recorded (a replay). Tokens older than a day are forgotten.
func (s *Store) SeenToken(ctx context.Context, channelID uuid.UUID, token string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO channel_replay_tokens (channel_id, token) VALUES ($1, $2) ON CONFLICT DO NOTHING`, channelID, token)
	if err != nil {
		return false, fmt.Errorf("record webhook token: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM channel_replay_tokens WHERE channel_id = $1 AND seen_at < now() - interval '1 day'`, channelID); err != nil {
		return false, fmt.Errorf("forget old webhook tokens: %w", err)
	}
	return tag.RowsAffected() == 0, nil
}

// Put creates the account's channel of that name, or brings an existing one
// to the given settings and secrets (the configuration file is applied at
// every start). A name already used by another kind is a conflict.
func (s *Store) Put(ctx context.Context, accountID uuid.UUID, n NewChannel) (Channel, error) {
	var existing Channel
	var err error
	existing, err = s.scanChannel(s.pool.QueryRow(ctx, `SELECT `+channelColumns+` FROM channels WHERE account_id = $1 AND name = $2`,
		accountID, strings.TrimSpace(n.Name)))
	if errors.Is(err, pgx.ErrNoRows) {
		return s.Create(ctx, accountID, n)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("read channel %q: %w", n.Name, err)
	}
	if existing.Kind != n.Kind {
		return Channel{}, fmt.Errorf("%w: %q is a %s channel, not %s", ErrDuplicateName, n.Name, existing.Kind, n.Kind)
	}
	if n.Settings == nil {
		n.Settings = map[string]string{}
	}
	secrets := existing.Secrets
	for k, v := range n.Secrets {
		secrets[k] = v
	}
	n.Secrets = secrets
	if err := s.validate(n); err != nil {
		return Channel{}, err
	}
	settings, _ := json.Marshal(n.Settings)
	raw, err := s.sealSecrets(secrets)
	if err != nil {
		return Channel{}, err
	}
	c, err := s.scanChannel(s.pool.QueryRow(ctx, `UPDATE channels SET settings = $3, secrets = $4, updated_at = now()
		WHERE account_id = $1 AND id = $2 RETURNING `+channelColumns, accountID, existing.ID, settings, raw))
	if err != nil {
		return Channel{}, fmt.Errorf("update channel %q: %w", n.Name, err)
	}
	return c, nil
}
