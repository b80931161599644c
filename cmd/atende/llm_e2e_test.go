package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// openAIServer is a local OpenAI-compatible chat server answering from a
// script; fail makes every request a 500.
type openAIServer struct {
	*httptest.Server
	mu       sync.Mutex
	script   []string
	fail     bool
	requests int
	system   []string
}

func newOpenAIServer(t *testing.T, fail bool, script ...string) *openAIServer {
	s := &openAIServer{script: script, fail: fail}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct {
				Role    string `json:"role"`
				Content any    `json:"content"`
			} `json:"messages"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests++
		if len(req.Messages) > 0 {
			s.system = append(s.system, fmt.Sprint(req.Messages[0].Content))
		}
		if s.fail {
			http.Error(w, `{"error":{"message":"overloaded","type":"server_error"}}`, http.StatusInternalServerError)
			return
		}
		msg := `{"role":"assistant","content":"ok"}`
		if s.requests <= len(s.script) {
			msg = s.script[s.requests-1]
		}
		fmt.Fprintf(w, `{"id":"c%d","object":"chat.completion","created":1,"model":"gpt-test","choices":[{"index":0,"message":%s,"finish_reason":"stop"}],"usage":{"prompt_tokens":50,"completion_tokens":10,"total_tokens":60}}`, s.requests, msg)
	}))
	t.Cleanup(s.Close)
	return s
}

func useLLM(t *testing.T, s *openAIServer) {
	t.Setenv("ATENDE_LLM_PROVIDER", "openai")
	t.Setenv("ATENDE_LLM_BASE_URL", s.URL+"/v1")
	t.Setenv("ATENDE_LLM_API_KEY", "sk-test")
	t.Setenv("ATENDE_LLM_MODEL", "gpt-test")
	t.Setenv("ATENDE_LLM_TIMEOUT", "5s")
}

// With an LLM configured, the answer comes from its tool loop: it searched the
// sector's knowledge and saved the customer's e-mail, and the reply reaches
// WhatsApp in WhatsApp's format.
func TestLLMAnswersThroughItsTools(t *testing.T) {
	llm := newOpenAIServer(t, false,
		`{"role":"assistant","content":"","tool_calls":[{"id":"t1","type":"function","function":{"name":"search_knowledge","arguments":"{\"query\":\"formas de pagamento\"}"}}]}`,
		`{"role":"assistant","content":"","tool_calls":[{"id":"t2","type":"function","function":{"name":"update_contact_fields","arguments":"{\"email\":\"Joana.Prado@Exemplo.com\"}"}}]}`,
		`{"role":"assistant","content":"Aceitamos **pix** com 5% de desconto, cartão em 10x e boleto. Anotei seu e-mail!"}`)
	useLLM(t, llm)
	srv := startServer(t, "atd_e2e_llm_key_0123456789", 1)
	graph := newGraphServer(t)
	send, waitSent := whatsappChannel(t, srv, graph)
	send("wamid.llm1", "quais as formas de pagamento? meu email é Joana.Prado@Exemplo.com")
	got := waitSent(1)
	if got[0] != "Aceitamos *pix* com 5% de desconto, cartão em 10x e boleto. Anotei seu e-mail!" {
		t.Fatalf("the LLM's reply, in WhatsApp's format: %q", got[0])
	}
	var found struct {
		Contacts []struct {
			ID     string
			Fields map[string]any
		}
	}
	srv.call("GET", "/api/v1/contacts?identity=email:joana.prado@exemplo.com", nil, &found)
	if len(found.Contacts) != 1 {
		t.Fatal("the e-mail the LLM saved must be an identity of the contact")
	}
	var page struct {
		Events []struct {
			Kind, Author, Text string
			PromptVersion      string `json:"prompt_version"`
		}
	}
	srv.call("GET", "/api/v1/contacts/"+found.Contacts[0].ID+"/timeline?limit=200", nil, &page)
	var tools []string
	for _, e := range page.Events {
		if e.Kind == "action" && strings.HasPrefix(e.Text, "ferramenta: ") {
			tools = append(tools, strings.TrimPrefix(e.Text, "ferramenta: "))
			if !strings.HasPrefix(e.PromptVersion, "sectors.sales@") {
				t.Errorf("tool action without the prompt version: %+v", e)
			}
		}
	}
	if strings.Join(tools, ",") != "search_knowledge,update_contact_fields" {
		t.Fatalf("every tool call is an action event: %v", tools)
	}
	if sys := llm.system[0]; !strings.Contains(sys, "agente de vendas") || !strings.Contains(sys, "Estilo do canal — WhatsApp") || strings.Contains(sys, "meu email é") || strings.Contains(sys, "Joana") {
		t.Fatalf("the system message holds only Atende's instructions, never anything the customer wrote: %q", sys)
	}
}

// When the LLM fails, the offline engine still answers: never silence.
func TestLLMFailureFallsBackToTheOfflineEngine(t *testing.T) {
	llm := newOpenAIServer(t, true)
	useLLM(t, llm)
	srv := startServer(t, "atd_e2e_fallback_key_0123456789", 1)
	graph := newGraphServer(t)
	send, waitSent := whatsappChannel(t, srv, graph)
	send("wamid.fb1", "quais as formas de pagamento? aceita pix?")
	got := waitSent(1)
	if !strings.Contains(got[0], "Aceitamos pix (5% de desconto)") {
		t.Fatalf("the offline engine must answer when the LLM fails: %q", got[0])
	}
	if llm.requests == 0 {
		t.Fatal("the LLM was never asked")
	}
}
