package webhooks

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/internal/testdb"
)

// An erasure deletes the deliveries that name the person, and only those;
// a pending one's job then finds nothing and is cancelled, not retried.
func TestErasedDeliveriesAreDeletedAndNotRetried(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t)
	acct := testdb.NewAccount(t, pool, "loja")
	var jobs []DeliverArgs
	store := NewStore(pool, testdb.SecretBox(t), insertRecorder(func(a DeliverArgs) { jobs = append(jobs, a) }))
	rcv := newReceiver(t, "k", 0)
	sub, err := store.Subscribe(ctx, acct, rcv.URL+"/hook", "k", []string{CSATReceived})
	if err != nil {
		t.Fatal(err)
	}
	erased, kept := uuid.New(), uuid.New()
	for _, id := range []uuid.UUID{erased, kept} {
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return store.Emit(ctx, tx, acct, CSATReceived, map[string]any{"score": 5, "contact_id": id})
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return store.EraseDeliveriesTx(ctx, tx, acct, []uuid.UUID{erased}) }); err != nil {
		t.Fatal(err)
	}
	log, err := store.Deliveries(ctx, acct, sub.ID, 10)
	if err != nil || len(log) != 1 || string(log[0].Payload) == "" || log[0].ID != jobs[1].DeliveryID {
		t.Fatalf("deliveries left %+v %v, want only the kept contact's", log, err)
	}
	w := NewDeliverWorker(store, outbound.TestRig())
	job := &river.Job[DeliverArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: maxAttempts}, Args: jobs[0]}
	var cancelled *river.JobCancelError
	if err := w.Work(ctx, job); !errors.As(err, &cancelled) {
		t.Fatalf("a gone delivery must not be retried: %v", err)
	}
	if len(rcv.received()) != 0 {
		t.Fatal("a gone delivery was sent")
	}
}
