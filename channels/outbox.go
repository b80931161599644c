package channels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
)

// SendQueue is the River queue outbound messages are delivered from.
const SendQueue = "outbound"

// SendArgs is the job that delivers one outbound message event. The event id
// is the idempotency key: the job is unique per event, and parts already
// delivered (recorded as "sent" statuses) are never sent again on a retry.
type SendArgs struct {
	AccountID uuid.UUID `json:"account_id"`
	EventID   int64     `json:"event_id"`
	// ReleasedBy is the "held" status a customer's message released: a new
	// delivery of the held message, not a duplicate of the first job, and
	// one per hold however many messages released it.
	ReleasedBy int64 `json:"released_by,omitempty"`
}

// Kind names the job in River's table.
func (SendArgs) Kind() string { return "channel_send" }

// InsertOpts: retried up to 8 times, one job per message event.
// A release (ReleasedBy) is unique while it waits or runs, not once done:
// a hold that delivery found again (the window still closed) may be
// released by the customer's next message.
func (a SendArgs) InsertOpts() river.InsertOpts {
	opts := river.InsertOpts{Queue: SendQueue, MaxAttempts: 8, UniqueOpts: river.UniqueOpts{ByArgs: true}}
	if a.ReleasedBy != 0 {
		opts.UniqueOpts.ByState = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}
	}
	return opts
}

// JobInserter enqueues jobs in the caller's transaction.
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Outgoing is a reply to deliver to a contact on one channel.
type Outgoing struct {
	ContactID      uuid.UUID
	ConversationID *uuid.UUID
	ChannelID      uuid.UUID
	Text           string // canonical Markdown subset, rendered per channel
	Media          []memory.Media
	Template       *Template // send exactly this WhatsApp template
	Author         memory.Author
	PromptVersion  string
}

// outboundPayload is what an outbound message event keeps for its delivery.
type outboundPayload struct {
	ChannelID uuid.UUID `json:"channel_id"`
	Template  *Template `json:"template,omitempty"`
	// To is the address the message is for, when the contact has several on
	// the channel and only one may see it (a webchat visitor's browser).
	To string `json:"to,omitempty"`
}

// Outbox records replies on the timeline and delivers them through River jobs:
// retries with backoff on 5xx, 429 and network errors (honouring Retry-After),
// the messaging window respected, a permanent failure recorded as a failed
// status on the timeline.
type Outbox struct {
	pool      *pgxpool.Pool
	memory    *memory.Store
	channels  *Store
	transport Transport
	jobs      JobInserter
	log       *slog.Logger
	now       func() time.Time
	backoff   func(attempt int) time.Duration
}

// NewOutbox wires delivery. backoff gives the wait before retry n (nil: 2^n
// seconds, at most 10 minutes).
func NewOutbox(pool *pgxpool.Pool, mem *memory.Store, chs *Store, transport Transport, jobs JobInserter, log *slog.Logger, backoff func(int) time.Duration) *Outbox {
	if backoff == nil {
		backoff = func(attempt int) time.Duration {
			return min(time.Duration(1<<min(attempt, 10))*time.Second, 10*time.Minute)
		}
	}
	return &Outbox{pool: pool, memory: mem, channels: chs, transport: transport, jobs: jobs, log: log, now: time.Now, backoff: backoff}
}

