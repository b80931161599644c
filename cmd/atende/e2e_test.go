package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// graphServer is a local WhatsApp Cloud API: it records the messages sent.
type graphServer struct {
	*httptest.Server
	mu    sync.Mutex
	texts []string
}

func newGraphServer(t *testing.T) *graphServer {
	g := &graphServer{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			To   string `json:"to"`
			Text struct {
				Body string `json:"body"`
			} `json:"text"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		g.mu.Lock()
		g.texts = append(g.texts, body.Text.Body)
		n := len(g.texts)
		g.mu.Unlock()
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.reply%d"}]}`, n)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *graphServer) sent() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string{}, g.texts...)
}

// TestWhatsAppWebhookGetsAnAnswer: a signed WhatsApp webhook goes in through
// the running server; the offline engine answers from the sector's knowledge
// and the reply reaches the (local) WhatsApp API in WhatsApp's format; asking
// for a person hands off, and then the bot stays silent.
func TestWhatsAppWebhookGetsAnAnswer(t *testing.T) {
	srv := startServer(t, "atd_e2e_whatsapp_key_0123456789", 1)
	call := srv.call
	graph := newGraphServer(t)
	send, waitSent := whatsappChannel(t, srv, graph)
	send("wamid.in1", "quais as formas de pagamento? aceita pix?")
	got := waitSent(1)
	if !strings.Contains(got[0], "Aceitamos pix (5% de desconto)") {
		t.Fatalf("the answer should come from the sales knowledge: %q", got[0])
	}
	send("wamid.in2", "quero falar com um atendente")
	got = waitSent(2)
	if !strings.Contains(got[1], "Vou te passar para uma pessoa da nossa equipe de vendas") || !strings.Contains(got[1], "5 minutos") {
		t.Fatalf("handoff notice: %q", got[1])
	}
	send("wamid.in3", "alô?")
	waitTurnsSettled(t, srv)
	if n := len(graph.sent()); n != 2 {
		t.Fatalf("the bot must stay silent while a human owns the conversation: %d replies", n)
	}

	var found struct {
		Contacts []struct{ ID string }
	}
	call("GET", "/api/v1/contacts?identity=whatsapp:5521987650000", nil, &found)
	var page struct {
		Events []struct {
			Kind, Direction, Author, Text string
			PromptVersion                 string `json:"prompt_version"`
		}
	}
	call("GET", "/api/v1/contacts/"+found.Contacts[0].ID+"/timeline?limit=500", nil, &page)
	var kinds []string
	for _, e := range page.Events {
		if e.Kind == "field_change" {
			continue
		}
		kinds = append(kinds, e.Kind+"/"+e.Author)
		if e.Author == "ai" && e.PromptVersion != "offline-v1" {
			t.Errorf("AI event without its prompt version: %+v", e)
		}
	}
	joined := strings.Join(kinds, " ")
	for _, want := range []string{"message/contact action/ai message/ai status/system message/contact assignment/system handoff/ai message/ai"} {
		if !strings.Contains(joined, want) {
			t.Fatalf("timeline %q lacks %q", joined, want)
		}
	}
}

// whatsappChannel configures a WhatsApp channel pointing at graph and returns
// how to send a signed customer message to it and how to wait for n replies.
func whatsappChannel(t *testing.T, srv *runningServer, graph *graphServer) (func(id, text string), func(n int) []string) {
	t.Helper()
	base, call := srv.base, srv.call
	var ch struct{ ID string }
	if code := call("POST", "/api/v1/channels", map[string]any{"kind": "whatsapp", "name": "WhatsApp",
		"settings": map[string]string{"phone_number_id": "110220330440550", "base_url": graph.URL},
		"secrets":  map[string]string{"app_secret": "app-secret", "verify_token": "v", "access_token": "EAAG"}}, &ch); code != 201 {
		t.Fatalf("create channel: %d", code)
	}
	post := whatsappPoster(t, base, ch.ID, "110220330440550", "5521987650000", "Joana Prado")
	send := func(id, text string) { t.Helper(); post(id, text, time.Now()) }
	deadline := time.Now().Add(30 * time.Second)
	waitSent := func(n int) []string {
		t.Helper()
		for {
			if got := graph.sent(); len(got) >= n {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("want %d replies at the WhatsApp API, got %v", n, graph.sent())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return send, waitSent
}

// whatsappPoster returns how to post a signed WhatsApp Cloud webhook with
// one text message from waID (named name) to the channel, stamped at.
func whatsappPoster(t *testing.T, base, channelID, phoneNumberID, waID, name string) func(id, text string, at time.Time) {
	return func(id, text string, at time.Time) {
		t.Helper()
		body := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"551140028922","phone_number_id":%q},"contacts":[{"profile":{"name":%q},"wa_id":%q}],"messages":[{"from":%q,"id":"%s","timestamp":"%d","type":"text","text":{"body":%q}}]}}]}]}`,
			phoneNumberID, name, waID, waID, id, at.Unix(), text)
		mac := hmac.New(sha256.New, []byte("app-secret"))
		mac.Write(body)
		req, _ := http.NewRequest("POST", base+"/webhooks/whatsapp/"+channelID, bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("webhook: %v %v", resp, err)
		}
		resp.Body.Close()
	}
}

// A greeting names the business the account is (the seeded demo is "Loja
// Demo"), not a generic "nossa empresa" (issue 11).
func TestTheGreetingNamesTheBusiness(t *testing.T) {
	srv := startServer(t, "atd_e2e_greeting_key_0123456789", 1)
	graph := newGraphServer(t)
	send, waitSent := whatsappChannel(t, srv, graph)
	send("wamid.g1", "oi, boa tarde")
	got := waitSent(1)
	if !strings.Contains(got[0], "assistente virtual da Loja Demo") || strings.Contains(got[0], "nossa empresa") {
		t.Fatalf("the greeting: %q", got[0])
	}
}
