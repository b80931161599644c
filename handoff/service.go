// Package handoff is the moment the AI passes a customer to a person: the
// handoff card (summary, fields, next action, owner, SLA), assignment in the
// sector's team by availability and load, business hours, SLA timers (River
// jobs), the human's replies, hand-back, resolution and CSAT. It owns the
// attendants, teams, inbox sessions and handoffs tables.
package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/conversations"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/notify"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/tags"
	"github.com/atende/atende/webhooks"
)

// Statuses of a handoff.
const (
	StatusQueued   = "queued"   // waiting in the team queue: nobody could take it
	StatusAssigned = "assigned" // an attendant owns it
	StatusResolved = "resolved"
	StatusReturned = "returned" // handed back to the bot
)

// Events is where handoff events go out (webhooks).
type Events interface {
	Emit(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, event string, data any) error
}

// Handoff is the card a person starts from.
type Handoff struct {
	ID              uuid.UUID      `json:"id"`
	ContactID       uuid.UUID      `json:"contact_id"`
	ConversationID  uuid.UUID      `json:"conversation_id"`
	ContactName     string         `json:"contact_name"`
	Status          string         `json:"status"`
	Source          string         `json:"source"`
	Reason          string         `json:"reason"`
	Summary         string         `json:"summary"`
	Fields          map[string]any `json:"fields"`
	NextAction      string         `json:"next_action"`
	Sector          string         `json:"sector"`
	Team            string         `json:"team"`
	Channel         string         `json:"channel"`
	Priority        string         `json:"priority"`
	OwnerID         *uuid.UUID     `json:"owner_id,omitempty"`
	OwnerName       string         `json:"owner_name,omitempty"`
	SLADue          time.Time      `json:"sla_due"`
	BreachedAt      *time.Time     `json:"breached_at,omitempty"`
	FirstResponseAt *time.Time     `json:"first_response_at,omitempty"`
	WaitingSince    *time.Time     `json:"waiting_since,omitempty"`
	CreatedAt       time.Time      `json:"created_at"`
	ResolvedAt      *time.Time     `json:"resolved_at,omitempty"`
	Timeline        string         `json:"timeline"`
	// Away is set when the team is out of hours at creation: the customer
	// is told when they will be answered (AnswerFrom).
	Away       bool      `json:"away,omitempty"`
	AnswerFrom time.Time `json:"answer_from,omitzero"`
}

// Request opens a handoff.
type Request struct {
	AccountID      uuid.UUID
	ContactID      uuid.UUID
	ConversationID uuid.UUID
	Source         string // ai, offline, customer, human
	Reason         string
	Summary        string // from the LLM's summary prompt; empty: extractive
	NextAction     string // from the LLM; empty: by sector
	Sector         string
	Like           string // the built-in sector the sector is like (billing, sales, support)
	Team           string
	Priority       string // normal, high, urgent
	// SLA is the first-response target before priority scaling: the
	// sector's, else the channel's response time.
	SLA     time.Duration
	Channel string
	// WaitingSince is when the customer asked (their first unanswered
	// message): the SLA clock starts there, not when the card is made — a
	// message answered a day late is late, not "4:48 left".
	WaitingSince time.Time
}

// Service runs handoffs.
type Service struct {
	pool          *pgxpool.Pool
	conversations *conversations.Store
	memory        *memory.Store
	channels      *channels.Store
	outbox        *channels.Outbox
	jobs          channels.JobInserter
	events        Events
	log           *slog.Logger
	now           func() time.Time
}

// NewService wires the handoff service; events may be nil.
func NewService(pool *pgxpool.Pool, mem *memory.Store, chs *channels.Store, outbox *channels.Outbox, jobs channels.JobInserter, events Events, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{pool: pool, conversations: conversations.NewStore(pool), memory: mem, channels: chs, outbox: outbox, jobs: jobs, events: events, log: log, now: time.Now}
}

// SetClock replaces the clock (tests of SLA and business hours).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) emit(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, event string, data any) error {
	if s.events == nil {
		return nil
	}
	return s.events.Emit(ctx, tx, accountID, event, data)
}

// scaled is the first-response target for a priority: high halves it,
// urgent quarters it.
func scaled(sla time.Duration, priority string) time.Duration {
	switch priority {
	case "high":
		return sla / 2
	case "urgent":
		return sla / 4
	}
	return sla
}

