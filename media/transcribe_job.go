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

// Queue is the River queue media jobs (downloads, transcriptions) run on.
const Queue = "media"

// TranscribeArgs is the job that transcribes one stored voice note.
type TranscribeArgs struct {
	AccountID uuid.UUID `json:"account_id"`
	FileID    uuid.UUID `json:"file_id"`
}

// Kind names the job in River's table.
func (TranscribeArgs) Kind() string { return "media_transcribe" }

// InsertOpts: a provider's bad minute is retried, one job per file.
func (TranscribeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 4, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// SpeechToText turns speech into text; Transcriber is the OpenAI-compatible one.
type SpeechToText interface {
	Transcribe(ctx context.Context, audio io.Reader, fileName, mime string) (Transcript, error)
}

// Waker is told, after a transcription committed, which pages and turns to
// wake (notify.Hub).
type Waker interface{ Poke(topic string) }

// TranscriptTopic is what a conversation's waiting turn listens on: a voice
// note of it was transcribed, or will not be.
func TranscriptTopic(conversationID uuid.UUID) string { return "transcript/" + conversationID.String() }

// TranscribeWorker transcribes voice notes and writes the words onto their
// message, holding no connection while the provider listens.
type TranscribeWorker struct {
	river.WorkerDefaults[TranscribeArgs]
	pool   *pgxpool.Pool
	memory *memory.Store
	files  *Files
	blobs  Blobs
	speech SpeechToText
	wakes  Waker
	// also are the topics to wake beside the conversation's (the inbox's).
	also func(accountID uuid.UUID) []string
	log  *slog.Logger
}

// NewTranscribeWorker returns the worker to register with River. wakes may
// be nil; also names more topics to wake per account (the inbox's page).
func NewTranscribeWorker(pool *pgxpool.Pool, mem *memory.Store, files *Files, blobs Blobs, speech SpeechToText,
	wakes Waker, also func(uuid.UUID) []string, log *slog.Logger) *TranscribeWorker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &TranscribeWorker{pool: pool, memory: mem, files: files, blobs: blobs, speech: speech, wakes: wakes, also: also, log: log}
}

// Timeout bounds one transcription (a long voice note on a slow provider).
func (w *TranscribeWorker) Timeout(*river.Job[TranscribeArgs]) time.Duration { return 3 * time.Minute }

// Work transcribes the file; a refusal or the last failure is recorded on
// the file ("áudio sem transcrição" and why), and either way the turn
// waiting for the words is woken.
func (w *TranscribeWorker) Work(ctx context.Context, job *river.Job[TranscribeArgs]) error {
	a := job.Args
	f, err := w.files.Get(ctx, a.AccountID, a.FileID)
	if errors.Is(err, ErrNotFound) {
		return nil // erased meanwhile
	}
	if err != nil {
		return err
	}
	if f.TranscriptStatus != TranscriptPending || f.Status != StatusStored {
		return nil
	}
	text, err := w.transcribe(ctx, f)
	if err != nil {
		if !errors.Is(err, ErrTranscriptionRefused) && job.Attempt < job.MaxAttempts {
			return err
		}
		w.log.WarnContext(ctx, "voice note not transcribed", "file_id", f.ID, "error", err)
		return w.finish(ctx, f, "", clip(err.Error(), 300))
	}
	if text == "" {
		return w.finish(ctx, f, "", "nenhuma fala reconhecida no áudio")
	}
	return w.finish(ctx, f, text, "")
}

func (w *TranscribeWorker) transcribe(ctx context.Context, f File) (string, error) {
	r, err := w.blobs.Open(ctx, f.SHA256)
	if err != nil {
		return "", err
	}
	defer func() { _ = r.Close() }()
	t, err := w.speech.Transcribe(ctx, r, f.FileName, f.MIME) // a nameless voice note is named by its type there
	if err != nil {
		return "", fmt.Errorf("transcribe %s: %w", f.ID, err)
	}
	return strings.TrimSpace(t.Text), nil
}

// finish writes the words (or why there are none) and wakes who waits.
func (w *TranscribeWorker) finish(ctx context.Context, f File, text, failure string) error {
	var conv *uuid.UUID
	err := database.InTx(ctx, w.pool, func(tx pgx.Tx) error {
		if text != "" {
			ev, err := w.memory.SetMediaWordsTx(ctx, tx, f.AccountID, f.EventID, f.Position, memory.MediaWords{Transcript: text})
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
		return w.files.TranscribedTx(ctx, tx, f.AccountID, f.ID, failure)
	})
	if err != nil {
		return err
	}
	if w.wakes != nil {
		if conv != nil {
			w.wakes.Poke(TranscriptTopic(*conv))
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
