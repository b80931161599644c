package agents

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/atende/atende/agents/llm"
	"github.com/atende/atende/internal/fakes"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/prompts"
)

// A replay shows, turn by turn, what another policy or prompt changes, and
// writes nothing.
func TestReplayShowsWhatChangesAndWritesNothing(t *testing.T) {
	e := newEnv(t)
	contact, _ := e.say(t, "minha fatura veio com valor errado")
	e.say(t, "cpf 391.781.645-83")
	e.say(t, "obrigado!")
	ctx := context.Background()
	before, _ := e.mem.Timeline(ctx, e.acct, contact, nil, 500)

	// Same setup: nothing changes.
	turns, err := e.orch.Replay(ctx, e.acct, contact, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(turns) != 3 {
		t.Fatalf("three turns, got %d", len(turns))
	}
	for _, tr := range turns {
		if len(tr.Changed) != 0 {
			t.Fatalf("replaying with the same setup changed %v: %+v", tr.Changed, tr)
		}
	}
	if !strings.Contains(turns[0].Reply, "CPF") || turns[1].Customer != "cpf 391.781.645-83" {
		t.Fatalf("turns: %+v", turns)
	}

	// The billing desk now always hands off: the first turn changes.
	e.setSectors(t, Sector{Name: "sales", Title: "Vendas"}, Sector{Name: "support", Title: "Suporte"},
		Sector{Name: "billing", Title: "Financeiro", Handoff: HandoffPolicy{Always: true}})
	turns, err = e.orch.Replay(ctx, e.acct, contact, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(turns[0].Changed, ",") != "handoff,reply" || turns[0].After.Handoff != string(ReasonPolicy) {
		t.Fatalf("first turn: %+v", turns[0])
	}

	// With the LLM and another prompt version: the model reads that version,
	// its field update is not written.
	e.setSectors(t)
	ai := fakes.NewOpenAI(t, fakes.ToolCall("c1", "update_contact_fields", `{"email":"novo@exemplo.com"}`), fakes.Reply("Resposta da versão nova."))
	model, err := llm.NewModel(llm.Config{Provider: "openai", Model: "m", BaseURL: ai.URL + "/v1", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	tokens, _ := memory.NewTokenCounter()
	e.orch.llm, e.orch.viewer = llm.NewEngine(model, 4, 5*time.Second), memory.NewViewer(e.mem, e.orch.knowledge, tokens, nil)
	v, _, err := e.orch.prompts.Create(ctx, e.acct, "sectors.billing", "Você é o financeiro, versão B.", "", "bia", false)
	if err != nil {
		t.Fatal(err)
	}
	turns, err = e.orch.Replay(ctx, e.acct, contact, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = turns
	reqs := ai.Requests()
	if len(reqs) == 0 || strings.Contains(reqs[0].System, "versão B") {
		t.Fatalf("without the override the active prompt is used: %+v", reqs)
	}
	n := len(reqs)
	turns, err = e.orch.Replay(ctx, e.acct, contact, []prompts.Prompt{v})
	if err != nil {
		t.Fatal(err)
	}
	if reqs = ai.Requests(); len(reqs) <= n || !strings.HasPrefix(reqs[n].System, "Você é o financeiro, versão B.") {
		t.Fatalf("the replay must use the given version: %+v", reqs[n:])
	}
	if turns[0].After.Prompts[0] != v.Version {
		t.Fatalf("prompts used: %v", turns[0].After.Prompts)
	}
	after, _ := e.mem.Timeline(ctx, e.acct, contact, nil, 500)
	if len(after.Events) != len(before.Events) {
		t.Fatalf("a replay wrote %d events", len(after.Events)-len(before.Events))
	}
	c, _ := e.mem.Contact(ctx, e.acct, contact)
	for _, id := range c.Identities {
		if id.Value == "novo@exemplo.com" {
			t.Fatal("a replayed tool call was written")
		}
	}
}
