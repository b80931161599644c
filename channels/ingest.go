package channels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/conversations"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/sanitize"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/webhooks"
)

// ScopedID is the external id stored for a platform id: platform ids are
// unique per channel instance at best (Telegram numbers messages per chat),
// so the instance is part of the id that dedupes retries.
func ScopedID(channelID uuid.UUID, platformID string) string {
	return channelID.String() + "/" + platformID
}

// Turn is a customer message stored and waiting for an answer.
type Turn struct {
	AccountID      uuid.UUID
	ContactID      uuid.UUID
	ConversationID uuid.UUID
	EventID        int64
	ChannelID      uuid.UUID
}

// TurnQueue enqueues the job that answers a customer, in the transaction that
// stored the message, so a stored message is never left unanswered. The
// agents package implements it.
type TurnQueue interface {
	EnqueueTurn(ctx context.Context, tx pgx.Tx, t Turn) error
}

// Ingestor stores what a webhook delivered: it resolves each sender to a
// contact, appends the message to the timeline (a platform retry stores
// nothing new), attaches delivery statuses to the messages they are about,
// and enqueues the answer — all in one transaction.
type Ingestor struct {
	pool          *pgxpool.Pool
	conversations *conversations.Store
	memory        *memory.Store
	turns         TurnQueue
	takeovers     Takeovers
	events        EventSink
	wakes         Waker
	media         MediaEnqueuer
	held          HeldReleaser
}

// HeldReleaser sends the messages held for a customer's answer (a closed
// window's re-engagement template went instead) once they write: the
// Outbox implements it.
type HeldReleaser interface {
	ReleaseHeldTx(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, channel Kind, eventID int64) error
}

// WithHeldReleases makes every customer message release what was held for it.
func (i *Ingestor) WithHeldReleases(h HeldReleaser) *Ingestor { i.held = h; return i }

// MediaEnqueuer records and enqueues the download of a stored message's
// media, in its transaction (MediaJobs).
type MediaEnqueuer interface {
	// Keep stores the bytes that came inside the delivery, before its
	// transaction (one position per item; nil where none came).
	Keep(ctx context.Context, items []memory.Media) []*KeptFile
	EnqueueMedia(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, ev memory.Event, kept []*KeptFile) error
}

// WithMedia has every stored message's media downloaded (see MediaJobs).
func (i *Ingestor) WithMedia(m MediaEnqueuer) *Ingestor { i.media = m; return i }

// Waker wakes the pages that show an account's conversations (the inbox)
// once a change committed; notify.Hub implements it.
type Waker interface {
	Poke(topic string)
}

// Takeovers hear of a reply a person typed on the business's own phone or
// app (an Evolution fromMe message Atende did not send): that person has
// taken the conversation over, and the bot must stay silent.
type Takeovers interface {
	HumanReplied(ctx context.Context, tx pgx.Tx, accountID, contactID, conversationID uuid.UUID, eventID int64) error
}

// EventSink receives the events automations subscribe to (message.created),
// in the transaction that stored what they describe.
type EventSink interface {
	Emit(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, event string, data any) error
}

// NewIngestor wires ingestion to its database, the memory and the turn
// queue; turns may be nil until agents answer.
func NewIngestor(pool *pgxpool.Pool, mem *memory.Store, turns TurnQueue) *Ingestor {
	return &Ingestor{pool: pool, conversations: conversations.NewStore(pool), memory: mem, turns: turns}
}

// WithWakes makes every stored message refresh the account's open inbox pages.
func (i *Ingestor) WithWakes(w Waker) *Ingestor { i.wakes = w; return i }

// WithTakeovers makes human replies from the business's phone take conversations over.
func (i *Ingestor) WithTakeovers(t Takeovers) *Ingestor { i.takeovers = t; return i }

// WithEvents emits message.created for every stored message.
func (i *Ingestor) WithEvents(e EventSink) *Ingestor { i.events = e; return i }

// IngestResult counts what a delivery added, and names what it could not use.
type IngestResult struct {
	Stored     int `json:"stored"`
	Duplicates int `json:"duplicates"`
	Statuses   int `json:"statuses"`
	// Annotations counts the reactions, edits and deletions recorded.
	Annotations int     `json:"annotations"`
	EventIDs    []int64 `json:"event_ids"`
	// Skipped are the items of the delivery that could not be stored, and why;
	// the others were stored.
	Skipped []Skipped `json:"skipped"`
}

