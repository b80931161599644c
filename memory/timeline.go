package memory

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/atende/atende/internal/sanitize"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// EventKind is what happened on the timeline.
type EventKind string

// The kinds of timeline events.
const (
	EventMessage     EventKind = "message"
	EventNote        EventKind = "note"
	EventAction      EventKind = "action"
	EventHandoff     EventKind = "handoff"
	EventAssignment  EventKind = "assignment"
	EventFieldChange EventKind = "field_change"
	EventCSAT        EventKind = "csat"
	EventMerge       EventKind = "merge"
	EventStatus      EventKind = "status"
	// EventAnnotation is a reaction, edit or deletion of an earlier message:
	// shown on that message, never a turn of its own.
	EventAnnotation EventKind = "annotation"
	// EventTag is a tag added to or removed from the contact or one of its
	// conversations (the tags package writes it), saying who did it.
	EventTag EventKind = "tag"
)

// Direction says whether an event came from the customer, went to them, or
// stayed inside the business.
type Direction string

// The directions of an event.
const (
	DirectionIn       Direction = "in"
	DirectionOut      Direction = "out"
	DirectionInternal Direction = "internal"
)

// Author is who produced an event or a field change.
type Author string

// The authors of events.
const (
	AuthorContact Author = "contact"
	AuthorAI      Author = "ai"
	AuthorHuman   Author = "human"
	AuthorSystem  Author = "system"
	// AuthorAPI is an integration acting through an API key (an n8n flow, a
	// CRM): its field edits and merges are its own, not "the team's".
	AuthorAPI Author = "api"
)

// ErrInvalidEvent is returned for an event that cannot be stored as given.
var ErrInvalidEvent = errors.New("invalid event")

// Media is a reference to an attachment: the platform's id or a URL, never
// the bytes (the media package keeps those), and what was learnt of it: its
// duration, the transcript of a voice note, the description of an image.
type Media struct {
	Type       string `json:"type"`
	MIME       string `json:"mime,omitempty"`
	PlatformID string `json:"platform_id,omitempty"`
	URL        string `json:"url,omitempty"`
	Caption    string `json:"caption,omitempty"`
	// FileName is the document's name as the customer sent it
	// ("boleto-março.pdf"): what an attendant looks for.
	FileName string `json:"file_name,omitempty"`
	// Title names a shared reel, post or link card.
	Title string `json:"title,omitempty"`
	// Seconds is an audio's or video's duration, when the platform says.
	Seconds int `json:"seconds,omitempty"`
	// Transcript is what a voice note says, once transcribed: the words the
	// agents read and the history is searched by.
	Transcript string `json:"transcript,omitempty"`
	// Description is what an image shows, as a model with vision described it.
	Description string `json:"description,omitempty"`
	// Data is the file itself when it came inside the delivery (an e-mail
	// attachment, Evolution's base64): kept in the blob store at ingest and
	// never stored in the event.
	Data []byte `json:"-"`
}

// Words is what the item says beyond its caption: the transcript or the
// description, for the agents and the history's text.
func (m Media) Words() string {
	if m.Transcript != "" {
		return m.Transcript
	}
	return m.Description
}

// Event is one entry of a contact's timeline: a message, note, action,
// handoff, assignment, field change, CSAT answer, merge or delivery status.
type Event struct {
	ID             int64           `json:"id"`
	ContactID      uuid.UUID       `json:"contact_id"`
	ConversationID *uuid.UUID      `json:"conversation_id,omitempty"`
	Kind           EventKind       `json:"kind"`
	Direction      Direction       `json:"direction"`
	Author         Author          `json:"author"`
	Channel        string          `json:"channel,omitempty"`
	Text           string          `json:"text,omitempty"`
	Media          []Media         `json:"media,omitempty"`
	Payload        json.RawMessage `json:"payload,omitempty"`
	ExternalID     string          `json:"external_id,omitempty"`
	PromptVersion  string          `json:"prompt_version,omitempty"`
	OccurredAt     time.Time       `json:"occurred_at"`
	CreatedAt      time.Time       `json:"created_at"`
}

// maxEventTextBytes bounds one event's text; longer content belongs in media.
const maxEventTextBytes = 64 << 10

