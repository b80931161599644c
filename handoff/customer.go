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

// Rating is a satisfaction score read from a customer's message, with what
// they wrote beside it ("nota 4, demorou mas resolveu": 4, "demorou mas
// resolveu").
type Rating struct {
	Score   int    `json:"score"`
	Comment string `json:"comment,omitempty"`
}

// leadingScore is a score that opens the message: the number alone, or
// followed by a scale, stars or a separator before a comment ("4 - bom",
// "5 estrelas, obrigada", "3/5 demorou"). "4 pedidos não chegaram" is no
// score: a bare space after the number is not a separator.
var leadingScore = regexp.MustCompile(`^\s*(?:(?:minha )?nota(?: e| eh)?:?\s*|dou(?: nota)?\s*|avalio(?: com)?\s*)?([1-5]|um|dois|tres|quatro|cinco)` +
	`(?:\s*/\s*5|\s*(?:estrelas?|⭐+)|\s*(?:de|em) 5)?(?:\s*(?:[,.;:!\-–—]+|$)\s*|\s+(?:estrelas?)\s*)(.*)$`)

// namedScore is a score said in words anywhere: "dou nota 4 pelo
// atendimento", "avalio com 5".
var namedScore = regexp.MustCompile(`\b(?:nota|dou|avalio com|daria)\s*(?:um |uma )?([1-5]|um|dois|tres|quatro|cinco)\b(?:\s*/\s*5)?`)

var scoreWords = map[string]int{"um": 1, "dois": 2, "tres": 3, "quatro": 4, "cinco": 5}

// ParseRating reads a satisfaction score (1 to 5) and its comment from a
// customer's message: "5", "nota 4, demorou mas resolveu", "3/5", "⭐⭐⭐⭐
// rápido", "dou nota 2 porque ninguém respondeu".
func ParseRating(text string) (Rating, bool) {
	raw := strings.TrimSpace(text)
	t := memory.Fold(raw)
	if stars := strings.Count(raw, "⭐"); stars >= 1 && stars <= 5 && strings.HasPrefix(strings.TrimLeft(raw, " "), "⭐") {
		return Rating{Score: stars, Comment: cleanComment(strings.ReplaceAll(raw, "⭐", ""))}, true
	}
	number := func(s string) int {
		if n, err := strconv.Atoi(s); err == nil {
			return n
		}
		return scoreWords[s]
	}
	if m := leadingScore.FindStringSubmatch(t); m != nil {
		// The comment keeps the customer's accents: cut the raw text where
		// the folded one was cut (folding keeps one rune per rune).
		return Rating{Score: number(m[1]), Comment: cleanComment(tailRunes(raw, len([]rune(m[2]))))}, true
	}
	if m := namedScore.FindStringSubmatchIndex(t); m != nil {
		return Rating{Score: number(t[m[2]:m[3]]), Comment: cleanComment(raw)}, true
	}
	return Rating{}, false
}

// tailRunes is the last n runes of s.
func tailRunes(s string, n int) string {
	r := []rune(s)
	if n > len(r) {
		n = len(r)
	}
	return string(r[len(r)-n:])
}

func cleanComment(s string) string {
	return strings.Trim(strings.TrimSpace(s), ",.;:!-–— ")
}

// RecordCSAT takes a customer's message as the score of their last resolved
// conversation, if one is waiting for it and the message is a score: a csat
// event on the timeline and the csat.received webhook, in the caller's
// transaction (the turn's, which thanks the customer in the same commit, so
// a failed thank-you leaves the score unrecorded for the retry). It reports
// whether the score was recorded.
func (s *Service) RecordCSAT(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, text string) (bool, error) {
	rating, ok := ParseRating(text)
	if !ok {
		return false, nil
	}
	score := rating.Score
	convID, waiting, err := awaitingCSAT(ctx, tx, accountID, contactID, s.now().Add(-csatWindow))
	if err != nil || !waiting {
		return false, err
	}
	recorded, err := recordCSATScoreTx(ctx, tx, accountID, convID, score, s.now())
	if err != nil || !recorded {
		return false, err
	}
	line := fmt.Sprintf("Avaliação: %d/5", score)
	if rating.Comment != "" {
		line += " — " + rating.Comment
	}
	ev, err := s.memory.AppendTx(ctx, tx, accountID, memory.Event{ContactID: contactID, ConversationID: &convID, Kind: memory.EventCSAT,
		Direction: memory.DirectionIn, Author: memory.AuthorContact, Text: line,
		Payload: mustJSON(map[string]any{"score": score, "comment": rating.Comment, "conversation_id": convID})})
	if err != nil {
		return false, err
	}
	if err := s.emit(ctx, tx, accountID, webhooks.CSATReceived, map[string]any{"score": score, "comment": rating.Comment, "contact_id": contactID,
		"conversation_id": convID, "event_id": ev.Event.ID}); err != nil {
		return false, err
	}
	return true, nil
}
