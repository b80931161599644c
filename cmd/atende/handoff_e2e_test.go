package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atende/atende/internal/sign"
)

// hookReceiver is an n8n-like endpoint that verifies each delivery's signature.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	secret string
	events []string
	bad    int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var b struct{ Event string }
		_ = json.Unmarshal(raw, &b)
		h.mu.Lock()
		defer h.mu.Unlock()
		if r.Header.Get("X-Atende-Signature") != sign.Signature(h.secret, r.Header.Get("X-Atende-Timestamp"), raw) {
			h.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.events = append(h.events, b.Event)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookReceiver) got(event string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.events {
		if e == event {
			return true
		}
	}
	return false
}

func eventually(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type cardBody struct {
	ID, Status, Reason, Summary, Sector, Team, Priority, Timeline string
	NextAction                                                    string         `json:"next_action"`
	OwnerName                                                     string         `json:"owner_name"`
	SLADue                                                        time.Time      `json:"sla_due"`
	CreatedAt                                                     time.Time      `json:"created_at"`
	BreachedAt                                                    *time.Time     `json:"breached_at"`
	Fields                                                        map[string]any `json:"fields"`
	ContactID                                                     string         `json:"contact_id"`
}

// The whole human side through `atende serve`: a WhatsApp customer asks for a
// person -> a card with summary, fields, next action, owner and SLA; nobody
// answers -> the SLA job breaches it at the due time, escalates to the
// supervisor and the webhook is delivered signed; the supervisor's reply
// reaches WhatsApp; the bot stays silent; resolve -> CSAT asked, the score
// recorded.
func TestHandoffCardSLAReplyResolveAndCSAT(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atende.yaml")
	if err := os.WriteFile(cfg, []byte(`accounts:
  - slug: demo
    name: Loja Demo
    attendants:
      - {email: ana@loja.demo, name: Ana, password: senha-da-ana-1, role: agent}
      - {email: sup@loja.demo, name: Sueli, password: senha-da-sueli-1, role: admin}
    teams:
      - name: suporte
        members: [ana@loja.demo]
        supervisor: sup@loja.demo
        escalation: raise_priority,supervisor
    sectors:
      - {name: sales, title: Vendas, team: vendas}
      - {name: support, title: Suporte, team: suporte, sla: 2s}
      - {name: billing, title: Financeiro, team: financeiro}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ATENDE_CONFIG", cfg)
	srv := startServer(t, "atd_handoff_e2e_key_0123456789", 1)
	hooks := newHookReceiver(t)
	var sub struct{ ID, Secret string }
	if code := srv.call("POST", "/api/v1/webhooks", map[string]any{"url": hooks.URL + "/n8n",
		"events": []string{"handoff.created", "handoff.assigned", "sla.breached", "handoff.resolved", "csat.received"}}, &sub); code != 201 || sub.Secret == "" {
		t.Fatalf("subscribe: %d %+v", code, sub)
	}
	hooks.mu.Lock()
	hooks.secret = sub.Secret
	hooks.mu.Unlock()

	graph := newGraphServer(t)
	send, waitSent := whatsappChannel(t, srv, graph)
	send("wamid.h1", "o liquidificador que comprei veio com a jarra trincada, pedido 55120")
	waitSent(1)
	send("wamid.h2", "quero falar com um atendente")
	got := waitSent(2)
	if !strings.Contains(got[1], "uma pessoa da nossa equipe de suporte") {
		t.Fatalf("handoff notice: %q", got[1])
	}

	var list struct{ Handoffs []cardBody }
	srv.call("GET", "/api/v1/handoffs?status=open", nil, &list)
	if len(list.Handoffs) != 1 {
		t.Fatalf("one open card, got %d", len(list.Handoffs))
	}
	card := list.Handoffs[0]
	if card.Reason != "asked_for_person" || card.Sector != "support" || card.Team != "suporte" || card.OwnerName != "Ana" || card.Status != "assigned" {
		t.Fatalf("card: %+v", card)
	}
	if !strings.Contains(card.Summary, "jarra trincada") || !strings.Contains(card.Summary, "quero falar com um atendente") ||
		!strings.Contains(card.NextAction, "Retornar o contato e oferecer troca, reenvio ou reembolso do item") {
		t.Fatalf("summary and next action: %q / %q", card.Summary, card.NextAction)
	}
	if card.Fields["phone"] != "+5521987650000" || card.Fields["order_number"] != "55120" || card.Fields["name"] != "Joana Prado" {
		t.Fatalf("fields: %v", card.Fields)
	}
	// The 2 s target runs from the customer's message, a moment before the card.
	if d := card.SLADue.Sub(card.CreatedAt); d <= 0 || d > 2*time.Second || !strings.HasSuffix(card.Timeline, "/timeline") {
		t.Fatalf("SLA due %v after creation; timeline %q", d, card.Timeline)
	}
	eventually(t, "handoff.created and handoff.assigned webhooks", 20*time.Second, func() bool {
		return hooks.got("handoff.created") && hooks.got("handoff.assigned")
	})

	// Nobody answers: the SLA job breaches at the due time and escalates.
	eventually(t, "the SLA breach", 30*time.Second, func() bool {
		srv.call("GET", "/api/v1/handoffs/"+card.ID, nil, &card)
		return card.BreachedAt != nil
	})
	if card.Priority != "high" || card.OwnerName != "Sueli" || card.BreachedAt.Before(card.SLADue) {
		t.Fatalf("escalation: %+v", card)
	}
	eventually(t, "the sla.breached webhook", 30*time.Second, func() bool { return hooks.got("sla.breached") })

	// The supervisor answers from the API (the inbox does the same): it reaches WhatsApp.
	if code := srv.call("POST", "/api/v1/handoffs/"+card.ID+"/reply", map[string]any{"attendant": "sup@loja.demo",
		"text": "Oi, Joana! Sou a Sueli. Vamos trocar a jarra: a coleta passa amanhã."}, nil); code != 200 {
		t.Fatalf("reply: %d", code)
	}
	got = waitSent(3)
	if got[2] != "Oi, Joana! Sou a Sueli. Vamos trocar a jarra: a coleta passa amanhã." {
		t.Fatalf("the human's reply at WhatsApp: %q", got[2])
	}
	// The customer writes again: the bot stays silent.
	send("wamid.h3", "ótimo, obrigada! que horas passa?")
	waitTurnsSettled(t, srv)
	if n := len(graph.sent()); n != 3 {
		t.Fatalf("the bot must stay silent while a person owns the conversation: %v", graph.sent())
	}

	// Resolve: CSAT is asked; the customer's score is recorded.
	if code := srv.call("POST", "/api/v1/handoffs/"+card.ID+"/resolve", map[string]any{"attendant": "sup@loja.demo"}, nil); code != 200 {
		t.Fatalf("resolve: %d", code)
	}
	got = waitSent(4)
	if !strings.Contains(got[3], "de 1 a 5") {
		t.Fatalf("CSAT question: %q", got[3])
	}
	send("wamid.h4", "nota 4, demorou mas resolveu")
	got = waitSent(5)
	if got[4] != "Obrigado pela avaliação e pelo comentário!" {
		t.Fatalf("thanks: %q", got[4])
	}
	var page struct {
		Events []struct{ Kind, Text, Author string }
	}
	srv.call("GET", "/api/v1/contacts/"+card.ContactID+"/timeline?limit=200", nil, &page)
	var kinds []string
	for _, e := range page.Events {
		kinds = append(kinds, e.Kind+"/"+e.Author)
		if e.Kind == "csat" && e.Text != "Avaliação: 4/5 — demorou mas resolveu" {
			t.Fatalf("csat event: %+v", e)
		}
	}
	if !strings.Contains(strings.Join(kinds, " "), "csat/contact") {
		t.Fatalf("no csat event: %v", kinds)
	}
	eventually(t, "the csat.received webhook", 20*time.Second, func() bool { return hooks.got("csat.received") && hooks.got("handoff.resolved") })
	if hooks.bad != 0 {
		t.Fatalf("%d deliveries with a bad signature", hooks.bad)
	}
}
