package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/internal/sign"
	"github.com/atende/atende/internal/testdb"
)

// receiver is an n8n-like endpoint that checks signatures and can fail.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	fail   int // answer 500 this many times first
	bodies []Body
	bad    int
}

func newReceiver(t *testing.T, secret string, fail int) *receiver {
	r := &receiver{fail: fail}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if req.Header.Get("X-Atende-Signature") != sign.Signature(secret, req.Header.Get("X-Atende-Timestamp"), raw) {
			r.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.fail > 0 {
			r.fail--
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var b Body
		_ = json.Unmarshal(raw, &b)
		r.bodies = append(r.bodies, b)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []Body {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Body(nil), r.bodies...)
}

func TestSubscriptionsEmitAndDeliverSigned(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t)
	acct, other := testdb.NewAccount(t, pool, "loja"), testdb.NewAccount(t, pool, "outra")
	workers := river.NewWorkers()
	store := NewStore(pool, testdb.SecretBox(t), nil)
	river.AddWorker(workers, NewDeliverWorker(store, outbound.TestRig()))
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Queues: map[string]river.QueueConfig{Queue: {MaxWorkers: 2}},
		Workers: workers, FetchPollInterval: 20 * time.Millisecond, FetchCooldown: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	store.jobs = client
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(context.Background()) })

	rcv := newReceiver(t, "s3cr3t", 0)
	sub, err := store.Subscribe(ctx, acct, rcv.URL+"/n8n", "s3cr3t", []string{HandoffCreated, SLABreached})
	if err != nil {
		t.Fatal(err)
	}
	generated, err := store.Subscribe(ctx, acct, rcv.URL+"/other", "", []string{CSATReceived})
	if err != nil || len(generated.Secret) != 64 {
		t.Fatalf("a generated secret is returned once: %+v %v", generated, err)
	}
	for _, bad := range []struct {
		url    string
		events []string
	}{{"ftp://x", []string{HandoffCreated}}, {rcv.URL, nil}, {rcv.URL, []string{"handoff.exploded"}}} {
		if _, err := store.Subscribe(ctx, acct, bad.url, "", bad.events); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: %v", bad, err)
		}
	}
	emit := func(acct uuid.UUID, event string, data any) {
		t.Helper()
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return store.Emit(ctx, tx, acct, event, data) }); err != nil {
			t.Fatal(err)
		}
	}
	emit(acct, HandoffCreated, map[string]string{"handoff_id": "h1"})
	emit(acct, MessageCreated, map[string]string{"not": "subscribed"})
	emit(other, HandoffCreated, map[string]string{"other": "account"})
	// A rolled-back transaction sends nothing.
	_ = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_ = store.Emit(ctx, tx, acct, SLABreached, map[string]string{"rolled": "back"})
		return errors.New("rollback")
	})
	deadline := time.Now().Add(10 * time.Second)
	for len(rcv.received()) < 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	// Every delivery job has run: nothing else will arrive.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var pending int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE queue = $1 AND state NOT IN ('completed', 'discarded', 'cancelled')`,
			Queue).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 || time.Now().After(deadline) {
			break
		}
	}
	got := rcv.received()
	if len(got) != 1 || got[0].Event != HandoffCreated || got[0].AccountID != acct || string(got[0].Data) != `{"handoff_id":"h1"}` || rcv.bad != 0 {
		t.Fatalf("received %+v (bad signatures %d)", got, rcv.bad)
	}
	log, err := store.Deliveries(ctx, acct, sub.ID, 10)
	if err != nil || len(log) != 1 || log[0].Status != "delivered" || log[0].Attempts != 1 || *log[0].LastStatus != 200 {
		t.Fatalf("delivery log: %+v %v", log, err)
	}
	if _, err := store.Deliveries(ctx, other, sub.ID, 10); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another account reads the log: %v", err)
	}
}

// A failing receiver is retried; the log shows each attempt and the last
// attempt marks the delivery failed.
func TestFailedDeliveriesAreRetriedAndLogged(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t)
	acct := testdb.NewAccount(t, pool, "loja")
	var jobs []DeliverArgs
	store := NewStore(pool, testdb.SecretBox(t), insertRecorder(func(a DeliverArgs) { jobs = append(jobs, a) }))
	rcv := newReceiver(t, "k", 1)
	sub, _ := store.Subscribe(ctx, acct, rcv.URL, "k", []string{CSATReceived})
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return store.Emit(ctx, tx, acct, CSATReceived, map[string]int{"score": 5}) }); err != nil {
		t.Fatal(err)
	}
	w := NewDeliverWorker(store, outbound.TestRig())
	job := &river.Job[DeliverArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: maxAttempts}, Args: jobs[0]}
	if err := w.Work(ctx, job); err == nil {
		t.Fatal("a 500 must be an error, so River retries")
	}
	if next := w.NextRetry(job); next.Before(time.Now().Add(4 * time.Second)) {
		t.Fatalf("backoff: %v", next)
	}
	job.Attempt = 2
	if err := w.Work(ctx, job); err != nil {
		t.Fatal(err)
	}
	log, _ := store.Deliveries(ctx, acct, sub.ID, 10)
	if log[0].Status != "delivered" || log[0].Attempts != 2 || len(rcv.received()) != 1 {
		t.Fatalf("log %+v", log[0])
	}
	rcv.fail = 100
	_ = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return store.Emit(ctx, tx, acct, CSATReceived, map[string]int{"score": 1}) })
	last := &river.Job[DeliverArgs]{JobRow: &rivertype.JobRow{Attempt: maxAttempts, MaxAttempts: maxAttempts}, Args: jobs[1]}
	_ = w.Work(ctx, last)
	log, _ = store.Deliveries(ctx, acct, sub.ID, 10)
	if log[0].Status != "failed" || log[0].LastError != "HTTP 500" {
		t.Fatalf("after the last attempt: %+v", log[0])
	}
}

// A subscription at an internal address (stored before the policy, or whose
// name now resolves there) is never dialed: the delivery fails at once,
// saying why in words that tell nothing of what is behind the address.
func TestADeliveryToAnInternalAddressIsRefused(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t)
	acct := testdb.NewAccount(t, pool, "loja")
	var jobs []DeliverArgs
	store := NewStore(pool, testdb.SecretBox(t), insertRecorder(func(a DeliverArgs) { jobs = append(jobs, a) }))
	rcv := newReceiver(t, "k", 0)
	sub, _ := store.Subscribe(ctx, acct, rcv.URL+"/hook?token=subscriber-secret", "k", []string{CSATReceived})
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return store.Emit(ctx, tx, acct, CSATReceived, map[string]int{"score": 5}) }); err != nil {
		t.Fatal(err)
	}
	w := NewDeliverWorker(store, outbound.Policy{})
	job := &river.Job[DeliverArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: maxAttempts}, Args: jobs[0]}
	var cancelled *river.JobCancelError
	if err := w.Work(ctx, job); !errors.As(err, &cancelled) {
		t.Fatalf("a refused address must not be retried: %v", err)
	}
	log, _ := store.Deliveries(ctx, acct, sub.ID, 10)
	if len(rcv.received()) != 0 || log[0].Status != "failed" || log[0].LastError != "refused: blocked by the outbound policy" {
		t.Fatalf("received %d, log %+v", len(rcv.received()), log[0])
	}
}

type insertRecorder func(DeliverArgs)

func (f insertRecorder) InsertTx(_ context.Context, _ pgx.Tx, args river.JobArgs, _ *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	f(args.(DeliverArgs))
	return &rivertype.JobInsertResult{}, nil
}
