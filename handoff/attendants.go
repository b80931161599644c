package handoff

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"
)

// Roles an attendant may have: agents answer; admins also manage.
const (
	RoleAgent = "agent"
	RoleAdmin = "admin"
)

// passwordCost is bcrypt's work factor: slow enough to make a leaked table
// expensive to crack, fast enough for a login (~100 ms here).
const passwordCost = 11

// minPasswordLength is the shortest password accepted.
const minPasswordLength = 8

// Errors callers branch on.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid")
	ErrBadLogin = errors.New("wrong e-mail or password")
	// ErrLockedOut is returned while an e-mail has had too many failed
	// logins: the password is not even checked.
	ErrLockedOut = errors.New("too many failed logins; try again later")
)

// Attendant is a person who answers customers in the inbox.
type Attendant struct {
	ID        uuid.UUID `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Available bool      `json:"available"`
	Capacity  int       `json:"capacity"`
	Open      int       `json:"open_handoffs"`
}

// NewAttendant is what creating an attendant takes.
type NewAttendant struct {
	Email    string `yaml:"email" json:"email"`
	Name     string `yaml:"name" json:"name"`
	Password string `yaml:"password" json:"password"`
	Role     string `yaml:"role" json:"role"`
	Capacity int    `yaml:"capacity" json:"capacity"`
}

// PutAttendant creates the attendant or updates its name, role, capacity and
// password (stored as a bcrypt hash, never in clear).
func (s *Service) PutAttendant(ctx context.Context, accountID uuid.UUID, a NewAttendant) (Attendant, error) {
	addr, err := mail.ParseAddress(a.Email)
	if err != nil || addr.Address != strings.TrimSpace(a.Email) {
		return Attendant{}, fmt.Errorf("%w: e-mail %q", ErrInvalid, a.Email)
	}
	email := strings.ToLower(addr.Address)
	if len(a.Password) < minPasswordLength {
		return Attendant{}, fmt.Errorf("%w: the password needs at least %d characters", ErrInvalid, minPasswordLength)
	}
	if a.Role == "" {
		a.Role = RoleAgent
	}
	if a.Role != RoleAgent && a.Role != RoleAdmin {
		return Attendant{}, fmt.Errorf("%w: role %q (agent or admin)", ErrInvalid, a.Role)
	}
	if a.Capacity <= 0 {
		a.Capacity = 5
	}
	if a.Name == "" {
		a.Name = strings.Split(email, "@")[0]
	}
	var current string
	err = s.pool.QueryRow(ctx, `SELECT password_hash FROM attendants WHERE account_id = $1 AND email = $2`, accountID, email).Scan(&current)
	hash := current
	if errors.Is(err, pgx.ErrNoRows) || bcrypt.CompareHashAndPassword([]byte(current), []byte(a.Password)) != nil {
		raw, err := bcrypt.GenerateFromPassword([]byte(a.Password), passwordCost)
		if err != nil {
			return Attendant{}, fmt.Errorf("hash password: %w", err)
		}
		hash = string(raw)
	}
	out := Attendant{Email: email, Name: a.Name, Role: a.Role, Capacity: a.Capacity, Available: true}
	err = s.pool.QueryRow(ctx, `INSERT INTO attendants (id, account_id, email, name, password_hash, role, capacity)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (account_id, email) DO UPDATE SET name = $4, password_hash = $5, role = $6, capacity = $7
		RETURNING id, available`, uuid.Must(uuid.NewV7()), accountID, email, a.Name, hash, a.Role, a.Capacity).Scan(&out.ID, &out.Available)
	if err != nil {
		return Attendant{}, fmt.Errorf("store attendant %s: %w", email, err)
	}
	if current != "" && hash != current {
		// A new password ends every session the old one opened.
		if _, err := s.pool.Exec(ctx, `DELETE FROM inbox_sessions WHERE account_id = $1 AND attendant_id = $2`, accountID, out.ID); err != nil {
			return Attendant{}, fmt.Errorf("end sessions of %s: %w", email, err)
		}
	}
	return out, nil
}

// Login checks an attendant's password. The error does not say which of the
// two was wrong, and an unknown e-mail costs the same time as a wrong password.
// After MaxLoginFailures failed logins within LoginLockout, an e-mail is
// locked out until the oldest of them is LoginLockout old. Every failure is
// logged.
func (s *Service) Login(ctx context.Context, accountID uuid.UUID, email, password string) (Attendant, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var failures int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM login_failures WHERE account_id = $1 AND email = $2 AND failed_at > $3`,
		accountID, email, s.now().Add(-LoginLockout)).Scan(&failures); err != nil {
		return Attendant{}, fmt.Errorf("login: %w", err)
	}
	if failures >= MaxLoginFailures {
		s.log.WarnContext(ctx, "inbox login refused: locked out", "account_id", accountID, "email", email, "failures", failures)
		return Attendant{}, ErrLockedOut
	}
	var a Attendant
	var hash string
	err := s.pool.QueryRow(ctx, `SELECT id, email, name, role, available, capacity, password_hash FROM attendants
		WHERE account_id = $1 AND email = $2`, accountID, email).
		Scan(&a.ID, &a.Email, &a.Name, &a.Role, &a.Available, &a.Capacity, &hash)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
	case err != nil:
		return Attendant{}, fmt.Errorf("login: %w", err)
	case bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil:
		if _, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE account_id = $1 AND email = $2`, accountID, email); err != nil {
			return Attendant{}, fmt.Errorf("login: %w", err)
		}
		return a, nil
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO login_failures (account_id, email, failed_at) VALUES ($1, $2, $3)`, accountID, email, s.now()); err != nil {
		return Attendant{}, fmt.Errorf("login: %w", err)
	}
	s.log.WarnContext(ctx, "inbox login failed", "account_id", accountID, "email", email, "failures", failures+1)
	return Attendant{}, ErrBadLogin
}

