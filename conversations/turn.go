package conversations

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Why a lease on the conversation row, and not a lock: a turn calls slow
// things (an LLM, an embedder, platform APIs) between reading what the
// customer said and writing the answer. A session advisory lock or an open
// transaction would pin a pool connection for all that time, and a few slow
// turns starve the pool for everyone (issue 9: eight workers, four
// connections, the server wedged). A lease is taken and released by single
// short statements; while it is held no connection is. It is fenced: the
// answer is written only if the turn still holds it, so a turn that outlived
// its lease (a stall, a crash and restart) can never answer twice. And it
// expires, so a turn killed with its process is picked up by the next one.

// ErrBusy is returned by ClaimTurn when another turn holds the conversation;
// Until says when its lease runs out at the latest.
type ErrBusy struct{ Until time.Time }

func (e ErrBusy) Error() string {
	return fmt.Sprintf("another turn holds the conversation until %s", e.Until.Format(time.RFC3339))
}

// ErrLeaseLost is returned when a turn tries to answer after its lease was
// taken over: it must write nothing.
var ErrLeaseLost = errors.New("turn lease lost")

// ErrTakenOver is returned when a person took the conversation over (a reply
// from the business's phone, a takeover in the inbox) while the turn was
// deciding: the bot must not talk over them, and writes nothing.
var ErrTakenOver = errors.New("conversation taken over by a person")

// TurnLease is a turn's hold on a conversation.
type TurnLease struct {
	AccountID      uuid.UUID
	ConversationID uuid.UUID
	Token          uuid.UUID
	Until          time.Time
	// Conversation is the conversation as the lease found it.
	Conversation Conversation
}

// ClaimTurn takes the conversation's turn lease for d, if nobody holds it or
// its holder's lease ran out. One autocommitted statement.
func (s *Store) ClaimTurn(ctx context.Context, accountID, id uuid.UUID, d time.Duration) (TurnLease, error) {
	token := uuid.New()
	var until time.Time
	c, err := scanLease(s.pool.QueryRow(ctx, `UPDATE conversations SET turn_token = $3, turn_lease_until = now() + $4::interval
		WHERE account_id = $1 AND id = $2 AND (turn_token IS NULL OR turn_lease_until < now())
		RETURNING `+columns+`, turn_lease_until`, accountID, id, token, d.String()), &until)
	if errors.Is(err, pgx.ErrNoRows) {
		var held *time.Time
		err := s.pool.QueryRow(ctx, `SELECT turn_lease_until FROM conversations WHERE account_id = $1 AND id = $2`, accountID, id).Scan(&held)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return TurnLease{}, fmt.Errorf("conversation %s: %w", id, ErrNotFound)
		case err != nil:
			return TurnLease{}, fmt.Errorf("read turn lease of %s: %w", id, err)
		case held == nil: // released between the two statements: try again soon
			return TurnLease{}, ErrBusy{Until: s.now()}
		}
		return TurnLease{}, ErrBusy{Until: *held}
	}
	if err != nil {
		return TurnLease{}, fmt.Errorf("claim turn of %s: %w", id, err)
	}
	return TurnLease{AccountID: accountID, ConversationID: id, Token: token, Until: until, Conversation: c}, nil
}

func scanLease(row pgx.Row, until *time.Time) (Conversation, error) {
	var c Conversation
	err := row.Scan(&c.ID, &c.ContactID, &c.Status, &c.Sector, &c.AssigneeID, &c.LastChannel, &c.AnsweredThrough, until)
	return c, err
}

// ReleaseTurn gives the lease back (a no-op when it was already taken over).
func (s *Store) ReleaseTurn(ctx context.Context, l TurnLease) error {
	if _, err := s.pool.Exec(ctx, `UPDATE conversations SET turn_token = NULL, turn_lease_until = NULL
		WHERE account_id = $1 AND id = $2 AND turn_token = $3`, l.AccountID, l.ConversationID, l.Token); err != nil {
		return fmt.Errorf("release turn of %s: %w", l.ConversationID, err)
	}
	return nil
}

// AnswerTx records, in the transaction that writes a turn's answer, the sector
// and status the turn decided and the last customer message it answered —
// only while the turn still holds its lease (ErrLeaseLost otherwise, and the
// caller rolls back). answeredThrough never goes backwards.
func (s *Store) AnswerTx(ctx context.Context, tx pgx.Tx, l TurnLease, sector string, status Status, answeredThrough int64) error {
	// A conversation a merge closed during the turn stays closed: the
	// customer's open conversation is the one the merge kept.
	tag, err := tx.Exec(ctx, `UPDATE conversations SET sector = $4,
		status = CASE WHEN status = 'resolved' THEN status ELSE $5 END,
		resolved_at = CASE WHEN status = 'resolved' THEN resolved_at WHEN $5 = 'resolved' THEN now() ELSE NULL END,
		answered_through = greatest(answered_through, $6)
		WHERE account_id = $1 AND id = $2 AND turn_token = $3 AND status NOT IN ('human', 'pending_human')`,
		l.AccountID, l.ConversationID, l.Token, sector, status, answeredThrough)
	if err != nil {
		return fmt.Errorf("record answer of %s: %w", l.ConversationID, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var held bool
	var now Status
	if err := tx.QueryRow(ctx, `SELECT turn_token IS NOT DISTINCT FROM $3, status FROM conversations WHERE account_id = $1 AND id = $2`,
		l.AccountID, l.ConversationID, l.Token).Scan(&held, &now); err != nil {
		return fmt.Errorf("read conversation %s: %w", l.ConversationID, err)
	}
	if held && now.WithHuman() {
		return fmt.Errorf("answer %s: %w", l.ConversationID, ErrTakenOver)
	}
	return fmt.Errorf("answer %s: %w", l.ConversationID, ErrLeaseLost)
}
