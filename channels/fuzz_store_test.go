package channels

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/atende/atende/internal/testdb"
	"github.com/atende/atende/memory"
)

// FuzzIngestStores goes one step past parsing: whatever a parser accepts is
// stored through the real Ingestor in a real database. The database must
// never be the one to refuse it — a NUL byte once passed every parser and
// then failed the INSERT, sinking the delivery — so any PostgreSQL error,
// returned or named as a skip reason, is a bug of the preparation. Messages,
// statuses and annotations of every adapter are covered.
func FuzzIngestStores(f *testing.F) {
	seedFuzz(f, "whatsapp_cloud", "instagram", "evolution", "telegram", "chatwoot", "email")
	f.Add([]byte(`{"event":"messages.upsert","data":{"key":{"remoteJid":"5511987654321@s.whatsapp.net","id":"R1"},"message":{"reactionMessage":{"key":{"id":"X\u0000"},"text":"\u0000👍"}}}}`))
	pool, _ := testdb.New(f)
	mem := memory.NewStore(pool, nil, memory.NewHashEmbedder(memory.DefaultHashDims), slog.New(slog.NewTextHandler(io.Discard, nil)))
	acct := testdb.NewAccount(f, pool, "fuzz")
	chs := NewStore(pool, testdb.SecretBox(f))
	ch, err := chs.Create(context.Background(), acct, NewChannel{Kind: KindWhatsApp, Name: "wa",
		Settings: map[string]string{"phone_number_id": "1"}, Secrets: map[string]string{"app_secret": "s", "verify_token": "v", "access_token": "t"}})
	if err != nil {
		f.Fatal(err)
	}
	ing := NewIngestor(pool, mem, nil)
	parsers := []func([]byte) (Batch, error){ParseWhatsAppCloud, ParseInstagram, ParseEvolution, ParseTelegram, ParseChatwoot, ParsePostmarkInbound,
		func(b []byte) (Batch, error) {
			form, err := url.ParseQuery(string(b))
			if err != nil {
				return Batch{}, err
			}
			return ParseEmailForm(EmailSendGrid, form)
		}}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, parse := range parsers {
			b, err := parse(body)
			if err != nil {
				continue
			}
			res, err := ing.Ingest(context.Background(), ch, b)
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) {
				t.Fatalf("the database refused what was parsed: %v", err)
			}
			for _, s := range res.Skipped {
				if strings.Contains(s.Reason, "SQLSTATE") {
					t.Fatalf("the database refused an item: %s", s.Reason)
				}
			}
		}
	})
}
