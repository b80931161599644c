package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/internal/sign"
)

// Queue is the River queue deliveries run on.
const Queue = "webhooks"

// maxAttempts bounds the retries of a delivery (about a day with River's backoff).
const maxAttempts = 12

// DeliverArgs is the job that POSTs one delivery.
type DeliverArgs struct {
	AccountID  uuid.UUID `json:"account_id"`
	DeliveryID int64     `json:"delivery_id"`
}

// Kind names the job in River's table.
func (DeliverArgs) Kind() string { return "webhook_delivery" }

// InsertOpts puts deliveries on their own queue with retries.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: maxAttempts}
}

// Body is what a subscriber receives.
type Body struct {
	ID        int64           `json:"id"`
	Event     string          `json:"event"`
	AccountID uuid.UUID       `json:"account_id"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// DeliverWorker POSTs deliveries.
type DeliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	store  *Store
	client *http.Client
}

// NewDeliverWorker returns the worker. A subscription's URL is the tenant's,
// so deliveries are dialed under the outbound policy (the zero Policy:
// public addresses only), with a 10 s timeout.
func NewDeliverWorker(store *Store, policy outbound.Policy) *DeliverWorker {
	return &DeliverWorker{store: store, client: policy.Client(10 * time.Second)}
}

// NextRetry backs off exponentially from 5 s, capped at an hour.
func (w *DeliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	d := 5 * time.Second << min(job.Attempt-1, 10)
	return time.Now().Add(min(d, time.Hour))
}

// Work sends the delivery, signed, and logs the outcome; a non-2xx answer
// or a network error is retried.
func (w *DeliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	s := w.store
	var b Body
	var url, secret, status string
	err := s.pool.QueryRow(ctx, `SELECT d.id, d.event, d.created_at, d.payload, d.status, s.url, s.secret
		FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
		WHERE d.account_id = $1 AND d.id = $2`, job.Args.AccountID, job.Args.DeliveryID).
		Scan(&b.ID, &b.Event, &b.CreatedAt, &b.Data, &status, &url, &secret)
	if errors.Is(err, pgx.ErrNoRows) {
		// Its subscription was deleted, or its subject erased: no retry brings it back.
		return river.JobCancel(fmt.Errorf("delivery %d is gone", job.Args.DeliveryID))
	}
	if err != nil {
		return fmt.Errorf("load delivery %d: %w", job.Args.DeliveryID, err)
	}
	if status == "delivered" {
		return nil
	}
	if secret, err = s.box.Open(secret); err != nil {
		return w.record(ctx, job, nil, fmt.Errorf("open the subscription's secret: %w", err))
	}
	b.AccountID = job.Args.AccountID
	body, _ := json.Marshal(b)
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return w.record(ctx, job, nil, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Atende-Webhooks")
	req.Header.Set("X-Atende-Event", b.Event)
	req.Header.Set("X-Atende-Delivery", strconv.FormatInt(b.ID, 10))
	req.Header.Set("X-Atende-Timestamp", ts)
	req.Header.Set("X-Atende-Signature", sign.Signature(secret, ts, body))
	resp, err := w.client.Do(req)
	if err != nil {
		return w.record(ctx, job, nil, networkError(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	code := resp.StatusCode
	if code/100 != 2 {
		return w.record(ctx, job, &code, fmt.Errorf("HTTP %d", code))
	}
	return w.record(ctx, job, &code, nil)
}

// errRefused is a delivery the outbound policy will never let through: it
// is failed at once rather than retried for hours.
var errRefused = errors.New("refused")

// networkError is what the delivery log says of a failed request: no URL
// (its query may carry the subscriber's token) and, for a refused address,
// the same words whatever lies behind it.
func networkError(err error) error {
	if errors.Is(err, outbound.ErrBlocked) {
		return fmt.Errorf("%w: %w", errRefused, outbound.ErrBlocked)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("network error: %w", ue.Err)
	}
	return err
}

func (w *DeliverWorker) record(ctx context.Context, job *river.Job[DeliverArgs], code *int, sendErr error) error {
	status, msg := "delivered", ""
	if sendErr != nil {
		status, msg = "pending", sendErr.Error()
		if job.Attempt >= job.MaxAttempts || errors.Is(sendErr, errRefused) {
			status = "failed"
		}
	}
	_, err := w.store.pool.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $3, last_error = $4, status = $5,
		delivered_at = CASE WHEN $5 = 'delivered' THEN now() END WHERE account_id = $1 AND id = $2`,
		job.Args.AccountID, job.Args.DeliveryID, code, msg, status)
	if err != nil {
		return fmt.Errorf("log delivery %d: %w", job.Args.DeliveryID, err)
	}
	if errors.Is(sendErr, errRefused) {
		return river.JobCancel(fmt.Errorf("deliver %d: %w", job.Args.DeliveryID, sendErr))
	}
	if sendErr != nil {
		return fmt.Errorf("deliver %d: %w", job.Args.DeliveryID, sendErr)
	}
	return nil
}