// MaxLoginFailures failed logins within LoginLockout lock an e-mail out:
// guessing a password at bcrypt's pace becomes five tries a quarter hour.
const (
	MaxLoginFailures = 5
	LoginLockout     = 15 * time.Minute
)

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("timing-equaliser"), passwordCost)

// Attendant returns one attendant of the account, with open handoffs counted.
func (s *Service) Attendant(ctx context.Context, accountID, id uuid.UUID) (Attendant, error) {
	return s.attendant(ctx, s.pool, accountID, id)
}

// attendant reads one attendant through q (a transaction never waits for a
// second connection).
func (s *Service) attendant(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}, accountID, id uuid.UUID) (Attendant, error) {
	list, err := s.attendantsOn(ctx, q, accountID, &id)
	if err != nil {
		return Attendant{}, err
	}
	if len(list) == 0 {
		return Attendant{}, fmt.Errorf("attendant %s: %w", id, ErrNotFound)
	}
	return list[0], nil
}

// Attendants lists the account's attendants.
func (s *Service) Attendants(ctx context.Context, accountID uuid.UUID) ([]Attendant, error) {
	return s.attendants(ctx, accountID, nil)
}

func (s *Service) attendants(ctx context.Context, accountID uuid.UUID, id *uuid.UUID) ([]Attendant, error) {
	return s.attendantsOn(ctx, s.pool, accountID, id)
}

func (s *Service) attendantsOn(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}, accountID uuid.UUID, id *uuid.UUID) ([]Attendant, error) {
	rows, err := q.Query(ctx, `SELECT a.id, a.email, a.name, a.role, a.available, a.capacity,
		(SELECT count(*) FROM handoffs h WHERE h.account_id = a.account_id AND h.owner_id = a.id AND h.status = 'assigned')
		FROM attendants a WHERE a.account_id = $1 AND ($2::uuid IS NULL OR a.id = $2) ORDER BY a.name`, accountID, id)
	if err != nil {
		return nil, fmt.Errorf("list attendants: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Attendant, error) {
		var a Attendant
		return a, r.Scan(&a.ID, &a.Email, &a.Name, &a.Role, &a.Available, &a.Capacity, &a.Open)
	})
	if err != nil {
		return nil, fmt.Errorf("list attendants: %w", err)
	}
	return out, nil
}

// SetAvailable puts an attendant in or out of assignment (a break, the end of a shift).
func (s *Service) SetAvailable(ctx context.Context, accountID, id uuid.UUID, available bool) error {
	tag, err := s.pool.Exec(ctx, `UPDATE attendants SET available = $3 WHERE account_id = $1 AND id = $2`, accountID, id, available)
	if err != nil {
		return fmt.Errorf("set availability of %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("attendant %s: %w", id, ErrNotFound)
	}
	return nil
}

// AttendantByEmail finds an attendant of the account by e-mail.
func (s *Service) AttendantByEmail(ctx context.Context, accountID uuid.UUID, email string) (Attendant, error) {
	var id uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT id FROM attendants WHERE account_id = $1 AND email = $2`, accountID, strings.ToLower(strings.TrimSpace(email))).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Attendant{}, fmt.Errorf("attendant %s: %w", email, ErrNotFound)
	}
	if err != nil {
		return Attendant{}, fmt.Errorf("find attendant %s: %w", email, err)
	}
	return s.Attendant(ctx, accountID, id)
}
