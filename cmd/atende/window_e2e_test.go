package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// templateGraph is a WhatsApp Cloud API fake that tells templates from texts.
type templateGraph struct {
	*httptest.Server
	mu   sync.Mutex
	sent []string // "template:<name>" or the text
}

func newTemplateGraph(t *testing.T) *templateGraph {
	g := &templateGraph{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Type     string                `json:"type"`
			Text     struct{ Body string } `json:"text"`
			Template struct{ Name string } `json:"template"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		g.mu.Lock()
		if body.Type == "template" {
			g.sent = append(g.sent, "template:"+body.Template.Name)
		} else {
			g.sent = append(g.sent, body.Text.Body)
		}
		n := len(g.sent)
		g.mu.Unlock()
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.out%d"}]}`, n)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *templateGraph) all() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string{}, g.sent...)
}

// WhatsApp's 24 hours end to end through `atende serve`: the customer's last
// message is a day old, so the team's reply sends the approved template and
// waits — the timeline says "aguardando o cliente responder ao modelo", not
// "sent" — and the reply goes out the moment the customer answers (issue 14).
func TestAReplyAfterTheWindowWaitsForTheCustomer(t *testing.T) {
	srv := startServer(t, "atd_e2e_window_key_0123456789", 1)
	graph := newTemplateGraph(t)
	var ch struct{ ID string }
	if code := srv.call("POST", "/api/v1/channels", map[string]any{"kind": "whatsapp", "name": "WhatsApp",
		"settings": map[string]string{"phone_number_id": "110220330440551", "base_url": graph.URL},
		"secrets":  map[string]string{"app_secret": "app-secret", "verify_token": "v", "access_token": "EAAG"}}, &ch); code != 201 {
		t.Fatalf("create channel: %d", code)
	}
	send := whatsappPoster(t, srv.base, ch.ID, "110220330440551", "5521987650001", "Joana Prado")
	wait := func(what string, ok func([]string) bool) []string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if got := graph.all(); ok(got) {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the WhatsApp API got %q", what, graph.all())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	has := func(s string) func([]string) bool {
		return func(got []string) bool {
			for _, g := range got {
				if strings.Contains(g, s) {
					return true
				}
			}
			return false
		}
	}
	send("wamid.old", "quero falar com um atendente sobre meu pedido 48213", time.Now().Add(-26*time.Hour))
	wait("the template for the bot's notice", has("template:retomar_atendimento"))
	waitTurnsSettled(t, srv)
	var list struct {
		Handoffs []struct {
			ID        string `json:"id"`
			ContactID string `json:"contact_id"`
		}
	}
	if srv.call("GET", "/api/v1/handoffs?status=open", nil, &list); len(list.Handoffs) != 1 {
		t.Fatalf("open cards: %+v", list)
	}
	if code := srv.call("POST", "/api/v1/handoffs/"+list.Handoffs[0].ID+"/reply", map[string]any{"attendant": DemoAttendantEmail,
		"text": "Oi, Joana! Aqui é a Ana. O pedido 48213 sai amanhã."}, nil); code != 200 && code != 201 {
		t.Fatalf("reply: %d", code)
	}
	statusOf := func(text string) []string {
		t.Helper()
		var page struct {
			Events []struct {
				ID      int64  `json:"id"`
				Kind    string `json:"kind"`
				Text    string `json:"text"`
				Payload struct {
					Message int64  `json:"message_event_id"`
					Status  string `json:"status"`
				} `json:"payload"`
			} `json:"events"`
		}
		srv.call("GET", "/api/v1/contacts/"+list.Handoffs[0].ContactID+"/timeline?limit=500", nil, &page)
		var id int64
		for _, e := range page.Events {
			if e.Kind == "message" && e.Text == text {
				id = e.ID
			}
		}
		var out []string
		for _, e := range page.Events {
			if e.Kind == "status" && e.Payload.Message == id && id != 0 {
				out = append(out, e.Payload.Status+": "+e.Text)
			}
		}
		return out
	}
	reply := "Oi, Joana! Aqui é a Ana. O pedido 48213 sai amanhã."
	deadline := time.Now().Add(30 * time.Second)
	for len(statusOf(reply)) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if st := statusOf(reply); len(st) != 1 || !strings.HasPrefix(st[0], "held: aguardando o cliente responder ao modelo") {
		t.Fatalf("the reply's status while waiting: %q", st)
	}
	if got := graph.all(); has(reply)(got) || strings.Count(strings.Join(got, "|"), "template:") != 1 {
		t.Fatalf("while waiting, only one template may have gone out: %q", got)
	}
	send("wamid.new", "oi, pode falar", time.Now())
	wait("the team's reply once the customer answered", has(reply))
	deadline = time.Now().Add(30 * time.Second)
	for {
		st := statusOf(reply)
		if len(st) == 2 && strings.HasPrefix(st[1], "sent") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reply's statuses after the customer answered: %q", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
