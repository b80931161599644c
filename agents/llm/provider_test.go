package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// messagesServer speaks Anthropic's Messages API from a script of content
// arrays, recording each request body.
type messagesServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
}

func newMessagesServer(t *testing.T, script ...string) *messagesServer {
	s := &messagesServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/messages" || r.Header.Get("x-api-key") != "sk-ant-test" || r.Header.Get("anthropic-version") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`)
			return
		}
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		s.mu.Lock()
		s.bodies = append(s.bodies, body)
		n := len(s.bodies)
		s.mu.Unlock()
		content := `[{"type":"text","text":"Posso ajudar em algo mais?"}]`
		if n <= len(script) {
			content = script[n-1]
		}
		stop := "end_turn"
		if strings.Contains(content, "tool_use") {
			stop = "tool_use"
		}
		fmt.Fprintf(w, `{"id":"msg_%d","type":"message","role":"assistant","model":"claude-test","content":%s,"stop_reason":%q,"usage":{"input_tokens":100,"output_tokens":20}}`, n, content, stop)
	}))
	t.Cleanup(s.Close)
	return s
}

// Anthropic returns text and tool_use as separate blocks; the loop must run
// the tool (not stop at the text), send its result back, and count tokens.
func TestAnthropicToolLoop(t *testing.T) {
	srv := newMessagesServer(t,
		`[{"type":"text","text":"Vou salvar seu CPF."},{"type":"tool_use","id":"toolu_1","name":"update_contact_fields","input":{"cpf":"39178164583"}}]`,
		`[{"type":"text","text":"Pronto, CPF salvo! A 2ª via vai para o seu e-mail."}]`)
	m, err := NewModel(Config{Provider: "anthropic", Model: "claude-test", BaseURL: srv.URL + "/v1", APIKey: "sk-ant-test"})
	if err != nil {
		t.Fatal(err)
	}
	var saved []map[string]any
	e := NewEngine(m, 4, 10*time.Second, WithModelName("claude-test"), WithPrices(Prices{"claude-test": {Input: 1, Output: 5}}))
	res, err := e.Run(context.Background(), Request{System: "Você é o financeiro.", Customer: "meu cpf é 391.781.645-83",
		Tools: []Tool{fieldsTool(&saved)}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reply != "Pronto, CPF salvo! A 2ª via vai para o seu e-mail." || len(saved) != 1 || saved[0]["cpf"] != "39178164583" {
		t.Fatalf("reply %q, saved %v", res.Reply, saved)
	}
	if res.PromptTokens != 200 || res.CompletionTokens != 40 || res.Steps != 2 {
		t.Fatalf("usage: %+v", res)
	}
	if want := (200*1.0 + 40*5.0) / 1e6; res.CostUSD != want || res.Model != "claude-test" {
		t.Fatalf("cost %v (want %v), model %q", res.CostUSD, want, res.Model)
	}
	first, second := srv.bodies[0], srv.bodies[1]
	if first["system"] != "Você é o financeiro." {
		t.Fatalf("the system prompt goes in Anthropic's system field: %v", first["system"])
	}
	raw, _ := json.Marshal(second["messages"])
	if !strings.Contains(string(raw), `"tool_result"`) || !strings.Contains(string(raw), `"toolu_1"`) {
		t.Fatalf("the tool's result must go back with its id: %s", raw)
	}
}

// Google is reached through Gemini's OpenAI-compatible endpoint.
func TestGoogleThroughItsOpenAICompatibleEndpoint(t *testing.T) {
	var path, auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, auth = r.URL.Path, r.Header.Get("Authorization")
		fmt.Fprint(w, `{"id":"g1","object":"chat.completion","created":1,"model":"gemini-test","choices":[{"index":0,"message":{"role":"assistant","content":"Olá!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}`)
	}))
	defer srv.Close()
	m, err := NewModel(Config{Provider: "google", Model: "gemini-test", BaseURL: srv.URL + "/v1beta/openai/", APIKey: "AIza-test"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := NewEngine(m, 2, 5*time.Second).Run(context.Background(), Request{System: "s", Customer: "oi"})
	if err != nil || res.Reply != "Olá!" || res.PromptTokens != 7 {
		t.Fatalf("%+v %v", res, err)
	}
	if path != "/v1beta/openai/chat/completions" || auth != "Bearer AIza-test" {
		t.Fatalf("request to %s with %q", path, auth)
	}
}

func TestProviderConfiguration(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		fail string
	}{
		{Config{Provider: "anthropic"}, "ANTHROPIC_API_KEY"},
		{Config{Provider: "google"}, "GEMINI_API_KEY"},
		{Config{Provider: "openai"}, "OPENAI_API_KEY"},
		{Config{Provider: "watson"}, "unknown LLM provider"},
	} {
		if _, err := NewModel(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.fail) {
			t.Errorf("%+v: %v, want an error naming %s", tc.cfg, err, tc.fail)
		}
	}
	if _, err := NewModel(Config{}); err != ErrNotConfigured {
		t.Errorf("no provider: %v", err)
	}
}

func TestParsePrices(t *testing.T) {
	p, err := ParsePrices("gpt-4o-mini=0.15/0.60, claude-3-5-haiku-latest=0.8/4")
	if err != nil || p["gpt-4o-mini"].Output != 0.6 || p["claude-3-5-haiku-latest"].Input != 0.8 {
		t.Fatalf("%+v %v", p, err)
	}
	if got := p.Cost("gpt-4o-mini", 1_000_000, 1_000_000); got != 0.75 {
		t.Fatalf("cost %v", got)
	}
	for _, bad := range []string{"gpt", "gpt=1", "gpt=a/b", "gpt=-1/2"} {
		if _, err := ParsePrices(bad); err == nil {
			t.Errorf("%q must be refused", bad)
		}
	}
}
