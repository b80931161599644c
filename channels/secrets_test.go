package channels

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/internal/secretbox"
	"github.com/atende/atende/internal/testdb"
)

// rawSecrets is the secrets column as a SQL session sees it.
func rawSecrets(t *testing.T, pool *pgxpool.Pool, id uuid.UUID) string {
	t.Helper()
	var raw string
	if err := pool.QueryRow(context.Background(), `SELECT secrets::text FROM channels WHERE id = $1`, id).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestChannelSecretsAreSealedAtRest(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t)
	acct := testdb.NewAccount(t, pool, "loja")
	s := NewStore(pool, testdb.SecretBox(t))
	c, err := s.Create(ctx, acct, NewChannel{Kind: KindWhatsApp, Name: "WhatsApp", Settings: map[string]string{"phone_number_id": "1"},
		Secrets: map[string]string{"app_secret": "app-secret-plain-1", "verify_token": "verify-plain-1", "access_token": "EAAG-plain-token-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Secret("access_token") != "EAAG-plain-token-1" {
		t.Fatalf("Create returned %q", c.Secret("access_token"))
	}
	raw := rawSecrets(t, pool, c.ID)
	for _, plain := range []string{"app-secret-plain-1", "verify-plain-1", "EAAG-plain-token-1"} {
		if strings.Contains(raw, plain) {
			t.Fatalf("the secrets column holds %q in clear: %s", plain, raw)
		}
	}
	if strings.Count(raw, `"enc:v1:`) != 3 || !strings.Contains(raw, `"access_token"`) {
		t.Fatalf("the secrets column is not three sealed values by name: %s", raw)
	}
	for name, get := range map[string]func() (Channel, error){
		"Get":        func() (Channel, error) { return s.Get(ctx, acct, c.ID) },
		"ForWebhook": func() (Channel, error) { return s.ForWebhook(ctx, KindWhatsApp, c.ID) },
		"List": func() (Channel, error) {
			l, err := s.List(ctx, acct)
			if err != nil || len(l) != 1 {
				return Channel{}, errors.Join(err, errors.New("not one channel"))
			}
			return l[0], nil
		},
	} {
		got, err := get()
		if err != nil || got.Secret("app_secret") != "app-secret-plain-1" || got.Secret("access_token") != "EAAG-plain-token-1" {
			t.Fatalf("%s: %v %v", name, got.Secrets, err)
		}
	}

	// Rotating a secret and applying the business file seal too.
	if _, err := s.SetSecrets(ctx, acct, c.ID, map[string]string{"access_token": "EAAG-plain-token-2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, acct, NewChannel{Kind: KindWhatsApp, Name: "WhatsApp", Settings: map[string]string{"phone_number_id": "1"},
		Secrets: map[string]string{"app_secret": "app-secret-plain-3"}}); err != nil {
		t.Fatal(err)
	}
	raw = rawSecrets(t, pool, c.ID)
	if strings.Contains(raw, "plain") || strings.Count(raw, `"enc:v1:`) != 3 {
		t.Fatalf("after SetSecrets and Put: %s", raw)
	}
	got, err := s.Get(ctx, acct, c.ID)
	if err != nil || got.Secret("access_token") != "EAAG-plain-token-2" || got.Secret("app_secret") != "app-secret-plain-3" || got.Secret("verify_token") != "verify-plain-1" {
		t.Fatalf("after SetSecrets and Put: %v %v", got.Secrets, err)
	}
}

// A database from before encryption: its channels keep working, and the
// next write seals them.
func TestLegacyPlaintextChannelStillWorks(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t)
	acct := testdb.NewAccount(t, pool, "loja")
	id := insertLegacyChannel(t, pool, acct, "Bot", `{"bot_token": "123:legacy-bot-token", "secret_token": "legacy-secret-token"}`)
	s := NewStore(pool, testdb.SecretBox(t))
	c, err := s.ForWebhook(ctx, KindTelegram, id)
	if err != nil || c.Secret("bot_token") != "123:legacy-bot-token" || c.Secret("secret_token") != "legacy-secret-token" {
		t.Fatalf("legacy channel: %v %v", c.Secrets, err)
	}
	if _, err := s.SetSecrets(ctx, acct, id, map[string]string{"secret_token": ""}); err != nil {
		t.Fatal(err)
	}
	if raw := rawSecrets(t, pool, id); strings.Contains(raw, "legacy-bot-token") || strings.Count(raw, `"enc:v1:`) != 2 {
		t.Fatalf("a write leaves legacy plaintext: %s", raw)
	}
}

func insertLegacyChannel(t *testing.T, pool *pgxpool.Pool, acct uuid.UUID, name, secrets string) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	if _, err := pool.Exec(context.Background(), `INSERT INTO channels (id, account_id, kind, name, settings, secrets) VALUES ($1, $2, 'telegram', $3, '{}', $4)`,
		id, acct, name, secrets); err != nil {
		t.Fatal(err)
	}
	return id
}