// Open creates the handoff card in the caller's transaction (the one that
// records the decision to hand off): card, owner or team queue, SLA due in
// the team's business time, the SLA job, the webhook events. A conversation
// has at most one open handoff; opening again returns it.
func (s *Service) Open(ctx context.Context, tx pgx.Tx, r Request) (Handoff, error) {
	if existing, err := s.openFor(ctx, tx, r.AccountID, r.ConversationID); err == nil {
		return existing, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Handoff{}, err
	}
	if r.Priority == "" {
		r.Priority = "normal"
	}
	if r.SLA <= 0 {
		r.SLA = 15 * time.Minute
	}
	c, err := s.buildCard(ctx, tx, r)
	if err != nil {
		return Handoff{}, err
	}
	team, _, err := s.team(ctx, tx, r.AccountID, r.Team)
	if err != nil {
		return Handoff{}, err
	}
	now := s.now()
	start := now
	if !r.WaitingSince.IsZero() && r.WaitingSince.Before(now) {
		start = r.WaitingSince
	}
	h := Handoff{ID: uuid.Must(uuid.NewV7()), ContactID: r.ContactID, ConversationID: r.ConversationID, Source: r.Source,
		Reason: r.Reason, Summary: c.summary, Fields: c.fields, NextAction: c.nextAction, Sector: r.Sector, Team: r.Team,
		Channel: r.Channel, Priority: r.Priority, SLADue: team.hours.Add(start, scaled(r.SLA, r.Priority)).UTC().Truncate(time.Microsecond), CreatedAt: now.UTC().Truncate(time.Microsecond),
		Timeline: timelineLink(r.ContactID)}
	if !team.hours.IsOpen(now) {
		h.Away, h.AnswerFrom = true, team.hours.NextOpen(now)
	}
	owner, err := assign(ctx, tx, r.AccountID, r.Team)
	if err != nil {
		return Handoff{}, err
	}
	h.Status, h.OwnerID = StatusQueued, owner
	if owner != nil {
		h.Status = StatusAssigned
	}
	fields, _ := json.Marshal(h.Fields)
	_, err = tx.Exec(ctx, `INSERT INTO handoffs (id, account_id, contact_id, conversation_id, status, source, reason, summary, fields,
		next_action, sector, team, channel, priority, owner_id, sla_due, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		h.ID, r.AccountID, h.ContactID, h.ConversationID, h.Status, h.Source, h.Reason, h.Summary, fields, h.NextAction,
		h.Sector, h.Team, h.Channel, h.Priority, h.OwnerID, h.SLADue, h.CreatedAt)
	if err != nil {
		return Handoff{}, fmt.Errorf("store handoff of %s: %w", r.ConversationID, err)
	}
	if err := s.conversations.SetStatusTx(ctx, tx, r.AccountID, r.ConversationID, conversations.StatusPendingHuman); err != nil {
		return Handoff{}, err
	}
	if err := s.scheduleSLA(ctx, tx, SLAArgs{AccountID: r.AccountID, HandoffID: h.ID, Clock: SLAFirstResponse, Due: h.SLADue}); err != nil {
		return Handoff{}, err
	}
	if err := s.emit(ctx, tx, r.AccountID, webhooks.HandoffCreated, h); err != nil {
		return Handoff{}, err
	}
	who := "na fila da equipe " + displayTeam(r.Team) + " (ninguém disponível agora)"
	if owner != nil {
		a, err := s.attendant(ctx, tx, r.AccountID, *owner)
		if err != nil {
			return Handoff{}, err
		}
		h.OwnerName, who = a.Name, "atribuído a "+a.Name
		if err := s.emit(ctx, tx, r.AccountID, webhooks.HandoffAssigned, h); err != nil {
			return Handoff{}, err
		}
	}
	if _, err := s.memory.AppendTx(ctx, tx, r.AccountID, memory.Event{ContactID: r.ContactID, ConversationID: &r.ConversationID, Kind: memory.EventAssignment,
		Direction: memory.DirectionInternal, Author: memory.AuthorSystem, Text: "Cartão de atendimento: " + who,
		Payload: mustJSON(map[string]any{"handoff_id": h.ID, "owner_id": h.OwnerID, "team": h.Team, "sla_due": h.SLADue})}); err != nil {
		return Handoff{}, err
	}
	return h, notify.Tx(ctx, tx, channels.InboxTopic(r.AccountID))
}

func displayTeam(t string) string {
	if t == "" {
		return "geral"
	}
	return t
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

const handoffColumns = `h.id, h.contact_id, h.conversation_id, coalesce(c.display_name, ''), h.status, h.source, h.reason, h.summary, h.fields,
	h.next_action, h.sector, h.team, h.channel, h.priority, h.owner_id, coalesce(a.name, ''), h.sla_due, h.breached_at,
	h.first_response_at, h.waiting_since, h.created_at, h.resolved_at`

const handoffFrom = ` FROM handoffs h
	LEFT JOIN contacts c ON c.account_id = h.account_id AND c.id = h.contact_id
	LEFT JOIN attendants a ON a.account_id = h.account_id AND a.id = h.owner_id`

func scanHandoff(row pgx.Row) (Handoff, error) {
	var h Handoff
	var fields []byte
	err := row.Scan(&h.ID, &h.ContactID, &h.ConversationID, &h.ContactName, &h.Status, &h.Source, &h.Reason, &h.Summary, &fields,
		&h.NextAction, &h.Sector, &h.Team, &h.Channel, &h.Priority, &h.OwnerID, &h.OwnerName, &h.SLADue, &h.BreachedAt,
		&h.FirstResponseAt, &h.WaitingSince, &h.CreatedAt, &h.ResolvedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, ErrNotFound
	}
	if err != nil {
		return h, err
	}
	_ = json.Unmarshal(fields, &h.Fields)
	h.Timeline = timelineLink(h.ContactID)
	return h, nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func (s *Service) openFor(ctx context.Context, q querier, accountID, conversationID uuid.UUID) (Handoff, error) {
	h, err := scanHandoff(q.QueryRow(ctx, `SELECT `+handoffColumns+handoffFrom+`
		WHERE h.account_id = $1 AND h.conversation_id = $2 AND h.status IN ('queued', 'assigned')`, accountID, conversationID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return h, fmt.Errorf("read handoff of %s: %w", conversationID, err)
	}
	return h, err
}

// Get returns one handoff of the account.
func (s *Service) Get(ctx context.Context, accountID, id uuid.UUID) (Handoff, error) {
	h, err := scanHandoff(s.pool.QueryRow(ctx, `SELECT `+handoffColumns+handoffFrom+` WHERE h.account_id = $1 AND h.id = $2`, accountID, id))
	if errors.Is(err, ErrNotFound) {
		return h, fmt.Errorf("handoff %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return h, fmt.Errorf("read handoff %s: %w", id, err)
	}
	return h, nil
}

// Filter narrows a list of handoffs; empty fields match everything. Status
// "open" means queued or assigned.
type Filter struct {
	Status    string
	Sector    string
	Team      string
	OwnerID   *uuid.UUID
	ContactID *uuid.UUID
	// Tag keeps the cards whose contact or conversation carries the tag
	// (any casing: "VIP" is vip).
	Tag   string
	Limit int
}

// List returns handoffs sorted by SLA due time (the queue order).
func (s *Service) List(ctx context.Context, accountID uuid.UUID, f Filter) ([]Handoff, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	statuses := []string{f.Status}
	switch f.Status {
	case "", "open":
		statuses = []string{StatusQueued, StatusAssigned}
	case "all":
		statuses = []string{StatusQueued, StatusAssigned, StatusResolved, StatusReturned}
	}
	rows, err := s.pool.Query(ctx, `SELECT `+handoffColumns+handoffFrom+`
		WHERE h.account_id = $1 AND h.status = ANY ($2) AND ($3 = '' OR h.sector = $3) AND ($4 = '' OR h.team = $4)
		AND ($5::uuid IS NULL OR h.owner_id = $5) AND ($6::uuid IS NULL OR h.contact_id = $6)
		AND ($8::text IS NULL OR `+tags.MatchSQL("h.account_id", "h.contact_id", "h.conversation_id", "$8")+`)
		ORDER BY h.sla_due, h.created_at LIMIT $7`, accountID, statuses, f.Sector, f.Team, f.OwnerID, f.ContactID, f.Limit, tagKey(f.Tag))
	if err != nil {
		return nil, fmt.Errorf("list handoffs: %w", err)
	}
	defer rows.Close()
	var out []Handoff
	for rows.Next() {
		h, err := scanHandoff(rows)
		if err != nil {
			return nil, fmt.Errorf("list handoffs: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// tagKey is the filter's tag key, nil for no filter ("" for a tag that
// cannot exist, which matches nothing).
func tagKey(tag string) *string {
	if strings.TrimSpace(tag) == "" {
		return nil
	}
	key := tags.Key(tag)
	return &key
}

// change runs an update of one handoff in a transaction, after locking it;
// fn sees the handoff and the memory transaction.
func (s *Service) change(ctx context.Context, accountID, id uuid.UUID, fn func(tx pgx.Tx, h Handoff) error) (Handoff, error) {
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		h, err := scanHandoff(tx.QueryRow(ctx, `SELECT `+handoffColumns+handoffFrom+` WHERE h.account_id = $1 AND h.id = $2
			FOR UPDATE OF h`, accountID, id))
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("handoff %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read handoff %s: %w", id, err)
		}
		if err := fn(tx, h); err != nil {
			return err
		}
		return notify.Tx(ctx, tx, channels.InboxTopic(accountID))
	})
	if err != nil {
		return Handoff{}, err
	}
	return s.Get(ctx, accountID, id)
}

func isOpen(h Handoff) bool { return h.Status == StatusQueued || h.Status == StatusAssigned }

// ErrClosed is returned for an action on a resolved or returned handoff.
var ErrClosed = errors.New("handoff is closed")

// ErrForbidden is returned when an attendant acts on a colleague's card:
// taking it, answering on it, passing it on or handing it back is an
// admin's call, or the supervisor's of the card's team (notes and closing
// are for everyone). The rule is checked in the action's transaction,
// against the card and the team as they are then, for the inbox and the
// REST API alike.
var ErrForbidden = errors.New("the card is a colleague's: only an admin or the team's supervisor may do that")

// mayAct refuses by acting on a card someone else owns, unless by is an
// admin or supervises the card's team.
func mayAct(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, h Handoff, by Attendant) error {
	if h.OwnerID == nil || *h.OwnerID == by.ID || by.Role == RoleAdmin {
		return nil
	}
	var supervises bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM teams WHERE account_id = $1 AND name = $2 AND supervisor_id = $3)`,
		accountID, h.Team, by.ID).Scan(&supervises); err != nil {
		return fmt.Errorf("check the supervisor of team %s: %w", h.Team, err)
	}
	if supervises {
		return nil
	}
	return fmt.Errorf("%s owns it: %w", h.OwnerName, ErrForbidden)
}

