package memory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"
	"github.com/riverqueue/river"
)

// ChunkWindow is how many consecutive messages and notes make one embedded
// chunk: enough context for a snippet to make sense on its own, small enough
// that one detail (an order number) still dominates its vector.
const ChunkWindow = 6

// ChunkArgs is the River job that embeds a contact's new history. It is
// enqueued with every message and note, in the same transaction, and runs off
// the webhook path.
type ChunkArgs struct {
	AccountID uuid.UUID `json:"account_id"`
	ContactID uuid.UUID `json:"contact_id"`
}

// Kind names the job in River's table.
func (ChunkArgs) Kind() string { return "memory_chunk" }

// InsertOpts sends chunking to its own queue so embedding never delays replies.
func (ChunkArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: ChunkQueue, MaxAttempts: 10}
}

// ChunkQueue is the River queue chunk jobs run on.
const ChunkQueue = "memory"

func (t *txn) enqueueChunking(ctx context.Context, accountID, contactID uuid.UUID) error {
	if t.s.jobs == nil {
		return nil
	}
	if _, err := t.s.jobs.InsertTx(ctx, t.tx, ChunkArgs{AccountID: accountID, ContactID: contactID}, nil); err != nil {
		return fmt.Errorf("enqueue chunking of %s: %w", contactID, err)
	}
	return nil
}

// ChunkWorker runs ChunkArgs jobs.
type ChunkWorker struct {
	river.WorkerDefaults[ChunkArgs]
	store *Store
}

// NewChunkWorker returns the worker to register with River.
func NewChunkWorker(store *Store) *ChunkWorker { return &ChunkWorker{store: store} }

// Work embeds whatever history of the contact is not embedded yet.
func (w *ChunkWorker) Work(ctx context.Context, job *river.Job[ChunkArgs]) error {
	n, err := w.store.ChunkContact(ctx, job.Args.AccountID, job.Args.ContactID)
	if err != nil {
		return err
	}
	w.store.log.DebugContext(ctx, "history embedded", "contact_id", job.Args.ContactID, "chunks", n)
	return nil
}

