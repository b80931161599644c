package agents

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
)

// Transcripts says whether files of a turn's messages are still being put
// into words — voice notes transcribed, images described (media.Files).
type Transcripts interface {
	AwaitingWords(ctx context.Context, accountID uuid.UUID, eventIDs []int64) (bool, error)
}

// Listener hears a topic being poked (notify.Hub): a waiting turn wakes
// when its voice note's words are written, not on a timer.
type Listener interface {
	Subscribe(topic string) (<-chan struct{}, func())
}

// DefaultTranscriptWait is how long a turn waits for a voice note's words
// before it answers without them ("recebi seu áudio, mas não consigo
// ouvir"): a provider transcribes a minute of speech in a few seconds, and
// the customer who sent it is waiting too.
const DefaultTranscriptWait = 30 * time.Second

// maxTranscriptWait bounds ATENDE_TRANSCRIBE_WAIT: a customer who sent a
// voice note is waiting too.
const maxTranscriptWait = 60 * time.Second

// maxWordsWaitInPlace is how long one turn job waits for words in place
// (woken the moment they are written); a longer wait goes on as snoozes, so
// the job's timeout stays the turn's own (TurnTimeout, under River's rescue).
const maxWordsWaitInPlace = 15 * time.Second

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// awaitingWords is a turn that found a voice note still being transcribed:
// the worker waits for the words (or until) and runs the turn again.
type awaitingWords struct {
	conversationID uuid.UUID
	until          time.Time
}

func (a awaitingWords) Error() string {
	return fmt.Sprintf("conversation %s: waiting for a voice note's transcript until %s", a.conversationID, a.until.Format(time.TimeOnly))
}

// awaitWords says whether the turn should wait for the words of the pending
// messages' voice notes: only while they are being transcribed and the
// newest of those messages arrived less than the wait ago.
func (o *Orchestrator) awaitWords(ctx context.Context, accountID, conversationID uuid.UUID, pending []memory.Event) error {
	if o.transcripts == nil {
		return nil
	}
	var ids []int64
	var newest time.Time
	for _, e := range pending {
		for _, m := range e.Media {
			if m.Words() == "" { // maybe being transcribed or described: the files say
				ids = append(ids, e.ID)
				newest = latest(newest, e.CreatedAt)
				break
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	until := newest.Add(o.transcriptWait)
	if !o.now().Before(until) {
		return nil // waited enough: answer without the words
	}
	waiting, err := o.transcripts.AwaitingWords(ctx, accountID, ids)
	if err != nil || !waiting {
		return err
	}
	return awaitingWords{conversationID: conversationID, until: until}
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// waitForWords holds the turn job (no connection, no lease) until the
// conversation's transcript topic is poked or the wait is over.
func (w *TurnWorker) waitForWords(ctx context.Context, woken <-chan struct{}, a awaitingWords) error {
	timer := time.NewTimer(max(10*time.Millisecond, time.Until(a.until)))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-woken:
	case <-timer.C:
	}
	return nil
}

// wordsTopic is what the turn listens on while it waits.
func wordsTopic(conversationID uuid.UUID) string { return media.WordsTopic(conversationID) }