// Claim makes an attendant the owner (of a queued card, or their own; an
// admin may take anyone's).
func (s *Service) Claim(ctx context.Context, accountID, id uuid.UUID, by Attendant) (Handoff, error) {
	return s.setOwner(ctx, accountID, id, by, &by.ID, "assumido por")
}

// Reassign moves a handoff to another attendant, or (nil) back to the team
// queue; by must own it or be an admin.
func (s *Service) Reassign(ctx context.Context, accountID, id uuid.UUID, by Attendant, to *uuid.UUID) (Handoff, error) {
	return s.setOwner(ctx, accountID, id, by, to, "reatribuído a")
}

func (s *Service) setOwner(ctx context.Context, accountID, id uuid.UUID, by Attendant, to *uuid.UUID, verb string) (Handoff, error) {
	var name string
	if to != nil {
		a, err := s.Attendant(ctx, accountID, *to)
		if err != nil {
			return Handoff{}, err
		}
		name = a.Name
	}
	return s.change(ctx, accountID, id, func(tx pgx.Tx, h Handoff) error {
		if !isOpen(h) {
			return fmt.Errorf("%w: %s", ErrClosed, h.Status)
		}
		if err := mayAct(ctx, tx, accountID, h, by); err != nil {
			return err
		}
		status, text := StatusAssigned, "Cartão "+verb+" "+name
		if to == nil {
			status, text = StatusQueued, "Cartão devolvido à fila da equipe "+displayTeam(h.Team)
		}
		if _, err := tx.Exec(ctx, `UPDATE handoffs SET owner_id = $3, status = $4 WHERE account_id = $1 AND id = $2`,
			accountID, id, to, status); err != nil {
			return fmt.Errorf("assign handoff %s: %w", id, err)
		}
		if to != nil {
			if _, err := tx.Exec(ctx, `UPDATE attendants SET last_assigned_at = now() WHERE account_id = $1 AND id = $2`, accountID, *to); err != nil {
				return err
			}
		}
		if _, err := s.memory.AppendTx(ctx, tx, accountID, memory.Event{ContactID: h.ContactID, ConversationID: &h.ConversationID, Kind: memory.EventAssignment,
			Direction: memory.DirectionInternal, Author: memory.AuthorHuman, Text: text,
			Payload: mustJSON(map[string]any{"handoff_id": id, "owner_id": to})}); err != nil {
			return err
		}
		h.OwnerID, h.OwnerName, h.Status = to, name, status
		return s.emit(ctx, tx, accountID, webhooks.HandoffAssigned, h)
	})
}