// messagePayload is what an inbound message keeps beside its text and media.
type messagePayload struct {
	ChannelID uuid.UUID       `json:"channel_id"`
	Type      string          `json:"type"`
	From      memory.Identity `json:"from"` // the address it came from: replies go back there
	Username  string          `json:"username,omitempty"`
	Group     string          `json:"group,omitempty"`
	Quiet     bool            `json:"quiet,omitempty"` // recorded, not answered: in no conversation
	// FullText is the whole text when the event's text was cut for the agents
	// (see MaxAgentTextBytes) and the message keeps it nowhere else.
	FullText string `json:"full_text,omitempty"`
	MessageContext
}

// Ingest stores one delivery. Every item is first made storable (see
// prepareInbound); one that cannot be is skipped and named in the result,
// so it never keeps the rest of the delivery from being stored.
func (i *Ingestor) Ingest(ctx context.Context, ch Channel, b Batch) (IngestResult, error) {
	now := time.Now()
	skipped := append([]Skipped{}, b.Skipped...)
	messages := make([]preparedInbound, 0, len(b.Messages))
	groups := GroupPolicy(ch.Settings["groups"])
	for _, m := range b.Messages {
		if m.Group != "" {
			if groups == GroupsIgnore {
				skipped = append(skipped, Skipped{ExternalID: sanitize.Text(m.ExternalID), Reason: "a group message, and the channel ignores groups"})
				continue
			}
			m.Quiet = true // recorded for the attendant; the bot answers people, not groups
		}
		p, err := prepareInbound(m, now)
		if err != nil {
			skipped = append(skipped, Skipped{ExternalID: sanitize.Text(m.ExternalID), Reason: err.Error()})
			continue
		}
		full := boundInbound(&p)
		prepared := preparedInbound{Inbound: p, fullText: full}
		if i.media != nil {
			prepared.kept = i.media.Keep(ctx, p.Media) // files are written before the transaction, never in it
		}
		messages = append(messages, prepared)
	}
	statuses := make([]Status, 0, len(b.Statuses))
	for _, s := range b.Statuses {
		p, err := prepareStatus(s, now)
		if err != nil {
			skipped = append(skipped, Skipped{ExternalID: sanitize.Text(s.ExternalID), Reason: err.Error()})
			continue
		}
		statuses = append(statuses, p)
	}
	annotations := make([]Annotation, 0, len(b.Annotations))
	for _, a := range b.Annotations {
		if a.Group != "" && groups == GroupsIgnore {
			skipped = append(skipped, Skipped{ExternalID: sanitize.Text(a.ExternalID), Reason: "a group annotation, and the channel ignores groups"})
			continue
		}
		p, err := prepareAnnotation(a, now)
		if err != nil {
			skipped = append(skipped, Skipped{ExternalID: sanitize.Text(a.ExternalID), Reason: err.Error()})
			continue
		}
		annotations = append(annotations, p)
	}
	var res IngestResult
	batch := len(messages)+len(statuses)+len(annotations) > 1
	err := database.InTx(ctx, i.pool, func(tx pgx.Tx) error {
		res = IngestResult{EventIDs: []int64{}, Skipped: skipped}
		for _, m := range messages {
			var stored int64
			var dup bool
			reason, err := oneItem(ctx, tx, batch, func(tx pgx.Tx) error {
				var err error
				stored, dup, err = i.ingestMessage(ctx, tx, ch, m)
				return err
			})
			switch {
			case err != nil:
				return err
			case reason != "":
				res.Skipped = append(res.Skipped, Skipped{ExternalID: m.ExternalID, Reason: reason})
			case dup:
				res.Duplicates++
			default:
				res.Stored++
				res.EventIDs = append(res.EventIDs, stored)
			}
		}
		for _, a := range annotations {
			var ok bool
			reason, err := oneItem(ctx, tx, batch, func(tx pgx.Tx) error {
				var err error
				ok, err = i.ingestAnnotation(ctx, tx, ch, a)
				return err
			})
			switch {
			case err != nil:
				return err
			case reason != "":
				res.Skipped = append(res.Skipped, Skipped{ExternalID: a.ExternalID, Reason: reason})
			case ok:
				res.Annotations++
			}
		}
		for _, s := range statuses {
			var ok bool
			reason, err := oneItem(ctx, tx, batch, func(tx pgx.Tx) error {
				var err error
				ok, err = i.ingestStatus(ctx, tx, ch, s)
				return err
			})
			switch {
			case err != nil:
				return err
			case reason != "":
				res.Skipped = append(res.Skipped, Skipped{ExternalID: s.ExternalID, Reason: reason})
			case ok:
				res.Statuses++
			}
		}
		return nil
	})
	if err == nil && res.Stored+res.Annotations+res.Statuses > 0 && i.wakes != nil {
		i.wakes.Poke(InboxTopic(ch.AccountID))
	}
	return res, err
}

