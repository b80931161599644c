package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Escalations a team may name for a breached SLA.
const (
	EscalateRaisePriority = "raise_priority"
	EscalateSupervisor    = "supervisor"
)

// Team is who answers a sector's handoffs: its members, business hours and
// what to do when an SLA is breached.
type Team struct {
	Name     string            `json:"name" yaml:"name"`
	Title    string            `json:"title,omitempty" yaml:"title"`
	Timezone string            `json:"timezone,omitempty" yaml:"timezone"`
	Hours    map[string]string `json:"hours,omitempty" yaml:"hours"`
	Holidays []string          `json:"holidays,omitempty" yaml:"holidays"`
	// Escalation on a breach: raise_priority, supervisor, or both
	// ("raise_priority,supervisor"; default raise_priority).
	Escalation string   `json:"escalation,omitempty" yaml:"escalation"`
	Supervisor string   `json:"supervisor,omitempty" yaml:"supervisor"` // an attendant's e-mail
	Members    []string `json:"members,omitempty" yaml:"members"`       // attendants' e-mails

	hours BusinessHours
}

// PutTeams makes the account's teams exactly these; members and supervisor
// are attendants' e-mails, which must exist.
func (s *Service) PutTeams(ctx context.Context, accountID uuid.UUID, teams []Team) error {
	for _, t := range teams {
		if t.Name == "" {
			return fmt.Errorf("%w: a team needs a name", ErrInvalid)
		}
		if _, err := ParseHours(t.Timezone, t.Hours, t.Holidays); err != nil {
			return fmt.Errorf("%w: team %s: %v", ErrInvalid, t.Name, err)
		}
		for _, e := range strings.Split(t.Escalation, ",") {
			if e = strings.TrimSpace(e); e != "" && e != EscalateRaisePriority && e != EscalateSupervisor {
				return fmt.Errorf("%w: team %s: escalation %q (raise_priority, supervisor)", ErrInvalid, t.Name, e)
			}
		}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM teams WHERE account_id = $1`, accountID); err != nil {
			return err
		}
		for _, t := range teams {
			def, _ := json.Marshal(t)
			var supervisor *uuid.UUID
			if t.Supervisor != "" {
				id, err := attendantByEmail(ctx, tx, accountID, t.Supervisor)
				if err != nil {
					return fmt.Errorf("team %s supervisor: %w", t.Name, err)
				}
				supervisor = &id
			}
			if _, err := tx.Exec(ctx, `INSERT INTO teams (account_id, name, definition, supervisor_id) VALUES ($1, $2, $3, $4)`,
				accountID, t.Name, def, supervisor); err != nil {
				return err
			}
			for _, m := range t.Members {
				id, err := attendantByEmail(ctx, tx, accountID, m)
				if err != nil {
					return fmt.Errorf("team %s member: %w", t.Name, err)
				}
				if _, err := tx.Exec(ctx, `INSERT INTO team_members (account_id, team, attendant_id) VALUES ($1, $2, $3)
					ON CONFLICT DO NOTHING`, accountID, t.Name, id); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store teams: %w", err)
	}
	return nil
}

func attendantByEmail(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, email string) (uuid.UUID, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `SELECT id FROM attendants WHERE account_id = $1 AND email = $2`, accountID, strings.ToLower(strings.TrimSpace(email))).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return id, fmt.Errorf("%w: no attendant %s", ErrInvalid, email)
	}
	return id, err
}

// team loads a team; an unknown name is a team with no members, no hours
// (always open) and the default escalation, so a sector's handoff always
// has somewhere to go (the queue).
func (s *Service) team(ctx context.Context, q pgx.Tx, accountID uuid.UUID, name string) (Team, *uuid.UUID, error) {
	var raw []byte
	var supervisor *uuid.UUID
	err := q.QueryRow(ctx, `SELECT definition, supervisor_id FROM teams WHERE account_id = $1 AND name = $2`, accountID, name).Scan(&raw, &supervisor)
	t := Team{Name: name}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return Team{}, nil, fmt.Errorf("load team %s: %w", name, err)
	default:
		if err := json.Unmarshal(raw, &t); err != nil {
			return Team{}, nil, fmt.Errorf("decode team %s: %w", name, err)
		}
	}
	h, err := ParseHours(t.Timezone, t.Hours, t.Holidays)
	if err != nil {
		return Team{}, nil, err
	}
	t.hours = h
	return t, supervisor, nil
}

// escalations are the team's breach actions.
func (t Team) escalations() []string {
	if strings.TrimSpace(t.Escalation) == "" {
		return []string{EscalateRaisePriority}
	}
	var out []string
	for _, e := range strings.Split(t.Escalation, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// assign picks the owner of a new handoff in the team: available members
// under their capacity, fewest open handoffs first, the one assigned longest
// ago among equals (round robin). nil: nobody can take it (the team queue).
// A team-wide transaction lock makes concurrent handoffs see each other.
func assign(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, team string) (*uuid.UUID, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1::text || '/' || $2, 0))`, accountID, team); err != nil {
		return nil, fmt.Errorf("lock team %s: %w", team, err)
	}
	var id uuid.UUID
	err := tx.QueryRow(ctx, `SELECT a.id FROM attendants a
		JOIN team_members m ON m.account_id = a.account_id AND m.attendant_id = a.id AND m.team = $2
		CROSS JOIN LATERAL (SELECT count(*) AS open FROM handoffs h
			WHERE h.account_id = a.account_id AND h.owner_id = a.id AND h.status = 'assigned') o
		WHERE a.account_id = $1 AND a.available AND o.open < a.capacity
		ORDER BY o.open, a.last_assigned_at NULLS FIRST, a.id
		LIMIT 1`, accountID, team).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("choose an owner in %s: %w", team, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE attendants SET last_assigned_at = clock_timestamp() WHERE account_id = $1 AND id = $2`, accountID, id); err != nil {
		return nil, fmt.Errorf("mark assignment of %s: %w", id, err)
	}
	return &id, nil
}

// HasTeams reports whether the account has any team yet.
func (s *Service) HasTeams(ctx context.Context, accountID uuid.UUID) (bool, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM teams WHERE account_id = $1`, accountID).Scan(&n); err != nil {
		return false, fmt.Errorf("count teams: %w", err)
	}
	return n > 0, nil
}
