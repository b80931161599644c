package knowledge

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/atende/atende/internal/testdb"
	"github.com/atende/atende/memory"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

func newTestStore(t *testing.T) (*Store, uuid.UUID, *pgxpool.Pool) {
	t.Helper()
	pool, _ := testdb.New(t)
	embedder := memory.NewHashEmbedder(memory.DefaultHashDims)
	mem := memory.NewStore(pool, nil, embedder, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return NewStore(pool, embedder, mem), testdb.NewAccount(t, pool, "acme"), pool
}

func TestKnowledgeSearchIsScopedToSectorAndAccount(t *testing.T) {
	s, acct, pool := newTestStore(t)
	ctx := context.Background()
	articles := []Article{
		{Sector: "billing", Title: "Segunda via de boleto", Body: "A 2ª via do boleto é emitida com o CPF do titular e vale por 3 dias."},
		{Sector: "billing", Title: "Reembolso", Body: "Reembolsos no cartão aparecem em até duas faturas."},
		{Sector: "support", Title: "Produto com defeito", Body: "Produto que chegou quebrado é trocado sem custo em até 7 dias."},
	}
	for _, k := range articles {
		if _, err := s.Upsert(ctx, acct, k); err != nil {
			t.Fatal(err)
		}
	}
	hits, err := s.Search(ctx, acct, "billing", "como tiro a segunda via do boleto?", 3)
	if err != nil || len(hits) == 0 || hits[0].Title != "Segunda via de boleto" {
		t.Fatalf("billing search: %+v %v", hits, err)
	}
	for _, h := range hits {
		if h.Sector != "billing" {
			t.Fatalf("another sector's article leaked: %+v", h)
		}
	}
	hits, err = s.Search(ctx, acct, "support", "chegou quebrada a encomenda", 3)
	if err != nil || len(hits) != 1 || hits[0].Title != "Produto com defeito" {
		t.Fatalf("support search: %+v %v", hits, err)
	}
	// Upserting by title replaces the body.
	if _, err := s.Upsert(ctx, acct, Article{Sector: "support", Title: "Produto com defeito", Body: "Troca em até 30 dias."}); err != nil {
		t.Fatal(err)
	}
	hits, _ = s.Search(ctx, acct, "support", "troca", 3)
	if len(hits) != 1 || hits[0].Body != "Troca em até 30 dias." {
		t.Fatalf("after upsert: %+v", hits)
	}
	other := testdb.NewAccount(t, pool, "globex")
	if hits, _ := s.Search(ctx, other, "billing", "boleto", 3); len(hits) != 0 {
		t.Fatalf("another account sees the knowledge: %+v", hits)
	}
	if _, err := s.Upsert(ctx, acct, Article{Sector: "sales"}); err == nil {
		t.Fatal("an empty article was accepted")
	}
}

func TestALongQueryStillSearches(t *testing.T) {
	s, acct, _ := newTestStore(t)
	long := strings.Repeat("meu pedido chegou quebrado e quero a troca ", 2000) // ~88 KB, e.g. a pasted e-mail thread
	if _, err := s.Search(context.Background(), acct, "support", long, 3); err != nil {
		t.Fatalf("a long message must still search knowledge: %v", err)
	}
}