// Reply sends a person's message to the customer through the channel the
// customer last wrote on (or channelID), within the channel's window rules:
// the first reply stops the first-response SLA, any reply stops the
// next-response one, an unowned handoff becomes the replier's, and the
// conversation is the human's (the bot stays silent).
func (s *Service) Reply(ctx context.Context, accountID, id uuid.UUID, by Attendant, text string, channelID *uuid.UUID, files ...memory.Media) (memory.Event, error) {
	attendantID := by.ID
	if strings.TrimSpace(text) == "" && len(files) == 0 {
		return memory.Event{}, fmt.Errorf("%w: empty reply", ErrInvalid)
	}
	var sent memory.Event
	_, err := s.change(ctx, accountID, id, func(tx pgx.Tx, h Handoff) error {
		if !isOpen(h) {
			return fmt.Errorf("%w: %s", ErrClosed, h.Status)
		}
		if err := mayAct(ctx, tx, accountID, h, by); err != nil {
			return err
		}
		ch, err := s.replyChannel(ctx, tx, accountID, h, channelID)
		if err != nil {
			return err
		}
		sent, err = s.outbox.Queue(ctx, tx, accountID, channels.Outgoing{ContactID: h.ContactID, ConversationID: &h.ConversationID,
			ChannelID: ch, Text: text, Media: files, Author: memory.AuthorHuman})
		if err != nil {
			return err
		}
		owner := h.OwnerID
		if owner == nil {
			owner = &attendantID
		}
		if _, err := tx.Exec(ctx, `UPDATE handoffs SET first_response_at = coalesce(first_response_at, $3), waiting_since = NULL,
			owner_id = $4, status = 'assigned' WHERE account_id = $1 AND id = $2`, accountID, id, s.now(), owner); err != nil {
			return fmt.Errorf("record reply to %s: %w", id, err)
		}
		if err := s.conversations.SetStatusTx(ctx, tx, accountID, h.ConversationID, conversations.StatusHuman); err != nil {
			return err
		}
		return s.emit(ctx, tx, accountID, webhooks.MessageCreated, sent)
	})
	return sent, err
}

