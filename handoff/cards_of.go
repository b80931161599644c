package handoff

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// CardsOf returns, for each of the contacts that has a card, the card the
// inbox shows them on: the open one (queued or assigned), else the latest.
// Contacts without a card are absent from the map.
func (s *Service) CardsOf(ctx context.Context, accountID uuid.UUID, contactIDs []uuid.UUID) (map[uuid.UUID]uuid.UUID, error) {
	out := map[uuid.UUID]uuid.UUID{}
	if len(contactIDs) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (contact_id) contact_id, id FROM handoffs
		WHERE account_id = $1 AND contact_id = ANY($2)
		ORDER BY contact_id, status IN ('queued', 'assigned') DESC, created_at DESC, id DESC`, accountID, contactIDs)
	if err != nil {
		return nil, fmt.Errorf("read the cards of contacts: %w", err)
	}
	type pair struct{ Contact, Card uuid.UUID }
	pairs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pair])
	if err != nil {
		return nil, fmt.Errorf("read the cards of contacts: %w", err)
	}
	for _, p := range pairs {
		out[p.Contact] = p.Card
	}
	return out, nil
}