// oneItem stores one item of a delivery. In a batch it runs in a savepoint,
// so an item the database refuses for what it holds (bad data, a constraint,
// an invalid event) is rolled back alone and skipped with the reason, while
// the rest of the delivery is stored: one bad item never sinks a batch, and
// the platform's retry would refuse it the same way. Any other error (the
// database going away, a cancelled request) fails the whole delivery, which
// the platform retries. A lone item needs no savepoint: its error is the
// delivery's.
func oneItem(ctx context.Context, tx pgx.Tx, batch bool, fn func(pgx.Tx) error) (skipped string, err error) {
	if !batch {
		return "", fn(tx)
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("savepoint: %w", err)
	}
	if err := fn(sp); err != nil {
		if rbErr := sp.Rollback(ctx); rbErr != nil {
			return "", fmt.Errorf("roll back item: %w (after %v)", rbErr, err)
		}
		if unusable(err) {
			return err.Error(), nil
		}
		return "", err
	}
	return "", sp.Commit(ctx)
}

// unusable reports whether an item's error comes from the item itself (its
// data), not from the database's or the request's state.
func unusable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 22: data exception; 23: integrity constraint violation — except a
		// unique violation (23505), which is a race with another writer
		// (two cards opening at once): the delivery is retried, not skipped.
		return strings.HasPrefix(pgErr.Code, "22") || (strings.HasPrefix(pgErr.Code, "23") && pgErr.Code != "23505")
	}
	var invalidID *memory.InvalidIdentifierError
	return errors.As(err, &invalidID) || errors.Is(err, memory.ErrInvalidEvent) || errors.Is(err, memory.ErrConflict) ||
		errors.Is(err, ErrMalformed)
}

// preparedInbound is a message made storable, with its whole text when the
// agents' text was cut and nothing else keeps it.
type preparedInbound struct {
	Inbound
	fullText string
	// kept are the in-delivery files already in the blob store, by position.
	kept []*KeptFile
}

