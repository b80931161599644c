package agents

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/atende/atende/agents/llm"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/fakes"
	"github.com/atende/atende/internal/sign"
	"github.com/atende/atende/memory"
)

// n8n is a local workflow endpoint that checks Atende's signature.
type n8n struct {
	*httptest.Server
	mu    sync.Mutex
	calls []ToolCall
	bad   int
}

func newN8N(t *testing.T, secret string) *n8n {
	s := &n8n{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.Header.Get("X-Atende-Signature") != sign.Signature(secret, r.Header.Get("X-Atende-Timestamp"), body) {
			s.bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var call ToolCall
		_ = json.Unmarshal(body, &call)
		s.calls = append(s.calls, call)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"confirmado":true,"data":"2026-11-27","hora":"09:30","dentista":"Dra. Paula"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// An HTTP tool of the business file, allowed to one sector, called by the LLM
// with a signed request; the sector's model is used and the turn's tokens and
// cost land on the AI event and in the metrics.
func TestLLMCallsTheBusinessHTTPToolWithTheSectorsModel(t *testing.T) {
	e := newEnv(t)
	workflow := newN8N(t, "n8n-secret")
	ai := fakes.NewOpenAI(t,
		fakes.ToolCall("c1", "agendar_consulta", `{"data":"2026-11-27"}`), // missing periodo: told, retries
		fakes.ToolCall("c2", "agendar_consulta", `{"data":"2026-11-27","periodo":"manha"}`),
		fakes.ToolCall("c3", "transfer_to_sector", `{"sector":"financeiro","reason":"x"}`), // not allowed here
		fakes.Reply("Prontinho! Sua consulta ficou para 27/11 às 9h30 com a Dra. Paula."))
	model, err := llm.NewModel(llm.Config{Provider: "openai", Model: "gpt-default", BaseURL: ai.URL + "/v1", APIKey: "sk"})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	e.orch.llm = llm.NewEngine(model, 6, 10*time.Second, llm.WithModelName("gpt-default"),
		llm.WithPrices(llm.Prices{"gpt-agenda": {Input: 2, Output: 8}}))
	tokens, err := memory.NewTokenCounter()
	if err != nil {
		t.Fatal(err)
	}
	e.orch.viewer = memory.NewViewer(e.mem, e.orch.knowledge, tokens, nil)
	e.orch.metrics = NewMetrics(reg)
	tool := HTTPTool{Name: "agendar_consulta", Description: "Agenda uma consulta.", URL: workflow.URL + "/webhook/agendar", Secret: "n8n-secret",
		Parameters: map[string]any{"type": "object", "required": []any{"data", "periodo"},
			"properties": map[string]any{"data": map[string]any{"type": "string"}, "periodo": map[string]any{"type": "string"}}}}
	if err := e.orch.sectors.Put(context.Background(), e.acct, []Sector{
		{Name: "agendamento", Title: "Agendamento", Model: "gpt-agenda", MaxTokens: 300, Tools: []string{"agendar_consulta", "search_knowledge"},
			Examples: []string{"quero marcar uma consulta", "tem horário amanhã?", "preciso agendar uma limpeza", "quero agendar avaliação"}},
		{Name: "financeiro", Title: "Financeiro", Like: "billing"},
	}, []HTTPTool{tool}); err != nil {
		t.Fatal(err)
	}
	contact, replies := e.say(t, "quero agendar uma limpeza na quinta de manhã")
	if len(replies) != 1 || replies[0] != "Prontinho! Sua consulta ficou para 27/11 às 9h30 com a Dra. Paula." {
		t.Fatalf("reply: %q", replies)
	}
	if len(workflow.calls) != 1 || workflow.bad != 0 || workflow.calls[0].Arguments["periodo"] != "manha" || workflow.calls[0].Sector != "agendamento" ||
		workflow.calls[0].ContactID != contact {
		t.Fatalf("the workflow got %+v (bad signatures %d)", workflow.calls, workflow.bad)
	}
	reqs := ai.Requests()
	if reqs[0].Model != "gpt-agenda" || max(reqs[0].MaxTokens, reqs[0].MaxCompletionTokens) != 300 {
		t.Fatalf("the sector's model and budget: %+v", reqs[0])
	}
	if strings.Join(reqs[0].Tools, ",") != "search_knowledge,handoff_to_human,agendar_consulta" {
		t.Fatalf("only the sector's tools are offered: %v", reqs[0].Tools)
	}
	d := e.decisions(t, contact)
	if len(d) != 1 || d[0].Engine != "llm" || d[0].Model != "gpt-agenda" || d[0].PromptTokens != 200 || d[0].CompletionTokens != 40 {
		t.Fatalf("decision: %+v", d)
	}
	if want := (200*2.0 + 40*8.0) / 1e6; d[0].CostUSD != want {
		t.Fatalf("cost %v, want %v", d[0].CostUSD, want)
	}
	if d[0].Sector != "agendamento" || d[0].TransferFrom != "" {
		t.Fatalf("a tool outside the allow-list changed the sector: %+v", d[0])
	}
	page, _ := e.mem.Timeline(context.Background(), e.acct, contact, nil, 100)
	var actions []string
	for _, ev := range page.Events {
		if ev.Kind == memory.EventAction && strings.HasPrefix(ev.Text, "ferramenta: ") {
			var a llm.Action
			_ = json.Unmarshal(ev.Payload, &a)
			actions = append(actions, a.Tool+":"+map[bool]string{true: "error", false: "ok"}[a.Error != ""])
			if !strings.HasPrefix(ev.PromptVersion, "sectors.agendamento@") {
				t.Errorf("action without the sector's prompt version: %q", ev.PromptVersion)
			}
		}
	}
	if strings.Join(actions, ",") != "agendar_consulta:error,agendar_consulta:ok,transfer_to_sector:error" {
		t.Fatalf("every call is an action event: %v", actions)
	}
	if got := testutil.ToFloat64(e.orch.metrics.tokens.WithLabelValues("gpt-agenda", "agendamento", "prompt")); got != 200 {
		t.Fatalf("tokens metric %v", got)
	}
	if got := testutil.ToFloat64(e.orch.metrics.turns.WithLabelValues("llm", "reply")); got != 1 {
		t.Fatalf("turns metric %v", got)
	}
}

func TestCheckArguments(t *testing.T) {
	schema := map[string]any{"type": "object", "required": []any{"data"}, "additionalProperties": false,
		"properties": map[string]any{"data": map[string]any{"type": "string"}, "n": map[string]any{"type": "integer"}}}
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"data": "x"}, ""},
		{map[string]any{}, "missing data"},
		{map[string]any{"data": 3.0}, "data must be string"},
		{map[string]any{"data": "x", "n": 1.5}, "n must be integer"},
		{map[string]any{"data": "x", "extra": true}, "unknown extra"},
	} {
		err := checkArguments(schema, tc.args)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// With the LLM, the handoff card's summary comes from the handoff-summary
// prompt; the LLM's next action goes on the card as it wrote it.
func TestLLMHandoffWritesTheCardSummary(t *testing.T) {
	e := newEnv(t)
	ai := fakes.NewOpenAI(t,
		fakes.ToolCall("c1", "handoff_to_human", `{"reason":"cliente quer negociar desconto","next_action":"Ligar e oferecer 10% no plano anual"}`),
		fakes.Reply("Vou chamar alguém da equipe."),
		fakes.Reply("Marcos quer o plano anual com desconto; já informou o e-mail; prioridade normal."))
	model, err := llm.NewModel(llm.Config{Provider: "openai", Model: "m", BaseURL: ai.URL + "/v1", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	tokens, _ := memory.NewTokenCounter()
	e.orch.llm, e.orch.viewer = llm.NewEngine(model, 4, 5*time.Second), memory.NewViewer(e.mem, e.orch.knowledge, tokens, nil)
	svc := handoff.NewService(e.pool, e.mem, e.orch.channels, e.orch.outbox, e.inserter, nil, e.orch.log)
	e.orch.handoffs = svc
	contact, replies := e.say(t, "quanto fica o plano anual? queria negociar um desconto")
	if len(replies) != 1 || !strings.Contains(replies[0], "uma pessoa da nossa equipe") {
		t.Fatalf("handoff notice: %q", replies)
	}
	list, err := svc.List(context.Background(), e.acct, handoff.Filter{ContactID: &contact})
	if err != nil || len(list) != 1 {
		t.Fatalf("card: %+v %v", list, err)
	}
	card := list[0]
	if card.Summary != "Marcos quer o plano anual com desconto; já informou o e-mail; prioridade normal." || card.NextAction != "Ligar e oferecer 10% no plano anual" || card.Source != "llm" {
		t.Fatalf("card from the LLM: %+v", card)
	}
	reqs := ai.Requests()
	if len(reqs) != 3 || !strings.Contains(reqs[2].System, "cartão de transferência") {
		t.Fatalf("the third call uses the handoff-summary prompt: %d calls", len(reqs))
	}
}