func (e *Event) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidEvent, fmt.Sprintf(format, args...))
	}
	switch e.Kind {
	case EventMessage, EventNote, EventAction, EventHandoff, EventAssignment, EventFieldChange, EventCSAT, EventMerge, EventStatus, EventAnnotation, EventTag:
	default:
		return bad("unknown kind %q", e.Kind)
	}
	switch e.Direction {
	case DirectionIn, DirectionOut, DirectionInternal:
	default:
		return bad("unknown direction %q (in, out, internal)", e.Direction)
	}
	switch e.Author {
	case AuthorContact, AuthorAI, AuthorHuman, AuthorSystem, AuthorAPI:
	default:
		return bad("unknown author %q (contact, ai, human, system, api)", e.Author)
	}
	if e.Kind == EventMessage && strings.TrimSpace(e.Text) == "" && len(e.Media) == 0 {
		return bad("a message needs text or media")
	}
	if len(e.Text) > maxEventTextBytes {
		return bad("text is longer than %d bytes", maxEventTextBytes)
	}
	if e.ExternalID != "" && e.Channel == "" {
		return bad("an external id needs the channel it is unique in")
	}
	if len(e.Payload) > 0 && !json.Valid(e.Payload) {
		return bad("payload is not JSON")
	}
	return nil
}

// AppendResult tells whether the event was new or a platform retry of one
// already stored (same channel and external id): a duplicate is not an error.
type AppendResult struct {
	Event     Event
	Duplicate bool
}

const eventColumns = `id, contact_id, conversation_id, kind, direction, author, channel, text, media, payload,
	coalesce(external_id, ''), prompt_version, occurred_at, created_at`

func scanEvent(row pgx.Row) (Event, error) {
	var e Event
	var media []byte
	var payload []byte
	err := row.Scan(&e.ID, &e.ContactID, &e.ConversationID, &e.Kind, &e.Direction, &e.Author, &e.Channel,
		&e.Text, &media, &payload, &e.ExternalID, &e.PromptVersion, &e.OccurredAt, &e.CreatedAt)
	if err != nil {
		return e, err
	}
	if len(media) > 0 && string(media) != "[]" {
		if err := json.Unmarshal(media, &e.Media); err != nil {
			return e, fmt.Errorf("decode media of event %d: %w", e.ID, err)
		}
	}
	if string(payload) != "{}" {
		e.Payload = payload
	}
	return e, nil
}

// Append adds an event to a contact's timeline. A retry of an event already
// stored (same channel and external id) stores nothing and reports Duplicate.
// Messages and notes enqueue the job that embeds history, in this transaction.
func (t *txn) Append(ctx context.Context, accountID uuid.UUID, e Event) (AppendResult, error) {
	return t.append(ctx, accountID, e, true)
}

func (t *txn) append(ctx context.Context, accountID uuid.UUID, e Event, chunk bool) (AppendResult, error) {
	// PostgreSQL text refuses NUL and invalid UTF-8: whatever way an event
	// comes in (a webhook, a note, an import), it is stored cleaned, not lost.
	e.Text = sanitize.Text(e.Text)
	if err := e.validate(); err != nil {
		return AppendResult{}, err
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = t.s.now()
	}
	media, err := json.Marshal(e.Media)
	if err != nil {
		return AppendResult{}, fmt.Errorf("encode media: %w", err)
	}
	if e.Media == nil {
		media = []byte("[]")
	}
	payload := []byte(e.Payload)
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	var externalID *string
	if e.ExternalID != "" {
		externalID = &e.ExternalID
	}
	stored, err := scanEvent(t.tx.QueryRow(ctx, `
		INSERT INTO events (account_id, contact_id, conversation_id, kind, direction, author, channel, text,
			media, payload, external_id, prompt_version, occurred_at)
		SELECT $1, c.id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
		FROM contacts c WHERE c.account_id = $1 AND c.id = $2 AND c.merged_into IS NULL
		ON CONFLICT (account_id, channel, external_id) WHERE external_id IS NOT NULL DO NOTHING
		RETURNING `+eventColumns,
		accountID, e.ContactID, e.ConversationID, e.Kind, e.Direction, e.Author, e.Channel, e.Text,
		media, payload, externalID, e.PromptVersion, e.OccurredAt))
	if errors.Is(err, pgx.ErrNoRows) {
		if externalID == nil {
			return AppendResult{}, t.s.whyNotAppendable(ctx, t.tx, accountID, e.ContactID)
		}
		existing, err := scanEvent(t.tx.QueryRow(ctx, `SELECT `+eventColumns+` FROM events
			WHERE account_id = $1 AND channel = $2 AND external_id = $3`, accountID, e.Channel, e.ExternalID))
		if errors.Is(err, pgx.ErrNoRows) {
			return AppendResult{}, t.s.whyNotAppendable(ctx, t.tx, accountID, e.ContactID)
		}
		if err != nil {
			return AppendResult{}, fmt.Errorf("read duplicate event %s/%s: %w", e.Channel, e.ExternalID, err)
		}
		return AppendResult{Event: existing, Duplicate: true}, nil
	}
	if err != nil {
		return AppendResult{}, fmt.Errorf("append %s event to contact %s: %w", e.Kind, e.ContactID, err)
	}
	if chunk && (stored.Kind == EventMessage || stored.Kind == EventNote) {
		if err := t.enqueueChunking(ctx, accountID, stored.ContactID); err != nil {
			return AppendResult{}, err
		}
	}
	return AppendResult{Event: stored}, nil
}

