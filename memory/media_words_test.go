package memory

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// gatedEmbedder holds its first EmbedDocuments until released: a chunker
// caught between reading the history and storing its chunk.
type gatedEmbedder struct {
	Embedder
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *gatedEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.entered)
		<-g.release
	}
	return g.Embedder.EmbedDocuments(ctx, texts)
}

// A voice note's transcript written while the history is being embedded
// (the chunker read the window without it and is waiting on the embedder)
// still reaches the history: the window is cut again with the words, not
// stored without them for good.
func TestMediaWordsWrittenWhileTheHistoryIsEmbeddedReachTheHistory(t *testing.T) {
	s, acct := newTestStore(t)
	ctx := context.Background()
	gate := &gatedEmbedder{Embedder: s.embedder, entered: make(chan struct{}), release: make(chan struct{})}
	s.embedder = gate
	c := mustResolve(t, s, acct, KindWhatsApp, "5511987654321", "Maria")
	var voice int64
	for i := range ChunkWindow { // one full window: it is never re-cut on its own
		e := inbound(c.ID, "whatsapp", "mensagem "+string(rune('a'+i)), "wamid."+string(rune('a'+i)), fixedTime.Add(time.Duration(i)*time.Minute))
		if i == 2 {
			e.Text, e.Media = "", []Media{{Type: "voice", MIME: "audio/ogg", PlatformID: "V1"}}
		}
		res := mustAppend(t, s, acct, e)
		if i == 2 {
			voice = res.Event.ID
		}
	}
	chunked := make(chan error, 1)
	go func() { _, err := s.ChunkContact(ctx, acct, c.ID); chunked <- err }()
	select {
	case <-gate.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the chunker never embedded")
	}
	wrote := make(chan error, 1)
	go func() {
		wrote <- pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			_, err := s.SetMediaWordsTx(ctx, tx, acct, voice, 0, MediaWords{Transcript: "quero a segunda via do boleto"})
			return err
		})
	}()
	time.Sleep(300 * time.Millisecond) // the words' transaction runs while the chunker embeds
	close(gate.release)
	for _, ch := range []chan error{chunked, wrote} {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the chunker and the words' transaction did not finish")
		}
	}
	if _, err := s.ChunkContact(ctx, acct, c.ID); err != nil { // the chunking job SetMediaWordsTx enqueues
		t.Fatal(err)
	}
	var texts []string
	rows, err := s.pool.Query(ctx, `SELECT text FROM memory_chunks WHERE account_id = $1 AND contact_id = $2`, acct, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	texts, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(texts) != 1 || !strings.Contains(texts[0], "segunda via do boleto") {
		t.Fatalf("the history's chunks do not have the voice note's words: %q", texts)
	}
}
