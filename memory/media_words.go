package memory

import (
	"context"
	"errors"
	"fmt"

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
