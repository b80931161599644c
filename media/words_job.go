package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
)

// Queue is the River queue media jobs (downloads, transcriptions,
// descriptions) run on.
const Queue = "media"

// WordsArgs is the job that puts one stored file into words: a voice note
// transcribed, an image described.
type WordsArgs struct {
	AccountID uuid.UUID `json:"account_id"`
	FileID    uuid.UUID `json:"file_id"`
}

// Kind names the job in River's table.
func (WordsArgs) Kind() string { return "media_words" }

// InsertOpts: a provider's bad minute is retried, one job per file.
func (WordsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 4, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// SpeechToText turns speech into text; Transcriber is the OpenAI-compatible one.
type SpeechToText interface {
	Transcribe(ctx context.Context, audio io.Reader, fileName, mime string) (Transcript, error)
}

// Sight describes an image in a sentence or two (a chat model with vision:
// llm.Engine.Describe). accountID picks the account's version of the prompt.
type Sight interface {
	Describe(ctx context.Context, accountID uuid.UUID, image []byte, mime string) (string, error)
}

// ErrDescriptionRefused is a description no retry will give (the model
// refused the image or does not take images).
var ErrDescriptionRefused = errors.New("description refused")

// maxDescribedBytes is the largest image sent to be described: a phone
// photo fits, and the model is not sent a poster.
const maxDescribedBytes = 8 << 20

// Waker is told, after words were written, which pages and turns to wake
// (notify.Hub).
type Waker interface{ Poke(topic string) }

// WordsTopic is what a conversation's waiting turn listens on: a file of it
// was put into words, or will not be.
func WordsTopic(conversationID uuid.UUID) string { return "media-words/" + conversationID.String() }

// WordsWorker transcribes voice notes and describes images, and writes the
// words onto their message, holding no connection while the provider works.
type WordsWorker struct {
	river.WorkerDefaults[WordsArgs]
	pool   *pgxpool.Pool
	memory *memory.Store
	files  *Files
	blobs  Blobs
	speech SpeechToText // nil: no transcription provider
	sight  Sight        // nil: no model with vision
	wakes  Waker
	// also are the topics to wake beside the conversation's (the inbox's).
	also func(accountID uuid.UUID) []string
	log  *slog.Logger
}

// WordsDeps are the worker's dependencies; Speech or Sight may be nil.
type WordsDeps struct {
	Pool   *pgxpool.Pool
	Memory *memory.Store
	Files  *Files
	Blobs  Blobs
	Speech SpeechToText
	Sight  Sight
	Wakes  Waker
	// Also names more topics to wake per account (the inbox's page).
	Also func(uuid.UUID) []string
	Log  *slog.Logger
}

// NewWordsWorker returns the worker to register with River.
func NewWordsWorker(d WordsDeps) *WordsWorker {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &WordsWorker{pool: d.Pool, memory: d.Memory, files: d.Files, blobs: d.Blobs, speech: d.Speech, sight: d.Sight,
		wakes: d.Wakes, also: d.Also, log: d.Log}
}

// Timeout bounds one job (a long voice note on a slow provider); under
// River's rescue of stuck jobs (75 s), or it would be started again beside
// itself.
func (w *WordsWorker) Timeout(*river.Job[WordsArgs]) time.Duration { return 70 * time.Second }

// Work puts the file into words; a refusal or the last failure is recorded
// on the file ("áudio sem transcrição" and why), and either way the turn
// waiting for the words is woken.
func (w *WordsWorker) Work(ctx context.Context, job *river.Job[WordsArgs]) error {
	a := job.Args
	f, err := w.files.Get(ctx, a.AccountID, a.FileID)
	if errors.Is(err, ErrNotFound) {
		return nil // erased meanwhile
	}
	if err != nil {
		return err
	}
	if f.WordsStatus != WordsPending || f.Status != StatusStored {
		return nil
	}
	words, err := w.words(ctx, f)
	if err != nil {
		if !errors.Is(err, ErrTranscriptionRefused) && !errors.Is(err, ErrDescriptionRefused) && job.Attempt < job.MaxAttempts {
			return err
		}
		w.log.WarnContext(ctx, "media not put into words", "file_id", f.ID, "kind", f.Kind, "error", err)
		return w.finish(ctx, f, memory.MediaWords{}, clip(err.Error(), 300))
	}
	if words == (memory.MediaWords{}) {
		if Describable(f.Kind) {
			return w.finish(ctx, f, words, "o modelo não descreveu a imagem")
		}
		return w.finish(ctx, f, words, "nenhuma fala reconhecida no áudio")
	}
	return w.finish(ctx, f, words, "")
}

// words asks the provider for the file's kind.
func (w *WordsWorker) words(ctx context.Context, f File) (memory.MediaWords, error) {
	r, err := w.blobs.Open(ctx, f.SHA256)
	if err != nil {
		return memory.MediaWords{}, err
	}
	defer func() { _ = r.Close() }()
	switch {
	case Transcribable(f.Kind) && w.speech != nil:
		t, err := w.speech.Transcribe(ctx, r, f.FileName, f.MIME) // a nameless voice note is named by its type there
		if err != nil {
			return memory.MediaWords{}, fmt.Errorf("transcribe %s: %w", f.ID, err)
		}
		return memory.MediaWords{Transcript: strings.TrimSpace(t.Text)}, nil
	case Describable(f.Kind) && w.sight != nil:
		if f.Size > maxDescribedBytes {
			return memory.MediaWords{}, fmt.Errorf("%w: image over %d MB", ErrDescriptionRefused, maxDescribedBytes>>20)
		}
		image, err := io.ReadAll(io.LimitReader(r, maxDescribedBytes))
		if err != nil {
			return memory.MediaWords{}, fmt.Errorf("read image %s: %w", f.ID, err)
		}
		d, err := w.sight.Describe(ctx, f.AccountID, image, f.MIME)
		if err != nil {
			return memory.MediaWords{}, fmt.Errorf("describe %s: %w", f.ID, err)
		}
		return memory.MediaWords{Description: strings.TrimSpace(d)}, nil
	}
	return memory.MediaWords{}, fmt.Errorf("%w: no provider for a %s", ErrTranscriptionRefused, f.Kind)
}

// finish writes the words (or why there are none) and wakes who waits.
func (w *WordsWorker) finish(ctx context.Context, f File, words memory.MediaWords, failure string) error {
	// the provider may have used up the job's time: the outcome is still
	// written, or the file would say "transcrevendo…" forever
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var conv *uuid.UUID
	err := database.InTx(ctx, w.pool, func(tx pgx.Tx) error {
		if failure == "" {
			ev, err := w.memory.SetMediaWordsTx(ctx, tx, f.AccountID, f.EventID, f.Position, words)
			if errors.Is(err, memory.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			conv = ev.ConversationID
		} else if ev, err := w.memory.Event(ctx, f.AccountID, f.EventID); err == nil {
			conv = ev.ConversationID
		}
		return w.files.WordsDoneTx(ctx, tx, f.AccountID, f.ID, failure)
	})
	if err != nil {
		return err
	}
	if w.wakes != nil {
		if conv != nil {
			w.wakes.Poke(WordsTopic(*conv))
		}
		if w.also != nil {
			for _, t := range w.also(f.AccountID) {
				w.wakes.Poke(t)
			}
		}
	}
	return nil
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
