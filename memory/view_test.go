package memory

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/atende/atende/conversations"

	"github.com/google/uuid"
)

// fillerTurns are ordinary customer-service lines; some share words with the
// needle ("pedido", "chegou") so that finding it takes more than one keyword.
var fillerTurns = []string{
	"bom dia, qual o horário de funcionamento da loja?",
	"vocês entregam no sábado?",
	"qual o prazo de entrega do pedido para Campinas?",
	"consigo pagar no pix com desconto?",
	"a nota fiscal chegou no meu email, obrigado",
	"quero mudar o endereço de entrega",
	"tem esse modelo na cor azul?",
	"o boleto vence amanhã, pode mandar a segunda via?",
	"como faço para trocar a senha do app?",
	"vocês têm loja física em Curitiba?",
	"o pedido ainda não saiu para entrega",
	"obrigada pelo atendimento!",
	"qual o valor do frete para 04567-000?",
	"posso parcelar em 10 vezes sem juros?",
	"recebi um código de rastreio mas não funciona",
}

var aiTurns = []string{
	"Claro! Posso te ajudar com isso.",
	"Nosso horário é de segunda a sábado, das 9h às 18h.",
	"Vou verificar e já te retorno.",
	"O prazo é de 3 a 5 dias úteis.",
	"Enviei a segunda via para o seu e-mail.",
}

const needle = "meu pedido é o 48213 e chegou quebrado"

// seedHistory imports n messages, message 37 (1-based) being the needle when
// n >= 37, and embeds them.
func seedHistory(t testing.TB, s *Store, acct uuid.UUID, n int) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	res, err := s.Resolve(ctx, acct, KindWhatsApp, fmt.Sprintf("55119%08d", rand.IntN(1e8)), Profile{Name: "Cliente"})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(37, uint64(n)))
	t0 := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	events := make([]Event, n)
	for i := range events {
		e := Event{Kind: EventMessage, Channel: []string{"whatsapp", "instagram", "email"}[i/50%3],
			OccurredAt: t0.Add(time.Duration(i) * 37 * time.Minute)}
		if i%2 == 0 {
			e.Direction, e.Author, e.Text = DirectionIn, AuthorContact, fillerTurns[rng.IntN(len(fillerTurns))]
		} else {
			e.Direction, e.Author, e.Text = DirectionOut, AuthorAI, aiTurns[rng.IntN(len(aiTurns))]
		}
		if i == 36 {
			e.Direction, e.Author, e.Text = DirectionIn, AuthorContact, needle
		}
		events[i] = e
	}
	if _, err := s.Import(ctx, acct, res.Contact.ID, events); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChunkContact(ctx, acct, res.Contact.ID); err != nil {
		t.Fatal(err)
	}
	return res.Contact.ID
}

func newViewer(t testing.TB, s *Store) *Viewer {
	tokens, err := NewTokenCounter()
	if err != nil {
		t.Fatal(err)
	}
	return NewViewer(s, nil, tokens, nil)
}

func TestNeedleInAThousandMessagesIsAmongTheTopFiveSnippets(t *testing.T) {
	s, acct := newTestStore(t)
	contact := seedHistory(t, s, acct, 1000)
	view, err := newViewer(t, s).View(context.Background(), acct, contact, ViewRequest{Query: "e o pedido que chegou quebrado?", Budget: 2000})
	if err != nil {
		t.Fatal(err)
	}
	found := -1
	for i, sn := range view.Snippets {
		if strings.Contains(sn.Text, "48213") {
			found = i
		}
	}
	if found < 0 || found >= 5 {
		var texts []string
		for _, sn := range view.Snippets {
			texts = append(texts, sn.Text)
		}
		t.Fatalf("needle not in the top five snippets (at %d):\n%s", found, strings.Join(texts, "\n---\n"))
	}
	if !strings.Contains(view.Text, "48213") {
		t.Fatal("the rendered view an agent reads lacks the needle")
	}
	if view.Tokens > view.Budget {
		t.Fatalf("view of %d tokens over its budget of %d", view.Tokens, view.Budget)
	}
}

func TestViewStaysWithinBudgetAsHistoryGrows(t *testing.T) {
	s, acct := newTestStore(t)
	viewer := newViewer(t, s)
	tokens, _ := NewTokenCounter()
	for _, n := range []int{10, 100, 1000, 10000} {
		contact := seedHistory(t, s, acct, n)
		if _, err := s.UpdateFields(context.Background(), acct, contact, map[string]any{
			FieldNeed: "troca de produto com defeito", FieldStage: "customer", "observacao": strings.Repeat("muito texto ", 200),
		}, AuthorAI, nil); err != nil {
			t.Fatal(err)
		}
		for _, budget := range []int{MinViewBudget, 200, 1000, 4000} {
			view, err := viewer.View(context.Background(), acct, contact, ViewRequest{Query: "e o pedido que chegou quebrado?", Budget: budget})
			if err != nil {
				t.Fatalf("n=%d budget=%d: %v", n, budget, err)
			}
			if counted := tokens.Count(view.Text); counted > budget || counted != view.Tokens {
				t.Fatalf("n=%d budget=%d: %d tokens (reported %d)", n, budget, counted, view.Tokens)
			}
			if budget >= 1000 && (len(view.Recent) == 0 || n >= 100 && len(view.Snippets) == 0) {
				t.Fatalf("n=%d budget=%d: a roomy budget must hold recent events and snippets: %d/%d",
					n, budget, len(view.Recent), len(view.Snippets))
			}
		}
	}
	if _, err := viewer.View(context.Background(), acct, uuid.New(), ViewRequest{Budget: 10}); err == nil {
		t.Fatal("a budget below the minimum must be refused")
	}
}

func TestLongQueriesAndBacklogsAreBounded(t *testing.T) {
	s, acct := newTestStore(t)
	ctx := context.Background()
	contact := seedHistory(t, s, acct, 50)
	long := strings.Repeat("meu pedido chegou quebrado e quero a troca ", 2000) // ~88 KB, e.g. a pasted e-mail thread
	if _, err := s.SearchHistory(ctx, acct, contact, long, 5); err != nil {
		t.Fatalf("a long message must still search: %v", err)
	}
	var conv conversations.Conversation
	err := s.testTx(ctx, func(tx *txn) error {
		var err error
		conv, err = conversations.NewStore(s.pool).TouchTx(ctx, tx.tx, acct, contact, "whatsapp", time.Now())
		if err != nil {
			return err
		}
		for i := range MaxPendingInbound + 10 {
			if _, err := tx.Append(ctx, acct, Event{ContactID: contact, ConversationID: &conv.ID, Kind: EventMessage,
				Direction: DirectionIn, Author: AuthorContact, Channel: "whatsapp", Text: fmt.Sprintf("msg %d", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := s.PendingInbound(ctx, acct, conv.ID, 0)
	if err != nil || len(pending) != MaxPendingInbound || pending[len(pending)-1].Text != fmt.Sprintf("msg %d", MaxPendingInbound+9) {
		t.Fatalf("a backlog is read as its latest %d messages, oldest first: %d, %v", MaxPendingInbound, len(pending), err)
	}
}
