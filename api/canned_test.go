package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/atende/atende/channels"
)

type cannedJSON struct {
	ID        string `json:"id"`
	Shortcut  string `json:"shortcut"`
	Title     string `json:"title"`
	Text      string `json:"text"`
	Channel   string `json:"channel"`
	CreatedBy string `json:"created_by"`
	UpdatedBy string `json:"updated_by"`
}

type cannedRenderJSON struct {
	Text      string   `json:"text"`
	HTML      string   `json:"html"`
	Canonical string   `json:"canonical"`
	Missing   []string `json:"missing"`
	Unknown   []string `json:"unknown"`
	Parts     []struct {
		Text string `json:"text"`
	} `json:"parts"`
}

// Canned responses by API: create, list (per channel), read, replace,
// delete; a shortcut taken in any case is 409; another account's id is 404
// for every verb; bad input is 400 saying what is wrong.
func TestCannedResponsesCRUD(t *testing.T) {
	s := newTestServer(t)
	var boleto cannedJSON
	if code := s.call(t, s.keyA, "POST", "/api/v1/canned-responses", map[string]any{"shortcut": "boleto", "title": "Segunda via do boleto",
		"text": "Olá, {{primeiro_nome}}! O boleto do pedido {{pedido}}: [baixar](https://loja.example/b)", "author": "ana@acme.com"}, &boleto); code != http.StatusCreated {
		t.Fatalf("create: %d %+v", code, boleto)
	}
	if boleto.ID == "" || boleto.Shortcut != "boleto" || boleto.CreatedBy != "ana@acme.com" || boleto.Channel != "" {
		t.Fatalf("created: %+v", boleto)
	}
	var pix cannedJSON
	if code := s.call(t, s.keyA, "POST", "/api/v1/canned-responses", map[string]any{"shortcut": "pix", "text": "A chave Pix é **loja@acme.com**.", "channel": "whatsapp"}, &pix); code != http.StatusCreated {
		t.Fatalf("create pix: %d", code)
	}
	if pix.Title != "pix" || pix.CreatedBy != "api" || pix.Channel != "whatsapp" {
		t.Fatalf("defaults: %+v", pix)
	}
	var e apiError
	if code := s.call(t, s.keyA, "POST", "/api/v1/canned-responses", map[string]any{"shortcut": "BOLETO", "text": "outro"}, &e); code != http.StatusConflict ||
		e.Error.Code != "conflict" || !strings.Contains(e.Error.Message, "/boleto") {
		t.Fatalf("a taken shortcut: %d %+v", code, e)
	}
	if code := s.call(t, s.keyB, "POST", "/api/v1/canned-responses", map[string]any{"shortcut": "boleto", "text": "da globex"}, nil); code != http.StatusCreated {
		t.Fatalf("another account may use the shortcut: %d", code)
	}
	for body, want := range map[string]string{
		`{"shortcut": "segunda via", "text": "x"}`:                        "no spaces",
		`{"shortcut": "ok", "text": "  "}`:                                "text is empty",
		`{"shortcut": "ok", "text": "x", "channel": "fax"}`:               `unknown channel kind "fax"`,
		`{"shortcut": "ok", "text": "` + strings.Repeat("a", 4097) + `"}`: "at most 4096",
		`{"text": "x"}`: "shortcut is required",
		`not json`:      "invalid JSON body",
	} {
		var e apiError
		if code := s.call(t, s.keyA, "POST", "/api/v1/canned-responses", body, &e); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, want) {
			t.Errorf("%.40s: %d %+v, want 400 %q", body, code, e, want)
		}
	}

	list := func(key, query string) []string {
		t.Helper()
		var out struct {
			Canned    []cannedJSON `json:"canned_responses"`
			Variables []struct {
				Name string `json:"name"`
			} `json:"variables"`
		}
		if code := s.call(t, key, "GET", "/api/v1/canned-responses"+query, nil, &out); code != http.StatusOK {
			t.Fatalf("list %s: %d", query, code)
		}
		if len(out.Variables) == 0 {
			t.Fatal("the list names the variables")
		}
		var names []string
		for _, r := range out.Canned {
			names = append(names, r.Shortcut)
		}
		return names
	}
	if got := strings.Join(list(s.keyA, ""), ","); got != "boleto,pix" {
		t.Errorf("all: %s", got)
	}
	if got := strings.Join(list(s.keyA, "?channel=whatsapp"), ","); got != "boleto,pix" {
		t.Errorf("whatsapp: %s", got)
	}
	if got := strings.Join(list(s.keyA, "?channel=telegram"), ","); got != "boleto" {
		t.Errorf("telegram: %s", got)
	}
	tg := s.channel(t, channels.NewChannel{Kind: channels.KindTelegram, Name: "Bot", Secrets: map[string]string{"bot_token": "1:x"}})
	if got := strings.Join(list(s.keyA, "?channel="+tg.ID.String()), ","); got != "boleto" {
		t.Errorf("by channel id: %s", got)
	}
	if code := s.call(t, s.keyB, "GET", "/api/v1/canned-responses?channel="+tg.ID.String(), nil, nil); code != http.StatusNotFound {
		t.Errorf("another account's channel: %d", code)
	}
	if code := s.call(t, s.keyA, "GET", "/api/v1/canned-responses?channel=fax", nil, nil); code != http.StatusBadRequest {
		t.Errorf("an unknown kind: %d", code)
	}
	if got := list(s.keyB, ""); len(got) != 1 {
		t.Errorf("globex sees only its own: %v", got)
	}

	var got cannedJSON
	if code := s.call(t, s.keyA, "GET", "/api/v1/canned-responses/"+boleto.ID, nil, &got); code != http.StatusOK || got.Text != boleto.Text {
		t.Fatalf("get: %d %+v", code, got)
	}
	update := map[string]any{"shortcut": "Boleto", "title": "Boleto", "text": "Segue o boleto, {{nome}}.", "channel": "telegram", "author": "bia@acme.com"}
	for _, verb := range []struct{ method, path string }{{"GET", ""}, {"PUT", ""}, {"DELETE", ""}, {"POST", "/render"}} {
		var body any
		switch verb.method {
		case "PUT":
			body = update
		case "POST":
			body = map[string]any{"contact_id": boleto.ID}
		}
		if code := s.call(t, s.keyB, verb.method, "/api/v1/canned-responses/"+boleto.ID+verb.path, body, nil); code != http.StatusNotFound {
			t.Errorf("%s from another account: %d", verb.method, code)
		}
	}
	if code := s.call(t, s.keyA, "GET", "/api/v1/canned-responses/not-a-uuid", nil, nil); code != http.StatusNotFound {
		t.Errorf("a malformed id: %d", code)
	}
	if code := s.call(t, s.keyA, "PUT", "/api/v1/canned-responses/"+pix.ID, map[string]any{"shortcut": "boleto", "text": "x"}, nil); code != http.StatusConflict {
		t.Errorf("renaming onto a taken shortcut: %d", code)
	}
	if code := s.call(t, s.keyA, "PUT", "/api/v1/canned-responses/"+boleto.ID, update, &got); code != http.StatusOK ||
		got.Shortcut != "Boleto" || got.Channel != "telegram" || got.UpdatedBy != "bia@acme.com" || got.CreatedBy != "ana@acme.com" {
		t.Fatalf("put: %d %+v", code, got)
	}
	if code := s.call(t, s.keyA, "DELETE", "/api/v1/canned-responses/"+pix.ID, nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if code := s.call(t, s.keyA, "GET", "/api/v1/canned-responses/"+pix.ID, nil, nil); code != http.StatusNotFound {
		t.Fatalf("after delete: %d", code)
	}
	if code := s.call(t, s.keyA, "DELETE", "/api/v1/canned-responses/"+pix.ID, nil, nil); code != http.StatusNotFound {
		t.Fatalf("delete twice: %d", code)
	}
	if code := s.call(t, "", "GET", "/api/v1/canned-responses", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("no key: %d", code)
	}
}

