package memory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// MediaWords is what was learnt of one media item after its message was
// stored: a voice note's transcript, an image's description.
type MediaWords struct {
	Transcript  string
	Description string
}

// SetMediaWordsTx writes a media item's transcript or description onto its
// message, where the agents, the inbox and the history read it. A message
// already embedded has its window re-embedded with the words: the history
// is searched by what the voice note said, not by "[audio]". It returns the
// updated event.
func (s *Store) SetMediaWordsTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, eventID int64, position int, w MediaWords) (Event, error) {
	t := s.bind(tx)
	// A chunker that read this event before the words, and is embedding
	// its window now, would store the window without them after this
	// commits, and a full window is never cut again: the words wait for it
	// (its lock, taken before the event's row, as the chunker takes them),
	// then find the event chunked and reopen its window.
	var contactID uuid.UUID
	err := tx.QueryRow(ctx, `SELECT contact_id FROM events WHERE account_id = $1 AND id = $2`, accountID, eventID).Scan(&contactID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Event{}, fmt.Errorf("%w: event %d", ErrNotFound, eventID)
	}
	if err != nil {
		return Event{}, fmt.Errorf("read event %d: %w", eventID, err)
	}
	if err := lockChunking(ctx, tx, contactID); err != nil {
		return Event{}, err
	}
	e, err := scanEvent(tx.QueryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE account_id = $1 AND id = $2 FOR UPDATE`, accountID, eventID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Event{}, fmt.Errorf("%w: event %d", ErrNotFound, eventID)
	}
	if err != nil {
		return Event{}, fmt.Errorf("read event %d: %w", eventID, err)
	}
	if position < 0 || position >= len(e.Media) {
		return Event{}, fmt.Errorf("%w: event %d has no media %d", ErrInvalidEvent, eventID, position)
	}
	if w.Transcript != "" {
		e.Media[position].Transcript = clipBytes(w.Transcript, maxEventTextBytes)
	}
	if w.Description != "" {
		e.Media[position].Description = clipBytes(w.Description, 2000)
	}
	var chunk *int64
	if err := tx.QueryRow(ctx, `UPDATE events SET media = $3 WHERE account_id = $1 AND id = $2 RETURNING chunk_id`,
		accountID, eventID, e.Media).Scan(&chunk); err != nil {
		return Event{}, fmt.Errorf("store the words of event %d: %w", eventID, err)
	}
	if chunk != nil {
		// the window was embedded without the words: cut it again
		if _, err := tx.Exec(ctx, `UPDATE events SET chunk_id = NULL WHERE account_id = $1 AND chunk_id = $2`, accountID, *chunk); err != nil {
			return Event{}, fmt.Errorf("reopen chunk %d: %w", *chunk, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM memory_chunks WHERE account_id = $1 AND id = $2`, accountID, *chunk); err != nil {
			return Event{}, fmt.Errorf("drop chunk %d: %w", *chunk, err)
		}
		if err := t.enqueueChunking(ctx, accountID, e.ContactID); err != nil {
			return Event{}, err
		}
	}
	return e, nil
}

// clipBytes cuts s to at most n bytes on a rune boundary.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

// Said is what a message says in words: its text and what its voice notes
// said (an image's description is not the customer's words, so it stays
// out). The agents answer it and the card quotes it.
func (e Event) Said() string {
	parts := []string{}
	if t := strings.TrimSpace(e.Text); t != "" {
		parts = append(parts, t)
	}
	for _, m := range e.Media {
		if t := strings.TrimSpace(m.Transcript); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n")
}

// Unheard counts the message's audios that have no transcript: the card
// says "áudio sem transcrição" so a person listens before answering.
func (e Event) Unheard() int {
	n := 0
	for _, m := range e.Media {
		if (m.Type == "audio" || m.Type == "voice") && strings.TrimSpace(m.Transcript) == "" {
			n++
		}
	}
	return n
}