// Queue appends the outbound message to the timeline and enqueues its
// delivery, both in the caller's transaction.
func (o *Outbox) Queue(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, out Outgoing) (memory.Event, error) {
	if out.Author != memory.AuthorAI && out.Author != memory.AuthorHuman && out.Author != memory.AuthorSystem {
		return memory.Event{}, fmt.Errorf("%w: an outbound message is by ai, human or system", memory.ErrInvalidEvent)
	}
	ch, err := o.channels.GetTx(ctx, tx, accountID, out.ChannelID)
	if err != nil {
		return memory.Event{}, err
	}
	p := outboundPayload{ChannelID: ch.ID, Template: out.Template}
	if a, ok := o.channels.adapters.Adapter(ch.Kind); ok && a.Capabilities().PinsRecipient {
		// Only the address that last wrote sees the reply: a webchat contact
		// may have several browsers, some joined to it by an unverified
		// pre-chat e-mail.
		last, ok, err := o.memory.LastInboundTx(ctx, tx, accountID, out.ContactID, string(ch.Kind))
		if err != nil {
			return memory.Event{}, err
		}
		if ok {
			p.To = inboundFrom(last).Value
		}
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return memory.Event{}, fmt.Errorf("encode outbound payload: %w", err)
	}
	text := out.Text
	if text == "" && out.Template != nil {
		text = "[template " + out.Template.Name + "]"
	}
	res, err := o.memory.AppendTx(ctx, tx, accountID, memory.Event{ContactID: out.ContactID, ConversationID: out.ConversationID,
		Kind: memory.EventMessage, Direction: memory.DirectionOut, Author: out.Author, Channel: string(ch.Kind),
		Text: text, Media: out.Media, Payload: payload, PromptVersion: out.PromptVersion})
	if err != nil {
		return memory.Event{}, fmt.Errorf("record outbound message: %w", err)
	}
	if _, err := o.jobs.InsertTx(ctx, tx, SendArgs{AccountID: accountID, EventID: res.Event.ID}, nil); err != nil {
		return memory.Event{}, fmt.Errorf("enqueue delivery of %d: %w", res.Event.ID, err)
	}
	return res.Event, nil
}

// SendWorker runs SendArgs jobs.
type SendWorker struct {
	river.WorkerDefaults[SendArgs]
	outbox *Outbox
}

// NewSendWorker returns the worker to register with River.
func NewSendWorker(o *Outbox) *SendWorker { return &SendWorker{outbox: o} }

// NextRetry spaces retries by the outbox's backoff.
func (w *SendWorker) NextRetry(job *river.Job[SendArgs]) time.Time {
	return time.Now().Add(w.outbox.backoff(job.Attempt))
}

// Work delivers the message.
func (w *SendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	return w.outbox.deliver(ctx, job.Args, job.Attempt >= job.MaxAttempts)
}

func (o *Outbox) deliver(ctx context.Context, args SendArgs, lastAttempt bool) error {
	ev, err := o.memory.Event(ctx, args.AccountID, args.EventID)
	if err != nil {
		return river.JobCancel(err)
	}
	var p outboundPayload
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		return river.JobCancel(fmt.Errorf("decode outbound payload of %d: %w", ev.ID, err))
	}
	ch, err := o.channels.Get(ctx, args.AccountID, p.ChannelID)
	if err != nil {
		return o.fail(ctx, args.AccountID, ev, ch, "the channel no longer exists")
	}
	parts, reason, err := o.plan(ctx, args.AccountID, ev, ch, p)
	var held heldForTemplate
	if errors.As(err, &held) {
		return o.hold(ctx, args.AccountID, ev, ch, held)
	}
	if err != nil {
		return err
	}
	if reason != "" {
		return o.fail(ctx, args.AccountID, ev, ch, reason)
	}
	statuses, err := o.memory.StatusesOf(ctx, args.AccountID, ev.ID)
	if err != nil {
		return err
	}
	sent := map[int]bool{}
	for _, s := range statuses {
		var sp struct {
			Status string `json:"status"`
			Part   int    `json:"part"`
		}
		if json.Unmarshal(s.Payload, &sp) == nil && sp.Status == "sent" {
			sent[sp.Part] = true
		}
	}
	for i, part := range parts {
		if sent[i] {
			continue
		}
		platformID, err := o.transport.Send(ctx, ch, part)
		if err != nil {
			retry, after := IsRetryable(err)
			if retry && !lastAttempt {
				o.log.WarnContext(ctx, "send failed, will retry", "event_id", ev.ID, "channel_id", ch.ID, "error", err)
				if after > 0 {
					return river.JobSnooze(after)
				}
				return err
			}
			return o.fail(ctx, args.AccountID, ev, ch, err.Error())
		}
		if err := o.recordStatus(ctx, args.AccountID, ev, ch, "sent", ScopedID(ch.ID, platformID), "",
			map[string]any{"part": i, "parts": len(parts), "platform_id": platformID}); err != nil {
			return err
		}
	}
	return nil
}

