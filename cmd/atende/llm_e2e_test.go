package main

import (
	"strings"
	"testing"

	"github.com/atende/atende/internal/fakes"
)

func useLLM(t *testing.T, s *fakes.OpenAI) {
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
	llm := fakes.NewOpenAI(t,
		fakes.ToolCall("t1", "search_knowledge", `{"query":"formas de pagamento"}`),
		fakes.ToolCall("t2", "update_contact_fields", `{"email":"Joana.Prado@Exemplo.com"}`),
		fakes.Reply("Aceitamos **pix** com 5% de desconto, cartão em 10x e boleto. Anotei seu e-mail!"))
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
	if sys := llm.Requests()[0].System; !strings.Contains(sys, "agente de vendas") || !strings.Contains(sys, "Estilo do canal — WhatsApp") || strings.Contains(sys, "meu email é") || strings.Contains(sys, "Joana") {
		t.Fatalf("the system message holds only Atende's instructions, never anything the customer wrote: %q", sys)
	}
}

// When the LLM fails, the offline engine still answers: never silence.
func TestLLMFailureFallsBackToTheOfflineEngine(t *testing.T) {
	llm := fakes.NewOpenAI(t)
	llm.Fail = true
	useLLM(t, llm)
	srv := startServer(t, "atd_e2e_fallback_key_0123456789", 1)
	graph := newGraphServer(t)
	send, waitSent := whatsappChannel(t, srv, graph)
	send("wamid.fb1", "quais as formas de pagamento? aceita pix?")
	got := waitSent(1)
	if !strings.Contains(got[0], "Aceitamos pix (5% de desconto)") {
		t.Fatalf("the offline engine must answer when the LLM fails: %q", got[0])
	}
	if len(llm.Requests()) == 0 {
		t.Fatal("the LLM was never asked")
	}
}
