package handoff

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/atende/atende/conversations"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/webhooks"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// CustomerWrote is told when the customer writes to a conversation a person
// owns: the bot stays silent, the owner's inbox wakes, and the next-response
// clock starts if it is not already running.
func (s *Service) CustomerWrote(ctx context.Context, accountID, conversationID uuid.UUID) error {
	h, err := s.openFor(ctx, s.pool, accountID, conversationID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if h.WaitingSince != nil || h.FirstResponseAt == nil {
		return nil // the clock is already running (or the first-response one is)
	}
	_, err = s.change(ctx, accountID, h.ID, func(tx pgx.Tx, h Handoff) error {
		team, _, err := s.team(ctx, tx, accountID, h.Team)
		if err != nil {
			return err
		}
		now := s.now()
		sla := h.SLADue.Sub(h.CreatedAt) // the same target as the first response
		if sla <= 0 {
			sla = 15 * time.Minute
		}
		if _, err := tx.Exec(ctx, `UPDATE handoffs SET waiting_since = $3 WHERE account_id = $1 AND id = $2 AND waiting_since IS NULL`,
			accountID, h.ID, now); err != nil {
			return err
		}
		return s.scheduleSLA(ctx, tx, SLAArgs{AccountID: accountID, HandoffID: h.ID, Clock: SLANextResponse, Due: team.hours.Add(now, sla).UTC().Truncate(time.Microsecond)})
	})
	return err
}

// HumanReplied takes a conversation over for a person who answered from the
// business's own phone or app: an open handoff counts it as the first
// response; without one, a card is opened for the takeover. Either way the
// conversation is the human's and the bot stays silent.
func (s *Service) HumanReplied(ctx context.Context, tx pgx.Tx, accountID, contactID, conversationID uuid.UUID, _ int64) error {
	h, err := s.openFor(ctx, tx, accountID, conversationID)
	switch {
	case errors.Is(err, ErrNotFound):
		if h, err = s.Open(ctx, tx, Request{AccountID: accountID, ContactID: contactID, ConversationID: conversationID, Source: "human",
			Reason: "human_takeover", NextAction: "Continuar o atendimento iniciado pelo telefone da empresa"}); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE handoffs SET first_response_at = coalesce(first_response_at, $3), waiting_since = NULL
		WHERE account_id = $1 AND id = $2`, accountID, h.ID, s.now()); err != nil {
		return fmt.Errorf("record takeover of %s: %w", conversationID, err)
	}
	return s.conversations.SetStatusTx(ctx, tx, accountID, conversationID, conversations.StatusHuman)
}

// TakeOver opens a card for a person taking a conversation over from the
// inbox (no AI handoff before), owned by that person.
func (s *Service) TakeOver(ctx context.Context, accountID, conversationID uuid.UUID, by Attendant) (Handoff, error) {
	conv, err := s.conversations.Get(ctx, accountID, conversationID)
	if err != nil {
		return Handoff{}, err
	}
	var h Handoff
	err = database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		h, err = s.Open(ctx, tx, Request{AccountID: accountID, ContactID: conv.ContactID, ConversationID: conversationID, Source: "human",
			Reason: "human_takeover", Sector: conv.Sector, Channel: conv.LastChannel})
		if err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE handoffs SET owner_id = $3, status = 'assigned' WHERE account_id = $1 AND id = $2`, accountID, h.ID, by.ID)
		return err
	})
	if err != nil {
		return Handoff{}, err
	}
	return s.Get(ctx, accountID, h.ID)
}

// csatWindow is how long after the request a score is still taken as one.
const csatWindow = 7 * 24 * time.Hour

var scorePattern = regexp.MustCompile(`^\s*(?:nota\s*)?([1-5])\s*(?:/\s*5|estrelas?|⭐+)?\s*[!.]*\s*$`)

// Score reads a satisfaction score (1 to 5) from a customer's message:
// "5", "nota 4", "3/5", "⭐⭐⭐⭐" (four stars).
func Score(text string) (int, bool) {
	t := strings.TrimSpace(strings.ToLower(text))
	if m := scorePattern.FindStringSubmatch(t); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, true
	}
	if stars := strings.Count(t, "⭐"); stars >= 1 && stars <= 5 && strings.Trim(t, "⭐ ") == "" {
		return stars, true
	}
	return 0, false
}

// RecordCSAT takes a customer's message as the score of their last resolved
// conversation, if one is waiting for it and the message is a score: a csat
// event on the timeline and the csat.received webhook, in the caller's
// transaction (the turn's, which thanks the customer in the same commit, so
// a failed thank-you leaves the score unrecorded for the retry). It reports
// whether the score was recorded.
func (s *Service) RecordCSAT(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, text string) (bool, error) {
	score, ok := Score(text)
	if !ok {
		return false, nil
	}
	convID, waiting, err := awaitingCSAT(ctx, tx, accountID, contactID, s.now().Add(-csatWindow))
	if err != nil || !waiting {
		return false, err
	}
	recorded, err := recordCSATScoreTx(ctx, tx, accountID, convID, score, s.now())
	if err != nil || !recorded {
		return false, err
	}
	ev, err := s.memory.AppendTx(ctx, tx, accountID, memory.Event{ContactID: contactID, ConversationID: &convID, Kind: memory.EventCSAT,
		Direction: memory.DirectionIn, Author: memory.AuthorContact, Text: fmt.Sprintf("Avaliação: %d/5", score),
		Payload: mustJSON(map[string]any{"score": score, "conversation_id": convID})})
	if err != nil {
		return false, err
	}
	if err := s.emit(ctx, tx, accountID, webhooks.CSATReceived, map[string]any{"score": score, "contact_id": contactID,
		"conversation_id": convID, "event_id": ev.Event.ID}); err != nil {
		return false, err
	}
	return true, nil
}