// Render fills the response from the contact and renders it in the
// channel's dialect (by kind, or by channel id with its settings); a missing
// value and an unknown name are reported and left visible; another
// account's contact is 404; a response for one kind is refused elsewhere.
func TestCannedResponseRender(t *testing.T) {
	s := newTestServer(t)
	var rui contactJSON
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{"name": "Rui Costa",
		"identities": []map[string]string{{"kind": "email", "value": "rui@exemplo.com.br"}},
		"fields":     map[string]any{"name": "Rui Costa", "order_number": "48213"}}, &rui); code != http.StatusCreated {
		t.Fatalf("contact: %d", code)
	}
	var nameless contactJSON
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{"identities": []map[string]string{{"kind": "phone", "value": "+5511987650000"}}}, &nameless); code != http.StatusCreated {
		t.Fatalf("contact: %d", code)
	}
	var r cannedJSON
	s.call(t, s.keyA, "POST", "/api/v1/canned-responses", map[string]any{"shortcut": "boleto",
		"text": "Olá, **{{primeiro_nome}}**! O boleto do pedido {{pedido}} foi para {{email}}. CPF: {{cpf}}. {{rastreio}}"}, &r)
	render := func(key string, body map[string]any) (int, cannedRenderJSON) {
		var out cannedRenderJSON
		code := s.call(t, key, "POST", "/api/v1/canned-responses/"+r.ID+"/render", body, &out)
		return code, out
	}
	code, out := render(s.keyA, map[string]any{"contact_id": rui.ID, "channel": "whatsapp"})
	if code != http.StatusOK || out.Text != "Olá, *Rui*! O boleto do pedido 48213 foi para rui@exemplo.com.br. CPF: {{cpf}}. {{rastreio}}" ||
		strings.Join(out.Missing, ",") != "cpf" || strings.Join(out.Unknown, ",") != "rastreio" || !strings.HasPrefix(out.Canonical, "Olá, **Rui**!") {
		t.Fatalf("whatsapp: %d %+v", code, out)
	}
	tg := s.channel(t, channels.NewChannel{Kind: channels.KindTelegram, Name: "Bot", Secrets: map[string]string{"bot_token": "1:x"}, Settings: map[string]string{"max_length": "40"}})
	code, out = render(s.keyA, map[string]any{"contact_id": rui.ID, "channel": tg.ID.String()})
	if code != http.StatusOK || !strings.HasPrefix(out.Text, "Olá, <b>Rui</b>!") || len(out.Parts) < 2 {
		t.Fatalf("by channel id (telegram, 40 characters a message): %d %+v", code, out)
	}
	code, out = render(s.keyA, map[string]any{"contact_id": nameless.ID, "channel": "email"})
	if code != http.StatusOK || !strings.Contains(out.HTML, "<b>{{primeiro_nome}}</b>") || strings.Join(out.Missing, ",") != "primeiro_nome,pedido,email,cpf" {
		t.Fatalf("a contact with nothing: %d %+v", code, out)
	}
	code, out = render(s.keyA, map[string]any{"contact_id": rui.ID})
	if code != http.StatusOK || out.Text != out.Canonical {
		t.Fatalf("no channel: canonical: %d %+v", code, out)
	}
	if code, _ := render(s.keyB, map[string]any{"contact_id": rui.ID}); code != http.StatusNotFound {
		t.Errorf("another account's key: %d", code)
	}
	var other cannedJSON
	s.call(t, s.keyB, "POST", "/api/v1/canned-responses", map[string]any{"shortcut": "oi", "text": "Oi {{nome}}"}, &other)
	if code := s.call(t, s.keyB, "POST", "/api/v1/canned-responses/"+other.ID+"/render", map[string]any{"contact_id": rui.ID}, nil); code != http.StatusNotFound {
		t.Errorf("another account's contact: %d", code)
	}
	var e apiError
	if code := s.call(t, s.keyA, "POST", "/api/v1/canned-responses/"+r.ID+"/render", map[string]any{}, &e); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "contact_id") {
		t.Errorf("no contact: %d %+v", code, e)
	}
	var pix cannedJSON
	s.call(t, s.keyA, "POST", "/api/v1/canned-responses", map[string]any{"shortcut": "pix", "text": "Chave: *loja*", "channel": "whatsapp"}, &pix)
	if code := s.call(t, s.keyA, "POST", "/api/v1/canned-responses/"+pix.ID+"/render", map[string]any{"contact_id": rui.ID, "channel": "telegram"}, &e); code != http.StatusBadRequest ||
		!strings.Contains(e.Error.Message, "only offered on whatsapp") {
		t.Errorf("a whatsapp response on telegram: %d %+v", code, e)
	}
	var own cannedRenderJSON
	if code := s.call(t, s.keyA, "POST", "/api/v1/canned-responses/"+pix.ID+"/render", map[string]any{"contact_id": rui.ID}, &own); code != http.StatusOK || own.Text != "Chave: _loja_" {
		t.Errorf("no channel: the response's own kind: %d %+v", code, own)
	}
}