// replyChannel is the channel instance a reply leaves through: the one asked
// for, else the one the customer last wrote on.
func (s *Service) replyChannel(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, h Handoff, asked *uuid.UUID) (uuid.UUID, error) {
	if asked != nil {
		if _, err := s.channels.GetTx(ctx, tx, accountID, *asked); err != nil {
			return uuid.Nil, err
		}
		return *asked, nil
	}
	msg, ok, err := s.memory.LastCustomerMessageTx(ctx, tx, accountID, h.ConversationID)
	if err != nil {
		return uuid.Nil, err
	}
	if !ok {
		return uuid.Nil, fmt.Errorf("%w: the conversation has no customer message to answer; pick a channel", ErrInvalid)
	}
	var p struct {
		ChannelID uuid.UUID `json:"channel_id"`
	}
	if err := json.Unmarshal(msg.Payload, &p); err != nil || p.ChannelID == uuid.Nil {
		return uuid.Nil, fmt.Errorf("%w: message %d has no channel", ErrInvalid, msg.ID)
	}
	return p.ChannelID, nil
}

// Note adds an internal note to the contact's timeline (never sent).
func (s *Service) Note(ctx context.Context, accountID, id uuid.UUID, by Attendant, text string) (Handoff, error) {
	if strings.TrimSpace(text) == "" {
		return Handoff{}, fmt.Errorf("%w: empty note", ErrInvalid)
	}
	return s.change(ctx, accountID, id, func(tx pgx.Tx, h Handoff) error {
		_, err := s.memory.AppendTx(ctx, tx, accountID, memory.Event{ContactID: h.ContactID, ConversationID: &h.ConversationID, Kind: memory.EventNote,
			Direction: memory.DirectionInternal, Author: memory.AuthorHuman, Text: text, Payload: mustJSON(map[string]any{"by": by.Name, "handoff_id": id})})
		return err
	})
}

