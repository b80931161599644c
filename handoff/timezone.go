package handoff

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// DefaultTimeZone is where a team with no time zone of its own works.
const DefaultTimeZone = "America/Sao_Paulo"

// TimeZoneOf is where an attendant works: the time zone of their first team
// that names one, else the account's first team's, else DefaultTimeZone.
// The inbox shows every time in it, as the team reads the clock on the wall.
func (s *Service) TimeZoneOf(ctx context.Context, accountID, attendantID uuid.UUID) *time.Location {
	var tz string
	_ = s.pool.QueryRow(ctx, `SELECT t.definition->>'timezone' FROM teams t
		LEFT JOIN team_members m ON m.account_id = t.account_id AND m.team = t.name AND m.attendant_id = $2
		WHERE t.account_id = $1 AND coalesce(t.definition->>'timezone', '') <> ''
		ORDER BY (m.attendant_id IS NULL), t.name LIMIT 1`, accountID, attendantID).Scan(&tz)
	if tz == "" {
		tz = DefaultTimeZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc, _ = time.LoadLocation(DefaultTimeZone)
	}
	return loc
}
