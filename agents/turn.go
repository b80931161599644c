// Package agents answers customers: for each conversation turn it decides
// which sector owns it, what memory already knows, and replies, acts or hands
// off — through the offline engine today (the LLM engine plugs in beside it).
package agents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/conversations"
)

// TurnQueueName is the River queue conversation turns run on.
const TurnQueueName = "agents"

// TurnArgs is the job that answers a conversation's unanswered messages.
type TurnArgs struct {
	AccountID      uuid.UUID `json:"account_id"`
	ConversationID uuid.UUID `json:"conversation_id"`
	ContactID      uuid.UUID `json:"contact_id"`
	// EventID is the customer message that enqueued the turn (zero for
	// turns enqueued otherwise): when a later message of the conversation
	// exists, the later message's own turn answers both.
	EventID int64 `json:"event_id,omitempty"`
}

// Kind names the job in River's table.
func (TurnArgs) Kind() string { return "agent_turn" }

// InsertOpts puts turns on their own queue.
func (TurnArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: TurnQueueName, MaxAttempts: 5}
}

// DefaultTurnLease is how long a turn may hold its conversation. It is longer
// than TurnTimeout, so a live turn never loses its lease, and short enough
// that a conversation whose turn died with its process is answered within a
// couple of minutes of the restart.
const DefaultTurnLease = 75 * time.Second

// TurnTimeout bounds one turn job: the debounce, the LLM's tool loop (which
// falls back to the offline engine on its own timeout, 20 s by default), the
// card's summary and the writes.
const TurnTimeout = 60 * time.Second

// Turns enqueues a turn for every stored customer message. It implements
// channels.TurnQueue.
type Turns struct {
	jobs channels.JobInserter
}

// NewTurns returns the turn queue.
func NewTurns(jobs channels.JobInserter) *Turns {
	return &Turns{jobs: jobs}
}

// EnqueueTurn inserts the turn job in the transaction that stored the
// message. The job is available at once, not scheduled: River promotes
// scheduled jobs only every few seconds, which would add up to five seconds
// to every reply; the worker waits out the debounce itself.
func (t *Turns) EnqueueTurn(ctx context.Context, tx pgx.Tx, turn channels.Turn) error {
	if _, err := t.jobs.InsertTx(ctx, tx, TurnArgs{AccountID: turn.AccountID, ConversationID: turn.ConversationID,
		ContactID: turn.ContactID, EventID: turn.EventID}, nil); err != nil {
		return fmt.Errorf("enqueue turn of %s: %w", turn.ConversationID, err)
	}
	return nil
}

// TurnWorker runs turns.
type TurnWorker struct {
	river.WorkerDefaults[TurnArgs]
	orchestrator *Orchestrator
	debounce     time.Duration
	now          func() time.Time
}

// NewTurnWorker returns the worker to register with River. debounce is how
// long after a customer's message its turn starts, so a burst of short
// messages is answered once.
func NewTurnWorker(o *Orchestrator, debounce time.Duration) *TurnWorker {
	return &TurnWorker{orchestrator: o, debounce: debounce, now: time.Now}
}

// Timeout bounds a turn (River cancels its context after it).
func (w *TurnWorker) Timeout(*river.Job[TurnArgs]) time.Duration { return TurnTimeout }

// maxDebounceSleep is the longest a worker waits in place for the debounce;
// a longer debounce is a snooze, so waiting turns do not hold worker slots.
const maxDebounceSleep = 10 * time.Second

// busyRetry is how soon a turn that found its conversation held tries again,
// at the latest: the holder answers what arrived meanwhile itself, so the
// retry usually finds nothing to do; it matters when the holder died.
const busyRetry = 2 * time.Second

// Work waits out the debounce (holding no connection), leaves the answer to a
// later message's turn when there is one, and answers the conversation.
func (w *TurnWorker) Work(ctx context.Context, job *river.Job[TurnArgs]) error {
	if wait := job.CreatedAt.Add(w.debounce).Sub(w.now()); wait > 0 {
		if wait > maxDebounceSleep {
			return river.JobSnooze(wait)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
	if job.Args.EventID != 0 {
		later, err := w.orchestrator.memory.HasInboundAfter(ctx, job.Args.AccountID, job.Args.ConversationID, job.Args.EventID)
		if err != nil {
			return err
		}
		if later {
			return nil // the later message's turn answers this one too
		}
	}
	var woken <-chan struct{}
	if l := w.orchestrator.listener; l != nil && w.orchestrator.transcripts != nil {
		var stop func()
		woken, stop = l.Subscribe(wordsTopic(job.Args.ConversationID)) // before the turn looks, so no poke is missed
		defer stop()
	}
	err := w.orchestrator.Turn(ctx, job.Args)
	inPlace := w.now().Add(maxWordsWaitInPlace)
	for {
		var words awaitingWords
		if !errors.As(err, &words) {
			break
		}
		if !w.now().Before(inPlace) {
			// the rest of the wait is a snooze: the job's time is for the turn
			return river.JobSnooze(max(100*time.Millisecond, min(time.Until(words.until), busyRetry)))
		}
		words.until = earliest(words.until, inPlace)
		if err := w.waitForWords(ctx, woken, words); err != nil {
			return err
		}
		err = w.orchestrator.Turn(ctx, job.Args)
	}
	if errors.Is(err, conversations.ErrNotFound) {
		return river.JobCancel(err) // erased meanwhile: nobody left to answer
	}
	var busy conversations.ErrBusy
	if errors.As(err, &busy) {
		return river.JobSnooze(min(busyRetry, max(100*time.Millisecond, time.Until(busy.Until))))
	}
	if err != nil {
		return err
	}
	// The customer's message was stored without its chunking job (one less
	// write on the webhook's path): the history is embedded now.
	return w.orchestrator.memory.EnqueueChunking(ctx, job.Args.AccountID, job.Args.ContactID)
}