// whyNotAppendable explains why a contact takes no events: it does not exist
// (in this account), or it was merged into another, whose id the error names.
func (s *Store) whyNotAppendable(ctx context.Context, q querier, accountID, contactID uuid.UUID) error {
	c, err := s.contactRow(ctx, q, accountID, contactID)
	if err != nil {
		return err
	}
	if c.MergedInto != nil {
		return fmt.Errorf("contact %s was merged into %s: %w", contactID, c.MergedInto, ErrConflict)
	}
	return notFound("contact", contactID)
}

// Cursor is an opaque position in a timeline, handed back to fetch the next page.
type Cursor struct {
	At time.Time
	ID int64
}

// Encode renders the cursor for a URL.
func (c Cursor) Encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixMicro(), 10) + ":" + strconv.FormatInt(c.ID, 10)))
}

// ErrBadCursor is returned for a cursor this server did not hand out.
var ErrBadCursor = errors.New("bad cursor")

// ParseCursor reads a cursor from Encode; the empty string is the start.
func ParseCursor(s string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	at, id, ok := strings.Cut(string(raw), ":")
	micros, err1 := strconv.ParseInt(at, 10, 64)
	eventID, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return nil, ErrBadCursor
	}
	return &Cursor{At: time.UnixMicro(micros), ID: eventID}, nil
}

// TimelinePage is a page of a contact's timeline in time order, oldest first,
// across all channels; Next is nil on the last page.
type TimelinePage struct {
	Events []Event `json:"events"`
	Next   *Cursor `json:"-"`
}

// Timeline reads a contact's events in the order they happened, after the
// cursor, at most limit of them.
func (s *Store) Timeline(ctx context.Context, accountID, contactID uuid.UUID, after *Cursor, limit int) (TimelinePage, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	if _, err := s.contactRow(ctx, s.pool, accountID, contactID); err != nil {
		return TimelinePage{}, err
	}
	at, id := time.Time{}, int64(0)
	if after != nil {
		at, id = after.At, after.ID
	}
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE account_id = $1 AND contact_id = $2 AND (occurred_at, id) > ($3, $4)
		ORDER BY occurred_at, id LIMIT $5`, accountID, contactID, at, id, limit+1)
	if err != nil {
		return TimelinePage{}, fmt.Errorf("read timeline of %s: %w", contactID, err)
	}
	events, err := collectEvents(rows)
	if err != nil {
		return TimelinePage{}, fmt.Errorf("read timeline of %s: %w", contactID, err)
	}
	page := TimelinePage{Events: events}
	if len(events) > limit {
		page.Events = events[:limit]
		last := page.Events[limit-1]
		page.Next = &Cursor{At: last.OccurredAt, ID: last.ID}
	}
	return page, nil
}

func collectEvents(rows pgx.Rows) ([]Event, error) {
	defer rows.Close()
	events := []Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, rows.Err()
}

// AddNote writes an internal note by a human (or the system) to the timeline.
func (s *Store) AddNote(ctx context.Context, accountID, contactID uuid.UUID, author Author, text string) (Event, error) {
	res, err := inTxValue(ctx, s, func(tx *txn) (AppendResult, error) {
		return tx.Append(ctx, accountID, Event{ContactID: contactID, Kind: EventNote, Direction: DirectionInternal,
			Author: author, Text: text})
	})
	return res.Event, err
}

// ImportResult counts what an import stored and what it recognised as already there.
type ImportResult struct {
	Imported   int     `json:"imported"`
	Duplicates int     `json:"duplicates"`
	Events     []Event `json:"events"`
}

// Import brings past history from another system into a contact's timeline in
// one transaction. Events with an external id already stored are skipped, so
// the same export can be imported twice.
func (s *Store) Import(ctx context.Context, accountID, contactID uuid.UUID, events []Event) (ImportResult, error) {
	return inTxValue(ctx, s, func(tx *txn) (ImportResult, error) {
		out := ImportResult{Events: make([]Event, 0, len(events))}
		for i, e := range events {
			e.ContactID = contactID
			res, err := tx.Append(ctx, accountID, e)
			if err != nil {
				return ImportResult{}, fmt.Errorf("event %d: %w", i, err)
			}
			if res.Duplicate {
				out.Duplicates++
			} else {
				out.Imported++
			}
			out.Events = append(out.Events, res.Event)
		}
		// History older than the contact's first contact moves the first contact back.
		if _, err := tx.tx.Exec(ctx, `UPDATE contacts c SET first_contact_at = e.occurred_at, first_channel = e.channel
			FROM (SELECT occurred_at, channel FROM events WHERE account_id = $1 AND contact_id = $2 AND kind = 'message'
				ORDER BY occurred_at, id LIMIT 1) e
			WHERE c.account_id = $1 AND c.id = $2 AND e.occurred_at < c.first_contact_at`, accountID, contactID); err != nil {
			return ImportResult{}, fmt.Errorf("move first contact of %s: %w", contactID, err)
		}
		return out, nil
	})
}

func (t *txn) appendSystem(ctx context.Context, accountID, contactID uuid.UUID, kind EventKind, author Author, text string, payload any) (Event, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s payload: %w", kind, err)
	}
	res, err := t.Append(ctx, accountID, Event{ContactID: contactID, Kind: kind, Direction: DirectionInternal,
		Author: author, Text: text, Payload: b})
	return res.Event, err
}

// Event reads one event of the account.
func (s *Store) Event(ctx context.Context, accountID uuid.UUID, id int64) (Event, error) {
	return eventByID(ctx, s.pool, accountID, id)
}

func eventByID(ctx context.Context, q querier, accountID uuid.UUID, id int64) (Event, error) {
	e, err := scanEvent(q.QueryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE account_id = $1 AND id = $2`, accountID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return e, notFound("event", id)
	}
	if err != nil {
		return e, fmt.Errorf("read event %d: %w", id, err)
	}
	return e, nil
}