// HandBack returns the conversation to the bot with a note for it and the team.
func (s *Service) HandBack(ctx context.Context, accountID, id uuid.UUID, by Attendant, note string) (Handoff, error) {
	return s.change(ctx, accountID, id, func(tx pgx.Tx, h Handoff) error {
		if !isOpen(h) {
			return fmt.Errorf("%w: %s", ErrClosed, h.Status)
		}
		if err := mayAct(ctx, tx, accountID, h, by); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE handoffs SET status = 'returned', resolved_at = $3, waiting_since = NULL
			WHERE account_id = $1 AND id = $2`, accountID, id, s.now()); err != nil {
			return fmt.Errorf("hand back %s: %w", id, err)
		}
		if err := s.conversations.SetStatusTx(ctx, tx, accountID, h.ConversationID, conversations.StatusBot); err != nil {
			return err
		}
		text := "Devolvido ao assistente por " + by.Name
		if strings.TrimSpace(note) != "" {
			text += ": " + note
		}
		_, err := s.memory.AppendTx(ctx, tx, accountID, memory.Event{ContactID: h.ContactID, ConversationID: &h.ConversationID, Kind: memory.EventHandoff,
			Direction: memory.DirectionInternal, Author: memory.AuthorHuman, Text: text,
			Payload: mustJSON(map[string]any{"handoff_id": id, "returned_by": by.ID, "note": note})})
		return err
	})
}

// Resolve closes the handoff and the conversation, and asks the customer,
// on their last channel, to rate the service (the channel's CSAT template);
// the answer becomes a csat event.
func (s *Service) Resolve(ctx context.Context, accountID, id uuid.UUID, by Attendant) (Handoff, error) {
	return s.change(ctx, accountID, id, func(tx pgx.Tx, h Handoff) error {
		if !isOpen(h) {
			return fmt.Errorf("%w: %s", ErrClosed, h.Status)
		}
		if _, err := tx.Exec(ctx, `UPDATE handoffs SET status = 'resolved', resolved_at = $3, waiting_since = NULL
			WHERE account_id = $1 AND id = $2`, accountID, id, s.now()); err != nil {
			return fmt.Errorf("resolve %s: %w", id, err)
		}
		if _, err := s.memory.AppendTx(ctx, tx, accountID, memory.Event{ContactID: h.ContactID, ConversationID: &h.ConversationID, Kind: memory.EventHandoff,
			Direction: memory.DirectionInternal, Author: memory.AuthorHuman, Text: "Atendimento resolvido por " + by.Name,
			Payload: mustJSON(map[string]any{"handoff_id": id, "resolved_by": by.ID})}); err != nil {
			return err
		}
		if ch, err := s.replyChannel(ctx, tx, accountID, h, nil); err == nil {
			chn, err := s.channels.GetTx(ctx, tx, accountID, ch)
			if err != nil {
				return err
			}
			rules, err := channels.RulesFor(chn)
			if err != nil {
				return err
			}
			if _, err := s.outbox.Queue(ctx, tx, accountID, channels.Outgoing{ContactID: h.ContactID, ConversationID: &h.ConversationID,
				ChannelID: ch, Text: rules.Templates[channels.TemplateCSAT], Author: memory.AuthorSystem}); err != nil {
				return err
			}
			if err := requestCSATTx(ctx, tx, accountID, h.ContactID, h.ConversationID, s.now()); err != nil {
				return err
			}
		}
		if err := s.conversations.SetStatusTx(ctx, tx, accountID, h.ConversationID, conversations.StatusResolved); err != nil {
			return err
		}
		h.Status = StatusResolved
		return s.emit(ctx, tx, accountID, webhooks.HandoffResolved, h)
	})
}