// plan turns the stored message into platform messages, or says why nothing may be sent.
func (o *Outbox) plan(ctx context.Context, accountID uuid.UUID, ev memory.Event, ch Channel, p outboundPayload) ([]PlatformMessage, string, error) {
	contact, err := o.memory.Contact(ctx, accountID, ev.ContactID)
	if err != nil {
		return nil, "", err
	}
	a, ok := o.channels.adapters.Adapter(ch.Kind)
	var to string
	if ok {
		to, ok = a.Address(contact.Identities)
	}
	if !ok {
		return nil, fmt.Sprintf("the contact has no %s address", ch.Kind), nil
	}
	rules, err := RulesFor(ch)
	if err != nil {
		return nil, err.Error(), nil
	}
	last, _, err := o.memory.LastInbound(ctx, accountID, ev.ContactID, string(ch.Kind))
	if err != nil {
		return nil, "", err
	}
	base, why := a.Reply(PlatformMessage{To: to}, ReplyContext{Last: last, Pinned: p.To})
	if why != "" {
		return nil, why, nil
	}
	if p.Template != nil {
		base.Template = p.Template
		return []PlatformMessage{base}, "", nil
	}
	window, err := rules.CheckWindow(last.OccurredAt, o.now(), ev.Author == memory.AuthorHuman)
	if errors.Is(err, ErrWindowClosed) {
		return nil, "not sent: " + window.Reason, nil
	}
	if window.Template != "" {
		// The window is closed: the approved template goes first, and this
		// message waits for the customer's answer (see hold).
		first := strings.Fields(contact.DisplayName)
		name := "cliente"
		if len(first) > 0 {
			name = first[0]
		}
		return nil, "", heldForTemplate{template: Template{Name: window.Template, Language: "pt_BR", Params: []string{name}}, last: last}
	}
	base.Tag = window.Tag
	var parts []PlatformMessage
	if strings.TrimSpace(ev.Text) != "" {
		for _, r := range Render(rules, ev.Text) {
			m := base
			m.Text, m.HTML = r.Text, r.HTML
			parts = append(parts, m)
		}
	}
	for i := range ev.Media {
		m := base
		m.Media = &ev.Media[i]
		m.Text = ev.Media[i].Caption
		parts = append(parts, m)
	}
	if len(parts) == 0 {
		return nil, "nothing to send: no text and no media", nil
	}
	return parts, "", nil
}

// fail records a final failure on the timeline and ends the job.
func (o *Outbox) fail(ctx context.Context, accountID uuid.UUID, ev memory.Event, ch Channel, reason string) error {
	if err := o.recordStatus(ctx, accountID, ev, ch, "failed", ScopedID(ch.ID, "failed:"+strconv.FormatInt(ev.ID, 10)), reason, nil); err != nil {
		return err
	}
	o.log.WarnContext(ctx, "message not delivered", "event_id", ev.ID, "channel_id", ch.ID, "reason", reason)
	return river.JobCancel(fmt.Errorf("message %d not delivered: %s", ev.ID, reason))
}

func (o *Outbox) recordStatus(ctx context.Context, accountID uuid.UUID, ev memory.Event, ch Channel, status, externalID, reason string, extra map[string]any) error {
	return database.InTx(ctx, o.pool, func(tx pgx.Tx) error {
		return o.recordStatusTx(ctx, tx, accountID, ev, ch, status, externalID, reason, extra)
	})
}

// recordStatusTx appends a delivery status of ev in the caller's transaction.
func (o *Outbox) recordStatusTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, ev memory.Event, ch Channel, status, externalID, reason string, extra map[string]any) error {
	payload := map[string]any{"status": status, "message_event_id": ev.ID, "channel_id": ch.ID}
	if reason != "" {
		payload["reason"] = reason
	}
	for k, v := range extra {
		payload[k] = v
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode status: %w", err)
	}
	text := status
	if reason != "" {
		text = status + ": " + reason
	}
	if status == StatusHeld {
		text = reason
	}
	_, err = o.memory.AppendTx(ctx, tx, accountID, memory.Event{ContactID: ev.ContactID, ConversationID: ev.ConversationID,
		Kind: memory.EventStatus, Direction: memory.DirectionInternal, Author: memory.AuthorSystem,
		Channel: string(ch.Kind), Text: text, Payload: raw, ExternalID: externalID})
	return err
}

// inboundFrom is the address an inbound message came from.
func inboundFrom(e memory.Event) memory.Identity {
	var p messagePayload
	_ = json.Unmarshal(e.Payload, &p)
	return p.From
}