func (i *Ingestor) ingestMessage(ctx context.Context, tx pgx.Tx, ch Channel, p preparedInbound) (int64, bool, error) {
	m := p.Inbound
	if len(m.From.Identities) == 0 {
		return 0, false, fmt.Errorf("%w: message %s has no sender", ErrMalformed, m.ExternalID)
	}
	first := m.From.Identities[0]
	profile := memory.Profile{Channel: string(ch.Kind)}
	if !m.FromBusiness {
		profile.Name = m.From.Name
	}
	contactID, err := i.memory.ResolveIDTx(ctx, tx, ch.AccountID, first.Kind, first.Value, profile)
	if err != nil {
		return 0, false, fmt.Errorf("resolve sender of %s: %w", m.ExternalID, err)
	}
	for _, id := range m.From.Identities[1:] {
		linked, err := i.memory.LinkIdentifierTx(ctx, tx, ch.AccountID, contactID, id.Kind, id.Value, memory.AuthorSystem)
		if err != nil {
			return 0, false, fmt.Errorf("link %s of %s: %w", id.Kind, m.ExternalID, err)
		}
		if linked.Merged && i.events != nil {
			if err := i.events.Emit(ctx, tx, ch.AccountID, webhooks.ContactMerged, linked); err != nil {
				return 0, false, err
			}
		}
		contactID = linked.Contact.ID
	}
	// A quiet message (a group's, a notice, a public comment) is on the
	// contact's history but in none of their conversations: it is no
	// unanswered question of a 1:1 episode and opens no messaging window.
	var convID *uuid.UUID
	if !m.Quiet {
		conv, err := i.conversations.TouchTx(ctx, tx, ch.AccountID, contactID, string(ch.Kind), m.At)
		if err != nil {
			return 0, false, err
		}
		convID = &conv.ID
	}
	payload, err := json.Marshal(messagePayload{ChannelID: ch.ID, Type: m.Type, From: first, Username: m.From.Username, Group: m.Group,
		Quiet: m.Quiet, FullText: p.fullText, MessageContext: m.MessageContext})
	if err != nil {
		return 0, false, fmt.Errorf("encode message payload: %w", err)
	}
	e := memory.Event{ContactID: contactID, ConversationID: convID, Kind: memory.EventMessage,
		Direction: memory.DirectionIn, Author: memory.AuthorContact, Channel: string(ch.Kind),
		Text: m.Text, Media: m.Media, Payload: payload, ExternalID: ScopedID(ch.ID, m.ExternalID), OccurredAt: precise(m.At, time.Now())}
	if m.FromBusiness {
		// Typed on the business's own phone or app: a human's reply, never answered by the bot.
		e.Direction, e.Author = memory.DirectionOut, memory.AuthorHuman
	}
	if strings.TrimSpace(e.Text) == "" && (len(e.Media) == 0 || m.Order != nil || m.Location != nil || len(m.Contacts) > 0 || titled(e.Media)) {
		e.Text = describe(m)
	} else if m.PlatformError != "" {
		e.Text = strings.TrimSpace(e.Text + "\n" + describe(Inbound{MessageContext: MessageContext{PlatformError: m.PlatformError}}))
	}
	appendTx := i.memory.AppendTx
	if !m.FromBusiness && !m.Quiet && i.turns != nil {
		appendTx = i.memory.AppendUnchunkedTx // the turn chunks it when it ends
	}
	appended, err := appendTx(ctx, tx, ch.AccountID, e)
	if err != nil {
		return 0, false, fmt.Errorf("store message %s: %w", m.ExternalID, err)
	}
	if appended.Duplicate {
		return appended.Event.ID, true, nil
	}
	if i.media != nil && len(appended.Event.Media) > 0 {
		if err := i.media.EnqueueMedia(ctx, tx, ch.AccountID, appended.Event, p.kept); err != nil {
			return 0, false, err
		}
	}
	if r := m.Referral; r != nil && !m.FromBusiness {
		// the ad that brought the customer, for the agents and the card
		ad := strings.Join(nonEmpty(r.Headline, r.Body, r.SourceURL), " — ")
		if ad != "" {
			id := appended.Event.ID
			if _, err := i.memory.UpdateFieldsTx(ctx, tx, ch.AccountID, contactID, map[string]any{memory.FieldAdReferral: clipRunes(ad, 300)}, memory.AuthorSystem, &id); err != nil {
				return 0, false, fmt.Errorf("record the ad of %s: %w", m.ExternalID, err)
			}
		}
	}
	if i.events != nil {
		if err := i.events.Emit(ctx, tx, ch.AccountID, webhooks.MessageCreated, appended.Event); err != nil {
			return 0, false, err
		}
	}
	if !m.FromBusiness && !m.Quiet && i.held != nil {
		// the window is open again: what an attendant wrote meanwhile goes now
		if err := i.held.ReleaseHeldTx(ctx, tx, ch.AccountID, contactID, ch.Kind, appended.Event.ID); err != nil {
			return 0, false, err
		}
	}
	if m.FromBusiness && !m.Quiet && i.takeovers != nil {
		if err := i.takeovers.HumanReplied(ctx, tx, ch.AccountID, contactID, *convID, appended.Event.ID); err != nil {
			return 0, false, fmt.Errorf("human reply %s: %w", m.ExternalID, err)
		}
	}
	if !m.FromBusiness && !m.Quiet && i.turns != nil {
		if err := i.turns.EnqueueTurn(ctx, tx, Turn{AccountID: ch.AccountID, ContactID: contactID,
			ConversationID: *convID, EventID: appended.Event.ID, ChannelID: ch.ID}); err != nil {
			return 0, false, fmt.Errorf("enqueue answer to %s: %w", m.ExternalID, err)
		}
	}
	return appended.Event.ID, false, nil
}

