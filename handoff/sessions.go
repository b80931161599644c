package handoff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Session is a logged-in attendant of the inbox. The cookie holds a random
// token; the database only its SHA-256. CSRF is the token every form must echo.
type Session struct {
	AccountID uuid.UUID
	Attendant Attendant
	CSRF      string
	ExpiresAt time.Time
}

// sessionTTL is how long an inbox login lasts.
const sessionTTL = 12 * time.Hour

// ErrNoSession is returned for a missing, unknown or expired session.
var ErrNoSession = errors.New("no session")

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// StartSession logs an attendant in: it returns the cookie token and the session.
func (s *Service) StartSession(ctx context.Context, accountID uuid.UUID, a Attendant) (string, Session, error) {
	token, csrf := randomToken(), randomToken()
	expires := s.now().Add(sessionTTL)
	if _, err := s.pool.Exec(ctx, `INSERT INTO inbox_sessions (token_hash, account_id, attendant_id, csrf, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		tokenHash(token), accountID, a.ID, csrf, expires); err != nil {
		return "", Session{}, fmt.Errorf("start session: %w", err)
	}
	_, _ = s.pool.Exec(ctx, `DELETE FROM inbox_sessions WHERE expires_at < now()`)
	return token, Session{AccountID: accountID, Attendant: a, CSRF: csrf, ExpiresAt: expires}, nil
}

// Session returns the session of a cookie token.
func (s *Service) Session(ctx context.Context, token string) (Session, error) {
	if token == "" {
		return Session{}, ErrNoSession
	}
	var sess Session
	var id uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT account_id, attendant_id, csrf, expires_at FROM inbox_sessions WHERE token_hash = $1 AND expires_at > $2`,
		tokenHash(token), s.now()).Scan(&sess.AccountID, &id, &sess.CSRF, &sess.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("read session: %w", err)
	}
	if sess.Attendant, err = s.Attendant(ctx, sess.AccountID, id); err != nil {
		return Session{}, err
	}
	return sess, nil
}

// EndSession logs out.
func (s *Service) EndSession(ctx context.Context, token string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM inbox_sessions WHERE token_hash = $1`, tokenHash(token)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}
