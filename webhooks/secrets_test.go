package webhooks

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/internal/secretbox"
	"github.com/atende/atende/internal/testdb"
)

// The signing secret is sealed in the table, and deliveries are still
// signed with it; a subscription stored in clear before encryption too.
func TestSubscriptionSecretsAreSealedAtRest(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t)
	acct := testdb.NewAccount(t, pool, "loja")
	var jobs []DeliverArgs
	store := NewStore(pool, testdb.SecretBox(t), insertRecorder(func(a DeliverArgs) { jobs = append(jobs, a) }))
	sealed := newReceiver(t, "whsec-plain-1", 0)
	sub, err := store.Subscribe(ctx, acct, sealed.URL, "whsec-plain-1", []string{CSATReceived})
	if err != nil || sub.Secret != "whsec-plain-1" {
		t.Fatalf("subscribe: %+v %v", sub, err)
	}
	legacy := newReceiver(t, "legacy-whsec", 0)
	legacyID := uuid.Must(uuid.NewV7())
	if _, err := pool.Exec(ctx, `INSERT INTO webhook_subscriptions (id, account_id, url, secret, events) VALUES ($1, $2, $3, 'legacy-whsec', $4)`,
		legacyID, acct, legacy.URL, []string{CSATReceived}); err != nil {
		t.Fatal(err)
	}
	var raw string
	if err := pool.QueryRow(ctx, `SELECT secret FROM webhook_subscriptions WHERE id = $1`, sub.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, "whsec-plain-1") || !strings.HasPrefix(raw, "enc:v1:") {
		t.Fatalf("the secret column holds %q", raw)
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return store.Emit(ctx, tx, acct, CSATReceived, map[string]int{"score": 5}) }); err != nil {
		t.Fatal(err)
	}
	w := NewDeliverWorker(store, outbound.TestRig())
	for _, a := range jobs {
		if err := w.Work(ctx, &river.Job[DeliverArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: maxAttempts}, Args: a}); err != nil {
			t.Fatal(err)
		}
	}
	if len(jobs) != 2 || len(sealed.received()) != 1 || len(legacy.received()) != 1 || sealed.bad+legacy.bad != 0 {
		t.Fatalf("%d jobs; sealed got %d (bad %d), legacy got %d (bad %d)", len(jobs), len(sealed.received()), sealed.bad, len(legacy.received()), legacy.bad)
	}
}

// A worker with the wrong key sends nothing and says why in the delivery
// log, without the secret.
func TestDeliveryWithTheWrongKeyIsLoggedNotSent(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t)
	acct := testdb.NewAccount(t, pool, "loja")
	var jobs []DeliverArgs
	store := NewStore(pool, testdb.SecretBox(t), insertRecorder(func(a DeliverArgs) { jobs = append(jobs, a) }))
	rcv := newReceiver(t, "whsec-plain-2", 0)
	sub, _ := store.Subscribe(ctx, acct, rcv.URL, "whsec-plain-2", []string{CSATReceived})
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return store.Emit(ctx, tx, acct, CSATReceived, map[string]int{"score": 5}) }); err != nil {
		t.Fatal(err)
	}
	wrong := NewStore(pool, testdb.SecretBox(t), nil)
	err := NewDeliverWorker(wrong, outbound.TestRig()).Work(ctx, &river.Job[DeliverArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: maxAttempts}, Args: jobs[0]})
	if !errors.Is(err, secretbox.ErrUnknownKey) {
		t.Fatalf("Work with the wrong key: %v", err)
	}
	log, _ := store.Deliveries(ctx, acct, sub.ID, 10)
	if len(rcv.received())+rcv.bad != 0 || log[0].Status != "pending" || !strings.Contains(log[0].LastError, "not configured") ||
		strings.Contains(log[0].LastError, "whsec-plain-2") {
		t.Fatalf("received %d; log %+v", len(rcv.received())+rcv.bad, log[0])
	}
}