// ChunkContact groups the contact's not-yet-embedded messages and notes into
// windows of ChunkWindow, embeds them and stores the chunks. The last, partial
// window is re-cut when more history arrives, so windows stay full. It returns
// the number of chunks written.
func (s *Store) ChunkContact(ctx context.Context, accountID, contactID uuid.UUID) (int, error) {
	model := s.embedder.Model()
	// Before the transaction: creating an index waits for writers of the table,
	// and this transaction is about to be one.
	if err := s.PrepareVectorIndexes(ctx); err != nil {
		return 0, err
	}
	written := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// One chunker per contact at a time; others wait and then find nothing to do.
		if err := lockChunking(ctx, tx, contactID); err != nil {
			return err
		}
		var tailID int64
		err := tx.QueryRow(ctx, `SELECT id FROM memory_chunks WHERE account_id = $1 AND contact_id = $2 AND embedding_model = $3
			AND event_count < $4 ORDER BY last_event_id DESC LIMIT 1`, accountID, contactID, model, ChunkWindow).Scan(&tailID)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("find partial chunk of %s: %w", contactID, err)
		}
		if tailID != 0 {
			if _, err := tx.Exec(ctx, `UPDATE events SET chunk_id = NULL WHERE account_id = $1 AND contact_id = $2 AND chunk_id = $3`,
				accountID, contactID, tailID); err != nil {
				return fmt.Errorf("reopen partial chunk %d: %w", tailID, err)
			}
			if _, err := tx.Exec(ctx, `DELETE FROM memory_chunks WHERE account_id = $1 AND id = $2`, accountID, tailID); err != nil {
				return fmt.Errorf("drop partial chunk %d: %w", tailID, err)
			}
		}
		rows, err := tx.Query(ctx, `SELECT `+eventColumns+` FROM events
			WHERE account_id = $1 AND contact_id = $2 AND chunk_id IS NULL AND kind IN ('message', 'note')
			ORDER BY occurred_at, id`, accountID, contactID)
		if err != nil {
			return fmt.Errorf("read history to embed of %s: %w", contactID, err)
		}
		events, err := collectEvents(rows)
		if err != nil {
			return fmt.Errorf("read history to embed of %s: %w", contactID, err)
		}
		var windows [][]Event
		for start := 0; start < len(events); start += ChunkWindow {
			windows = append(windows, events[start:min(start+ChunkWindow, len(events))])
		}
		const batch = 64
		for start := 0; start < len(windows); start += batch {
			group := windows[start:min(start+batch, len(windows))]
			texts := make([]string, len(group))
			for i, w := range group {
				texts[i] = ChunkText(w)
			}
			vecs, err := s.embedder.EmbedDocuments(ctx, texts)
			if err != nil {
				return fmt.Errorf("embed history of %s: %w", contactID, err)
			}
			if len(vecs) != len(texts) {
				return fmt.Errorf("embedder %s returned %d vectors for %d texts", model, len(vecs), len(texts))
			}
			for i, w := range group {
				var chunkID int64
				first, last := w[0], w[len(w)-1]
				if err := tx.QueryRow(ctx, `INSERT INTO memory_chunks (account_id, contact_id, first_event_id, last_event_id, event_count,
					first_at, last_at, text, embedding, embedding_model) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
					accountID, contactID, first.ID, last.ID, len(w), first.OccurredAt, last.OccurredAt, texts[i],
					pgvector.NewVector(vecs[i]), model).Scan(&chunkID); err != nil {
					return fmt.Errorf("store chunk of %s: %w", contactID, err)
				}
				ids := make([]int64, len(w))
				for j, e := range w {
					ids[j] = e.ID
				}
				if _, err := tx.Exec(ctx, `UPDATE events SET chunk_id = $3 WHERE account_id = $1 AND id = ANY($2)`, accountID, ids, chunkID); err != nil {
					return fmt.Errorf("mark events of chunk %d: %w", chunkID, err)
				}
				written++
			}
		}
		return nil
	})
	return written, err
}

// lockChunking takes, until tx ends, the contact's chunking lock: the
// chunker holds it from reading the history to storing its chunks, and a
// change to an event's words waits for it (see SetMediaWordsTx).
func lockChunking(ctx context.Context, tx pgx.Tx, contactID uuid.UUID) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 7))`, contactID.String()); err != nil {
		return fmt.Errorf("lock chunking of %s: %w", contactID, err)
	}
	return nil
}

// ChunkText renders a window of events as the text that is embedded, searched
// and shown to agents: one line per event with date, channel and who spoke.
func ChunkText(events []Event) string {
	var b strings.Builder
	for i, e := range events {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(EventLine(e))
	}
	return b.String()
}

// EventLine renders one event for an agent's context: "[2026-03-01 14:02 whatsapp] cliente: texto".
func EventLine(e Event) string {
	who := map[Author]string{AuthorContact: "cliente", AuthorAI: "IA", AuthorHuman: "atendente", AuthorSystem: "sistema", AuthorAPI: "integração"}[e.Author]
	if e.Kind == EventNote {
		who += " (nota interna)"
	} else if e.Kind != EventMessage {
		who += " (" + string(e.Kind) + ")"
	}
	channel := e.Channel
	if channel == "" {
		channel = "-"
	}
	text := e.Text
	for _, m := range e.Media {
		about := m.Caption
		// what the voice note says or the photo shows is history too
		switch w := m.Words(); {
		case w != "" && about != "":
			about += " — " + w
		case w != "":
			about = w
		}
		text = strings.TrimSpace(text + " [" + m.Type + ": " + about + "]")
	}
	return fmt.Sprintf("[%s %s] %s: %s", e.OccurredAt.UTC().Format(time.DateOnly+" 15:04"), channel, who, text)
}
