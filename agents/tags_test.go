package agents

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atende/atende/agents/llm"
	"github.com/atende/atende/internal/fakes"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/tags"
)

// withLLM answers the env's turns with the fake model's script.
func (e *env) withLLM(t *testing.T, script ...string) *fakes.OpenAI {
	t.Helper()
	ai := fakes.NewOpenAI(t, script...)
	model, err := llm.NewModel(llm.Config{Provider: "openai", Model: "m", BaseURL: ai.URL + "/v1", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := memory.NewTokenCounter()
	if err != nil {
		t.Fatal(err)
	}
	e.orch.llm, e.orch.viewer = llm.NewEngine(model, 6, 5*time.Second), memory.NewViewer(e.mem, e.orch.knowledge, tokens, nil)
	return ai
}

// The LLM tags the contact through tag_contact: recorded as the AI's, once
// however often it asks; a bad tag is an error the model reads; a sector
// whose tools leave it out is not offered it.
func TestLLMTagsTheContact(t *testing.T) {
	e := newEnv(t)
	e.orch.tags = tags.NewStore(e.pool, e.mem, nil)
	ai := e.withLLM(t,
		fakes.ToolCall("c1", ToolTagContact, `{"tag":"Revenda"}`),
		fakes.ToolCall("c2", ToolTagContact, `{"tag":" revenda "}`),
		fakes.ToolCall("c3", ToolTagContact, `{"tag":"a/b"}`),
		fakes.Reply("Anotado! Vou te passar a tabela de atacado."))
	contact, replies := e.say(t, "oi, tenho uma loja e quero comprar 200 jarras para revender")
	if len(replies) != 1 || !strings.Contains(replies[0], "atacado") {
		t.Fatalf("reply: %q", replies)
	}
	if tools := ai.Requests()[0].Tools; !slices.Contains(tools, ToolTagContact) {
		t.Fatalf("a default sector offers tag_contact: %v", tools)
	}
	ctx := context.Background()
	got, err := e.orch.tags.List(ctx, e.acct, tags.Contact(contact))
	if err != nil || len(got) != 1 || got[0].Name != "Revenda" || got[0].AddedBy != "ai" {
		t.Fatalf("the contact's tags: %+v %v", got, err)
	}
	page, _ := e.mem.Timeline(ctx, e.acct, contact, nil, 100)
	var tagEvents, results []string
	for _, ev := range page.Events {
		switch {
		case ev.Kind == memory.EventTag:
			tagEvents = append(tagEvents, string(ev.Author)+": "+ev.Text)
		case ev.Kind == memory.EventAction && strings.HasPrefix(ev.Text, "ferramenta: "):
			var a llm.Action
			_ = json.Unmarshal(ev.Payload, &a)
			results = append(results, a.Result+a.Error)
		}
	}
	if strings.Join(tagEvents, "|") != "ai: tag adicionada: Revenda (pelo assistente)" {
		t.Fatalf("one tag event, by the AI: %q", tagEvents)
	}
	if len(results) != 3 || results[0] != "tag Revenda adicionada" || results[1] != "o cliente já tinha a tag Revenda" || !strings.Contains(results[2], "cannot contain /") {
		t.Fatalf("what the model was told: %q", results)
	}

	// A sector that lists its tools without tag_contact is not offered it.
	e.setSectors(t, Sector{Name: "sales", Title: "Vendas", Tools: []string{ToolSearchKnowledge}}, Sector{Name: "support", Title: "Suporte"},
		Sector{Name: "billing", Title: "Financeiro"})
	ai = e.withLLM(t, fakes.Reply("Temos sim, a partir de 50 unidades."))
	e.say(t, "vocês vendem no atacado?")
	if tools := ai.Requests()[0].Tools; strings.Join(tools, ",") != "search_knowledge,handoff_to_human" {
		t.Fatalf("a sector without tag_contact in its tools was offered it: %v", tools)
	}
}