// A server started with the wrong key says which channel it cannot read,
// and why, without showing a key or a secret.
func TestWrongKeyNamesTheChannel(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t)
	acct := testdb.NewAccount(t, pool, "loja")
	right, wrong := testdb.SecretKey(t), testdb.SecretKey(t)
	c, err := NewStore(pool, testdb.BoxFor(t, right)).Create(ctx, acct, NewChannel{Kind: KindTelegram, Name: "Bot da loja",
		Secrets: map[string]string{"bot_token": "123:bot-token-in-clear"}})
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(pool, testdb.BoxFor(t, wrong))
	_, err = s.Get(ctx, acct, c.ID)
	if !errors.Is(err, secretbox.ErrUnknownKey) {
		t.Fatalf("Get with the wrong key: %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, c.ID.String()) || !strings.Contains(msg, "Bot da loja") {
		t.Fatalf("the error does not name the channel: %s", msg)
	}
	for _, k := range []string{right, wrong} {
		raw, _ := base64.StdEncoding.DecodeString(k)
		if strings.Contains(msg, k) || strings.Contains(msg, string(raw)) || strings.Contains(msg, "bot-token-in-clear") {
			t.Fatalf("the error shows a key or the secret: %s", msg)
		}
	}
	if _, err := s.List(ctx, acct); !errors.Is(err, secretbox.ErrUnknownKey) {
		t.Fatalf("List with the wrong key: %v", err)
	}
}

// Key rotation: channels sealed with A and one stored in clear are read
// with "B,A", re-sealed with B, and then read with B alone; re-sealing again
// writes nothing.
func TestResealRotatesFromAToB(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t)
	acct := testdb.NewAccount(t, pool, "loja")
	a, b := testdb.SecretKey(t), testdb.SecretKey(t)
	withA := NewStore(pool, testdb.BoxFor(t, a))
	sealed, err := withA.Create(ctx, acct, NewChannel{Kind: KindTelegram, Name: "Bot A", Secrets: map[string]string{"bot_token": "123:token-a"}})
	if err != nil {
		t.Fatal(err)
	}
	legacy := insertLegacyChannel(t, pool, acct, "Bot legado", `{"bot_token": "123:legacy-token", "secret_token": "legacy-secret"}`)

	both := NewStore(pool, testdb.BoxFor(t, b+","+a))
	tally, err := both.ResealSecrets(ctx, 1) // a batch of one: the loop goes past the first page
	if err != nil || tally != (secretbox.Tally{Rows: 2, Resealed: 2}) {
		t.Fatalf("first reseal: %+v %v", tally, err)
	}
	if tally, err := both.ResealSecrets(ctx, 1); err != nil || tally != (secretbox.Tally{Rows: 2, Resealed: 0}) {
		t.Fatalf("second reseal: %+v %v", tally, err)
	}
	idB := secretbox.KeyID(mustDecode(t, b))
	for _, id := range []uuid.UUID{sealed.ID, legacy} {
		if raw := rawSecrets(t, pool, id); strings.Contains(raw, "123:") || strings.Contains(raw, "legacy-") ||
			strings.Count(raw, "enc:") == 0 || strings.Count(raw, "enc:v1:"+idB+":") != strings.Count(raw, "enc:") {
			t.Fatalf("after the reseal channel %s is %s", id, raw)
		}
	}
	onlyB := NewStore(pool, testdb.BoxFor(t, b))
	list, err := onlyB.List(ctx, acct)
	if err != nil || len(list) != 2 || list[0].Secret("bot_token") != "123:token-a" || list[1].Secret("bot_token") != "123:legacy-token" ||
		list[1].Secret("secret_token") != "legacy-secret" {
		t.Fatalf("with B alone: %+v %v", list, err)
	}
	// A alone can no longer read them: the error names the channel.
	_, err = NewStore(pool, testdb.BoxFor(t, a)).ResealSecrets(ctx, 10)
	if !errors.Is(err, secretbox.ErrUnknownKey) || !strings.Contains(err.Error(), `"Bot A"`) {
		t.Fatalf("reseal with a key that opens nothing: %v", err)
	}
}

func mustDecode(t *testing.T, key string) []byte {
	t.Helper()
	k, err := secretbox.ParseKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	return k[0]
}