// ingestStatus appends a delivery status to the timeline of the message it is
// about; a status of a message Atende did not send is ignored (false).
func (i *Ingestor) ingestStatus(ctx context.Context, tx pgx.Tx, ch Channel, s Status) (bool, error) {
	msg, err := i.memory.EventByExternalIDTx(ctx, tx, ch.AccountID, string(ch.Kind), ScopedID(ch.ID, s.ExternalID))
	if errors.Is(err, memory.ErrNotFound) {
		return i.ingestForeignStatus(ctx, tx, ch, s)
	}
	if err != nil {
		return false, err
	}
	payload, err := json.Marshal(map[string]any{"status": s.Status, "message_event_id": msg.ID, "reason": s.Reason,
		"code": s.Code, "channel_id": ch.ID})
	if err != nil {
		return false, fmt.Errorf("encode status payload: %w", err)
	}
	text := s.Status
	if s.Status == "failed" && s.Reason != "" {
		text = "failed: " + s.Reason
	}
	appended, err := i.memory.AppendTx(ctx, tx, ch.AccountID, memory.Event{ContactID: msg.ContactID, ConversationID: msg.ConversationID,
		Kind: memory.EventStatus, Direction: memory.DirectionInternal, Author: memory.AuthorSystem, Channel: string(ch.Kind),
		Text: text, Payload: payload, ExternalID: ScopedID(ch.ID, "status:"+s.ExternalID+":"+s.Status), OccurredAt: s.At})
	if err != nil {
		return false, fmt.Errorf("store %s status of %s: %w", s.Status, s.ExternalID, err)
	}
	return !appended.Duplicate, nil
}

// precise places a platform's timestamp given to the second: the message
// was written somewhere in that second, so it takes the arrival time when
// that is inside the second, and otherwise the end of the second — never
// its start, which would put a message written after Atende's reply (in the
// same second, read on a slow machine or delivered a moment late) before
// that reply on the timeline. A timestamp with sub-second precision, or one
// after the arrival (a skewed clock), is kept as given.
func precise(at, arrived time.Time) time.Time {
	if at.IsZero() || at.Nanosecond() != 0 {
		return at
	}
	d := arrived.Sub(at)
	switch {
	case d < 0:
		return at
	case d < time.Second:
		return arrived
	}
	return at.Add(time.Second - time.Millisecond)
}

// titled says a media item carries a title (a shared reel or post): its
// message is described, not left wordless.
func titled(media []memory.Media) bool {
	for _, m := range media {
		if m.Title != "" {
			return true
		}
	}
	return false
}

// ingestForeignStatus records the status of a message Atende did not send —
// one the business sent from the WhatsApp Business app or another system to
// that number — on the recipient's timeline: a voice note played, a
// message that failed with the platform's code is something the attendant
// needs. Only platforms whose statuses name a customer's address
// (Capabilities.StatusRecipients) qualify, and never "sent": Meta's "sent"
// of Atende's own message can arrive before the outbox has recorded the id
// it got, and must not become a foreign message. Others are ignored (false).
func (i *Ingestor) ingestForeignStatus(ctx context.Context, tx pgx.Tx, ch Channel, s Status) (bool, error) {
	a, ok := builtin.Adapter(ch.Kind)
	if !ok || !a.Capabilities().StatusRecipients || s.Recipient == "" || s.Status == "sent" {
		return false, nil
	}
	to, ok := memory.WhatsAppSender(s.Recipient)
	if !ok {
		return false, nil
	}
	contactID, err := i.memory.ResolveIDTx(ctx, tx, ch.AccountID, to.Kind, to.Value, memory.Profile{Channel: string(ch.Kind)})
	if err != nil {
		return false, fmt.Errorf("resolve recipient of status %s: %w", s.ExternalID, err)
	}
	payload, err := json.Marshal(map[string]any{"status": s.Status, "message": s.ExternalID, "reason": s.Reason, "code": s.Code,
		"channel_id": ch.ID, "sent_outside_atende": true})
	if err != nil {
		return false, fmt.Errorf("encode status payload: %w", err)
	}
	text := s.Status + " (mensagem enviada fora do Atende)"
	if s.Status == "failed" {
		text = strings.TrimSpace("failed: " + strings.TrimSpace(s.Code+" "+s.Reason) + " (mensagem enviada fora do Atende)")
	}
	appended, err := i.memory.AppendTx(ctx, tx, ch.AccountID, memory.Event{ContactID: contactID,
		Kind: memory.EventStatus, Direction: memory.DirectionInternal, Author: memory.AuthorSystem, Channel: string(ch.Kind),
		Text: text, Payload: payload, ExternalID: ScopedID(ch.ID, "status:"+s.ExternalID+":"+s.Status), OccurredAt: s.At})
	if err != nil {
		return false, fmt.Errorf("store %s status of %s: %w", s.Status, s.ExternalID, err)
	}
	return !appended.Duplicate, nil
}
