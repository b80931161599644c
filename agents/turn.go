// Package agents answers customers: for each conversation turn it decides
// which sector owns it, what memory already knows, and replies, acts or hands
// off — through the offline engine today (the LLM engine plugs in beside it).
package agents

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/atende/atende/channels"
)

// TurnQueueName is the River queue conversation turns run on.
const TurnQueueName = "agents"

// TurnArgs is the job that answers a conversation's unanswered messages.
type TurnArgs struct {
	AccountID      uuid.UUID `json:"account_id"`
	ConversationID uuid.UUID `json:"conversation_id"`
	ContactID      uuid.UUID `json:"contact_id"`
}

// Kind names the job in River's table.
func (TurnArgs) Kind() string { return "agent_turn" }

// InsertOpts puts turns on their own queue.
func (TurnArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: TurnQueueName, MaxAttempts: 5}
}

// Turns enqueues a turn for every stored customer message, a little later
// (debounce) so a burst of short messages is answered once. It implements
// channels.TurnQueue.
type Turns struct {
	jobs     channels.JobInserter
	debounce time.Duration
}

// NewTurns returns the turn queue.
func NewTurns(jobs channels.JobInserter, debounce time.Duration) *Turns {
	return &Turns{jobs: jobs, debounce: debounce}
}

// EnqueueTurn inserts the turn job in the transaction that stored the message.
func (t *Turns) EnqueueTurn(ctx context.Context, tx pgx.Tx, turn channels.Turn) error {
	opts := &river.InsertOpts{}
	if t.debounce > 0 {
		opts.ScheduledAt = time.Now().Add(t.debounce)
	}
	if _, err := t.jobs.InsertTx(ctx, tx, TurnArgs{AccountID: turn.AccountID, ConversationID: turn.ConversationID,
		ContactID: turn.ContactID}, opts); err != nil {
		return fmt.Errorf("enqueue turn of %s: %w", turn.ConversationID, err)
	}
	return nil
}

// TurnWorker runs turns.
type TurnWorker struct {
	river.WorkerDefaults[TurnArgs]
	orchestrator *Orchestrator
}

// NewTurnWorker returns the worker to register with River.
func NewTurnWorker(o *Orchestrator) *TurnWorker { return &TurnWorker{orchestrator: o} }

// Work answers the conversation.
func (w *TurnWorker) Work(ctx context.Context, job *river.Job[TurnArgs]) error {
	return w.orchestrator.Turn(ctx, job.Args)
}
