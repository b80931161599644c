package handoff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/atende/atende/memory"
	"github.com/atende/atende/webhooks"
)

// SLAQueue is the River queue SLA timers run on.
const SLAQueue = "sla"

// The SLA clocks a handoff has.
const (
	SLAFirstResponse = "first_response" // from the handoff to the first human reply
	SLANextResponse  = "next_response"  // from a customer message to the human's answer
)

// SLAArgs is a timer set for the due time: if nobody answered by then, the
// SLA is breached.
type SLAArgs struct {
	AccountID uuid.UUID `json:"account_id"`
	HandoffID uuid.UUID `json:"handoff_id"`
	Clock     string    `json:"clock"`
	Due       time.Time `json:"due"`
}

// Kind names the job in River's table.
func (SLAArgs) Kind() string { return "handoff_sla" }

// InsertOpts puts timers on their queue; one timer per handoff, clock and due time.
func (SLAArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: SLAQueue, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

func (s *Service) scheduleSLA(ctx context.Context, tx pgx.Tx, args SLAArgs) error {
	if _, err := s.jobs.InsertTx(ctx, tx, args, &river.InsertOpts{ScheduledAt: args.Due}); err != nil {
		return fmt.Errorf("schedule SLA of %s: %w", args.HandoffID, err)
	}
	return nil
}

// SLAWorker runs the timers.
type SLAWorker struct {
	river.WorkerDefaults[SLAArgs]
	service *Service
}

// NewSLAWorker returns the worker to register with River.
func NewSLAWorker(s *Service) *SLAWorker { return &SLAWorker{service: s} }

// Work checks the timer; a timer that fires early (a clock skew) waits again.
func (w *SLAWorker) Work(ctx context.Context, job *river.Job[SLAArgs]) error {
	_, err := w.service.CheckSLA(ctx, job.Args)
	if errors.Is(err, errTooEarly) {
		return river.JobSnooze(time.Until(job.Args.Due) + time.Second)
	}
	return err
}

var errTooEarly = errors.New("SLA timer fired before its due time")

// CheckSLA breaches the SLA if nobody answered in time: an event on the
// timeline, the sla.breached webhook and the team's escalation (raise the
// priority; hand the card to the team's supervisor). It reports whether it
// breached; an answered, closed or already breached handoff is left alone.
func (s *Service) CheckSLA(ctx context.Context, args SLAArgs) (bool, error) {
	now := s.now()
	if now.Before(args.Due) {
		return false, errTooEarly
	}
	breached := false
	_, err := s.change(ctx, args.AccountID, args.HandoffID, func(tx pgx.Tx, h Handoff) error {
		if !isOpen(h) {
			return nil
		}
		switch args.Clock {
		case SLAFirstResponse:
			if h.FirstResponseAt != nil || h.BreachedAt != nil || !h.SLADue.Equal(args.Due.Truncate(time.Microsecond)) {
				return nil
			}
		case SLANextResponse:
			if h.WaitingSince == nil {
				return nil
			}
		}
		breached = true
		team, supervisor, err := s.team(ctx, tx, args.AccountID, h.Team)
		if err != nil {
			return err
		}
		owner, priority, before := h.OwnerID, h.Priority, h.OwnerID
		var done []string
		for _, e := range team.escalations() {
			switch e {
			case EscalateRaisePriority:
				priority = map[string]string{"normal": "high", "high": "urgent", "urgent": "urgent"}[priority]
				done = append(done, "prioridade "+priority)
			case EscalateSupervisor:
				if supervisor != nil {
					owner = supervisor
					done = append(done, "cartão passado ao supervisor")
				}
			}
		}
		status := StatusQueued
		if owner != nil {
			status = StatusAssigned
		}
		if _, err := tx.Exec(ctx, `UPDATE handoffs SET breached_at = coalesce(breached_at, $3), priority = $4, owner_id = $5, status = $6
			WHERE account_id = $1 AND id = $2`, args.AccountID, h.ID, now, priority, owner, status); err != nil {
			return fmt.Errorf("breach %s: %w", h.ID, err)
		}
		what := "primeira resposta"
		if args.Clock == SLANextResponse {
			what = "resposta ao cliente"
		}
		text := fmt.Sprintf("SLA de %s estourado (prazo %s)", what, args.Due.In(time.UTC).Format("02/01 15:04 UTC"))
		payload := map[string]any{"handoff_id": h.ID, "clock": args.Clock, "due": args.Due, "escalation": done, "priority": priority, "owner_id": owner}
		if _, err := s.memory.AppendTx(ctx, tx, args.AccountID, memory.Event{ContactID: h.ContactID, ConversationID: &h.ConversationID, Kind: memory.EventAction,
			Direction: memory.DirectionInternal, Author: memory.AuthorSystem, Text: text, Payload: mustJSON(payload)}); err != nil {
			return err
		}
		h.Priority, h.OwnerID, h.Status, h.BreachedAt = priority, owner, status, &now
		if err := s.emit(ctx, tx, args.AccountID, webhooks.SLABreached, map[string]any{"handoff": h, "clock": args.Clock, "escalation": done}); err != nil {
			return err
		}
		if owner != nil && (before == nil || *owner != *before) {
			return s.emit(ctx, tx, args.AccountID, webhooks.HandoffAssigned, h)
		}
		return nil
	})
	return breached, err
}