// StatusesOf returns the delivery status events about one outbound message, oldest first.
func (s *Store) StatusesOf(ctx context.Context, accountID uuid.UUID, messageEventID int64) ([]Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM events WHERE account_id = $1 AND kind = 'status'
		AND payload->>'message_event_id' = $2 ORDER BY id`, accountID, strconv.FormatInt(messageEventID, 10))
	if err != nil {
		return nil, fmt.Errorf("read statuses of %d: %w", messageEventID, err)
	}
	return collectEvents(rows)
}

// LastInbound is the contact's last message on a channel, quiet ones (a
// group's, a notice) aside — ok false if they never wrote there: messaging
// windows are counted from it, and e-mail replies thread on it.
func (s *Store) LastInbound(ctx context.Context, accountID, contactID uuid.UUID, channel string) (Event, bool, error) {
	return lastInbound(ctx, s.pool, accountID, contactID, channel)
}

// LastInboundTx is LastInbound inside the caller's transaction (which must
// not wait for a second connection).
func (s *Store) LastInboundTx(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, channel string) (Event, bool, error) {
	return lastInbound(ctx, tx, accountID, contactID, channel)
}

func lastInbound(ctx context.Context, q querier, accountID, contactID uuid.UUID, channel string) (Event, bool, error) {
	e, err := scanEvent(q.QueryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE account_id = $1 AND contact_id = $2
		AND channel = $3 AND kind = 'message' AND direction = 'in' AND NOT coalesce((payload->>'quiet')::boolean, false)
		ORDER BY occurred_at DESC, id DESC LIMIT 1`, accountID, contactID, channel))
	if errors.Is(err, pgx.ErrNoRows) {
		return Event{}, false, nil
	}
	if err != nil {
		return Event{}, false, fmt.Errorf("read last inbound of %s: %w", contactID, err)
	}
	return e, true, nil
}

// OutboundSince returns the messages sent to one address of a contact on a
// channel (the "to" of their payload) after the event id after, oldest first:
// what a webchat visitor's stream has not shown yet.
func (s *Store) OutboundSince(ctx context.Context, accountID, contactID uuid.UUID, channel, to string, after int64) ([]Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM events WHERE account_id = $1 AND contact_id = $2
		AND channel = $3 AND kind = 'message' AND direction = 'out' AND payload->>'to' = $4 AND id > $5
		ORDER BY id LIMIT 200`, accountID, contactID, channel, to, after)
	if err != nil {
		return nil, fmt.Errorf("read messages to %s: %w", contactID, err)
	}
	return collectEvents(rows)
}

// RecentTimeline returns a contact's latest limit events, in the order they
// happened (the inbox shows the end of a long history first).
func (s *Store) RecentTimeline(ctx context.Context, accountID, contactID uuid.UUID, limit int) ([]Event, error) {
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	rows, err := s.pool.Query(ctx, `SELECT * FROM (SELECT `+eventColumns+` FROM events
		WHERE account_id = $1 AND contact_id = $2 ORDER BY occurred_at DESC, id DESC LIMIT $3) latest
		ORDER BY occurred_at, id`, accountID, contactID, limit)
	if err != nil {
		return nil, fmt.Errorf("read recent timeline of %s: %w", contactID, err)
	}
	return collectEvents(rows)
}
