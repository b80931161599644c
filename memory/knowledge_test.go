package memory

import (
	"context"
	"testing"
)

func TestKnowledgeSearchIsScopedToSectorAndAccount(t *testing.T) {
	s, acct := newTestStore(t)
	ctx := context.Background()
	articles := []Knowledge{
		{Sector: "billing", Title: "Segunda via de boleto", Body: "A 2ª via do boleto é emitida com o CPF do titular e vale por 3 dias."},
		{Sector: "billing", Title: "Reembolso", Body: "Reembolsos no cartão aparecem em até duas faturas."},
		{Sector: "support", Title: "Produto com defeito", Body: "Produto que chegou quebrado é trocado sem custo em até 7 dias."},
	}
	for _, k := range articles {
		if _, err := s.UpsertKnowledge(ctx, acct, k); err != nil {
			t.Fatal(err)
		}
	}
	hits, err := s.SearchKnowledge(ctx, acct, "billing", "como tiro a segunda via do boleto?", 3)
	if err != nil || len(hits) == 0 || hits[0].Title != "Segunda via de boleto" {
		t.Fatalf("billing search: %+v %v", hits, err)
	}
	for _, h := range hits {
		if h.Sector != "billing" {
			t.Fatalf("another sector's article leaked: %+v", h)
		}
	}
	hits, err = s.SearchKnowledge(ctx, acct, "support", "chegou quebrada a encomenda", 3)
	if err != nil || len(hits) != 1 || hits[0].Title != "Produto com defeito" {
		t.Fatalf("support search: %+v %v", hits, err)
	}
	// Upserting by title replaces the body.
	if _, err := s.UpsertKnowledge(ctx, acct, Knowledge{Sector: "support", Title: "Produto com defeito", Body: "Troca em até 30 dias."}); err != nil {
		t.Fatal(err)
	}
	hits, _ = s.SearchKnowledge(ctx, acct, "support", "troca", 3)
	if len(hits) != 1 || hits[0].Body != "Troca em até 30 dias." {
		t.Fatalf("after upsert: %+v", hits)
	}
	other := newAccountIn(t, s, "globex")
	if hits, _ := s.SearchKnowledge(ctx, other, "billing", "boleto", 3); len(hits) != 0 {
		t.Fatalf("another account sees the knowledge: %+v", hits)
	}
	if _, err := s.UpsertKnowledge(ctx, acct, Knowledge{Sector: "sales"}); err == nil {
		t.Fatal("an empty article was accepted")
	}
}
