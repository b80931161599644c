package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAuthIsRequired(t *testing.T) {
	s := newTestServer(t)
	for _, key := range []string{"", "atd_not-a-real-key"} {
		var e apiError
		if code := s.call(t, key, "GET", "/api/v1/contacts", nil, &e); code != http.StatusUnauthorized || e.Error.Code != "unauthorized" {
			t.Fatalf("key %q: %d %+v", key, code, e)
		}
	}
}

func TestCreateFindAndReturnExisting(t *testing.T) {
	s := newTestServer(t)
	var created contactJSON
	code := s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{
		"name":       "Maria Silva",
		"identities": []map[string]string{{"kind": "whatsapp", "value": "551187654321"}},
		"fields":     map[string]any{"need": "segunda via do boleto"},
		"channel":    "whatsapp", "origin": "anúncio",
	}, &created)
	if code != http.StatusCreated || created.Fields["phone"] != "+5511987654321" || created.Fields["need"] != "segunda via do boleto" {
		t.Fatalf("create: %d %+v", code, created)
	}
	var again contactJSON
	code = s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{
		"name":       "Maria",
		"identities": []map[string]string{{"kind": "phone", "value": "+55 11 98765-4321"}, {"kind": "email", "value": "Maria@Exemplo.com.br"}},
	}, &again)
	if code != http.StatusOK || again.ID != created.ID || len(again.Identities) != 2 {
		t.Fatalf("an identifier already naming a contact must return it (with the new e-mail): %d %+v", code, again)
	}
	for _, q := range []string{"identity=whatsapp:5511987654321", "identity=phone:%2B5511987654321", "identity=email:maria@exemplo.com.br", "q=mar%C3%ADa"} {
		var found struct{ Contacts []contactJSON }
		if code := s.call(t, s.keyA, "GET", "/api/v1/contacts?"+q, nil, &found); code != 200 || len(found.Contacts) != 1 || found.Contacts[0].ID != created.ID {
			t.Fatalf("%s: %d %+v", q, code, found)
		}
	}
	var none struct{ Contacts []contactJSON }
	if code := s.call(t, s.keyA, "GET", "/api/v1/contacts?identity=telegram:404", nil, &none); code != 200 || len(none.Contacts) != 0 {
		t.Fatalf("unknown identity: %d %+v", code, none)
	}
	var got contactJSON
	if code := s.call(t, s.keyA, "GET", "/api/v1/contacts/"+created.ID, nil, &got); code != 200 || got.First.Channel != "whatsapp" || got.First.Origin != "anúncio" {
		t.Fatalf("get: %d %+v", code, got)
	}
}

func TestBadInputGetsClearErrors(t *testing.T) {
	s := newTestServer(t)
	var a, b contactJSON
	s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{"identities": []map[string]string{{"kind": "email", "value": "a@exemplo.com"}}}, &a)
	s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{"identities": []map[string]string{{"kind": "email", "value": "b@exemplo.com"}}}, &b)
	tests := []struct {
		name, method, path string
		body               any
		status             int
		code, says         string
	}{
		{"invalid CPF", "POST", "/api/v1/contacts", map[string]any{"identities": []map[string]string{{"kind": "cpf", "value": "391.781.654-83"}}}, 422, "invalid_identifier", "check digits"},
		{"invalid CPF linked", "POST", "/api/v1/contacts/" + a.ID + "/identities", map[string]string{"kind": "cpf", "value": "11111111111"}, 422, "invalid_identifier", "repeated digit"},
		{"bad identity query", "GET", "/api/v1/contacts?identity=fax:123", nil, 422, "invalid_identifier", "unknown kind"},
		{"two contacts named", "POST", "/api/v1/contacts", map[string]any{"identities": []map[string]string{{"kind": "email", "value": "a@exemplo.com"}, {"kind": "email", "value": "b@exemplo.com"}}}, 409, "conflict", "two different contacts"},
		{"malformed JSON", "POST", "/api/v1/contacts", `{"name": `, 400, "bad_request", "invalid JSON"},
		{"empty contact", "POST", "/api/v1/contacts", map[string]any{}, 400, "bad_request", "name or at least one identity"},
		{"no such contact", "GET", "/api/v1/contacts/0199f0a0-0000-7000-8000-000000000000", nil, 404, "not_found", ""},
		{"not an id", "GET", "/api/v1/contacts/abc", nil, 404, "not_found", ""},
		{"bad cursor", "GET", "/api/v1/contacts/" + a.ID + "/timeline?cursor=zzz", nil, 400, "bad_request", "cursor"},
		{"bad limit", "GET", "/api/v1/contacts/" + a.ID + "/timeline?limit=0", nil, 400, "bad_request", "limit"},
		{"tiny budget", "GET", "/api/v1/contacts/" + a.ID + "/memory?budget=3", nil, 400, "bad_request", "budget"},
		{"self merge", "POST", "/api/v1/contacts/" + a.ID + "/merge", map[string]string{"other_id": a.ID}, 409, "conflict", "itself"},
		{"nothing to unmerge", "POST", "/api/v1/contacts/" + a.ID + "/unmerge", nil, 404, "not_found", ""},
		{"empty note", "POST", "/api/v1/contacts/" + a.ID + "/notes", map[string]string{"text": ""}, 400, "bad_request", ""},
		{"bad event", "POST", "/api/v1/contacts/" + a.ID + "/events:import", map[string]any{"events": []map[string]any{{"occurred_at": time.Now(), "channel": "sms", "direction": "sideways", "author": "contact", "text": "x"}}}, 400, "bad_request", "direction"},
		{"import a merge", "POST", "/api/v1/contacts/" + a.ID + "/events:import", map[string]any{"events": []map[string]any{{"occurred_at": time.Now(), "channel": "sms", "kind": "merge", "direction": "internal", "author": "system", "text": "x"}}}, 400, "bad_request", "only messages and notes"},
		{"bad field key", "PATCH", "/api/v1/contacts/" + a.ID + "/fields", map[string]any{"fields": map[string]any{"Not Snake": 1}}, 400, "bad_request", "snake_case"},
		{"too large", "POST", "/api/v1/contacts/" + a.ID + "/notes", map[string]string{"text": strings.Repeat("x", 2<<20)}, 413, "too_large", ""},
		{"no route", "GET", "/api/v1/nothing", nil, 404, "not_found", ""},
		{"wrong method", "DELETE", "/api/v1/contacts", nil, 405, "method_not_allowed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			code := s.call(t, s.keyA, tt.method, tt.path, tt.body, &e)
			if code != tt.status || e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.says) {
				t.Fatalf("got %d %+v, want %d %s containing %q", code, e, tt.status, tt.code, tt.says)
			}
		})
	}
	// Nothing of the refused requests was stored.
	var got contactJSON
	s.call(t, s.keyA, "GET", "/api/v1/contacts/"+a.ID, nil, &got)
	if len(got.Identities) != 1 || got.Fields["cpf"] != nil {
		t.Fatalf("a refused request changed the contact: %+v", got)
	}
}

func TestAnotherAccountsContactIs404(t *testing.T) {
	s := newTestServer(t)
	var theirs contactJSON
	s.call(t, s.keyB, "POST", "/api/v1/contacts", map[string]any{"name": "Bia", "identities": []map[string]string{{"kind": "whatsapp", "value": "5571987456123"}}}, &theirs)
	var mine contactJSON
	s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{"name": "Caio", "identities": []map[string]string{{"kind": "telegram", "value": "42"}}}, &mine)
	paths := []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/contacts/" + theirs.ID, nil},
		{"GET", "/api/v1/contacts/" + theirs.ID + "/timeline", nil},
		{"GET", "/api/v1/contacts/" + theirs.ID + "/memory?q=oi", nil},
		{"POST", "/api/v1/contacts/" + theirs.ID + "/notes", map[string]string{"text": "espiando"}},
		{"POST", "/api/v1/contacts/" + theirs.ID + "/identities", map[string]string{"kind": "email", "value": "x@exemplo.com"}},
		{"PATCH", "/api/v1/contacts/" + theirs.ID + "/fields", map[string]any{"fields": map[string]any{"stage": "lost"}}},
		{"POST", "/api/v1/contacts/" + theirs.ID + "/events:import", map[string]any{"events": []map[string]any{{"occurred_at": time.Now(), "channel": "sms", "direction": "in", "author": "contact", "text": "x"}}}},
		{"POST", "/api/v1/contacts/" + mine.ID + "/merge", map[string]string{"other_id": theirs.ID}},
		{"POST", "/api/v1/contacts/" + theirs.ID + "/unmerge", nil},
	}
	for _, p := range paths {
		var e apiError
		if code := s.call(t, s.keyA, p.method, p.path, p.body, &e); code != http.StatusNotFound {
			t.Errorf("%s %s with another account's key: %d %+v", p.method, p.path, code, e)
		}
	}
	var found struct{ Contacts []contactJSON }
	s.call(t, s.keyA, "GET", "/api/v1/contacts?identity=whatsapp:5571987456123", nil, &found)
	if len(found.Contacts) != 0 {
		t.Fatal("identity lookup crossed accounts")
	}
	var still contactJSON
	s.call(t, s.keyB, "GET", "/api/v1/contacts/"+theirs.ID, nil, &still)
	if len(still.Identities) != 1 || still.Stage != "" {
		t.Fatalf("another account changed the contact: %+v", still)
	}
}

func TestImportIsIdempotentAndTimelinePages(t *testing.T) {
	s := newTestServer(t)
	var c contactJSON
	s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{"name": "Jô", "identities": []map[string]string{{"kind": "instagram", "value": "17841466677788899"}}}, &c)
	t0 := time.Date(2025, 12, 1, 10, 0, 0, 0, time.UTC)
	var events []map[string]any
	for i := 0; i < 7; i++ {
		events = append(events, map[string]any{
			"occurred_at": t0.Add(time.Duration(i) * time.Hour), "channel": []string{"whatsapp", "email"}[i%2],
			"direction": "in", "author": "contact", "text": fmt.Sprintf("mensagem antiga %d", i), "external_id": fmt.Sprintf("old-%d", i),
		})
	}
	var first, second struct{ Imported, Duplicates int }
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts/"+c.ID+"/events:import", map[string]any{"events": events}, &first); code != 200 || first.Imported != 7 {
		t.Fatalf("import: %d %+v", code, first)
	}
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts/"+c.ID+"/events:import", map[string]any{"events": events}, &second); code != 200 || second.Imported != 0 || second.Duplicates != 7 {
		t.Fatalf("re-import: %d %+v", code, second)
	}
	var note map[string]any
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts/"+c.ID+"/notes", map[string]string{"text": "cliente VIP"}, &note); code != 201 || note["kind"] != "note" {
		t.Fatalf("note: %d %+v", code, note)
	}
	var texts []string
	cursor := ""
	for pages := 0; ; pages++ {
		var page struct {
			Events []struct{ Text, Kind string }
			Next   *string `json:"next_cursor"`
		}
		if code := s.call(t, s.keyA, "GET", "/api/v1/contacts/"+c.ID+"/timeline?limit=3&cursor="+cursor, nil, &page); code != 200 {
			t.Fatalf("timeline page %d: %d", pages, code)
		}
		for _, e := range page.Events {
			texts = append(texts, e.Text)
		}
		if page.Next == nil {
			break
		}
		cursor = *page.Next
	}
	if len(texts) != 8 || texts[0] != "mensagem antiga 0" || texts[6] != "mensagem antiga 6" || texts[7] != "cliente VIP" {
		t.Fatalf("timeline = %q", texts)
	}
	var got contactJSON
	s.call(t, s.keyA, "GET", "/api/v1/contacts/"+c.ID, nil, &got)
	if got.First.Channel != "whatsapp" {
		t.Fatalf("imported history older than the contact must become its first contact: %+v", got.First)
	}
}

func TestMergeUnmergeAndLinkThroughTheAPI(t *testing.T) {
	s := newTestServer(t)
	var ig, wa contactJSON
	s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{"name": "nanda", "identities": []map[string]string{{"kind": "instagram", "value": "1784"}}}, &ig)
	s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{"name": "Fernanda", "identities": []map[string]string{{"kind": "whatsapp", "value": "5511973214567"}, {"kind": "email", "value": "nanda@exemplo.com"}}}, &wa)
	var linked struct {
		Contact contactJSON
		Merged  bool
	}
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts/"+ig.ID+"/identities", map[string]string{"kind": "email", "value": "NANDA@exemplo.com"}, &linked); code != 200 || !linked.Merged || linked.Contact.ID != ig.ID || len(linked.Contact.Identities) != 3 {
		t.Fatalf("link: %d %+v", code, linked)
	}
	var gone contactJSON
	s.call(t, s.keyA, "GET", "/api/v1/contacts/"+wa.ID, nil, &gone)
	if gone.MergedInto == nil || *gone.MergedInto != ig.ID {
		t.Fatalf("merged_into = %v", gone.MergedInto)
	}
	var un struct{ Survivor, Restored contactJSON }
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts/"+ig.ID+"/unmerge", nil, &un); code != 200 || len(un.Survivor.Identities) != 1 || len(un.Restored.Identities) != 2 || un.Restored.MergedInto != nil {
		t.Fatalf("unmerge: %d %+v", code, un)
	}
	var merged struct {
		Contact contactJSON
		MergeID string `json:"merge_id"`
	}
	defer func() {
		// Writing to the contact merged away says where it went.
		var e apiError
		if code := s.call(t, s.keyA, "POST", "/api/v1/contacts/"+ig.ID+"/notes", map[string]string{"text": "x"}, &e); code != 409 || !strings.Contains(e.Error.Message, wa.ID) {
			t.Errorf("note on a merged contact: %d %+v", code, e)
		}
		if code := s.call(t, s.keyA, "PATCH", "/api/v1/contacts/"+ig.ID+"/fields", map[string]any{"fields": map[string]any{"stage": "x"}}, &e); code != 409 {
			t.Errorf("fields of a merged contact: %d %+v", code, e)
		}
	}()
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts/"+wa.ID+"/merge", map[string]string{"other_id": ig.ID}, &merged); code != 200 || merged.Contact.ID != wa.ID || merged.MergeID == "" {
		t.Fatalf("explicit merge keeps the path's contact: %d %+v", code, merged)
	}
}

func TestMemoryViewEndpoint(t *testing.T) {
	s := newTestServer(t)
	var c contactJSON
	s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{"name": "Ana", "identities": []map[string]string{{"kind": "webchat", "value": "v-1"}}}, &c)
	var events []map[string]any
	for i := 0; i < 40; i++ {
		text := "quero saber do frete"
		if i == 5 {
			text = "meu pedido é o 48213 e chegou quebrado"
		}
		events = append(events, map[string]any{"occurred_at": time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC), "channel": "webchat",
			"direction": "in", "author": "contact", "text": text})
	}
	s.call(t, s.keyA, "POST", "/api/v1/contacts/"+c.ID+"/events:import", map[string]any{"events": events}, nil)
	if _, err := s.store.ChunkContact(t.Context(), s.acctA, mustUUID(t, c.ID)); err != nil {
		t.Fatal(err)
	}
	var view struct {
		Tokens, Budget int
		Snippets       []struct{ Text string }
		Text           string
	}
	if code := s.call(t, s.keyA, "GET", "/api/v1/contacts/"+c.ID+"/memory?q=pedido+quebrado&budget=400", nil, &view); code != 200 {
		t.Fatalf("memory: %d", code)
	}
	if view.Tokens > 400 || view.Budget != 400 || len(view.Snippets) == 0 || !strings.Contains(view.Snippets[0].Text, "48213") {
		t.Fatalf("view: %+v", view)
	}
}

func TestKnowledgeThroughTheAPI(t *testing.T) {
	s := newTestServer(t)
	for _, a := range []map[string]string{
		{"sector": "billing", "title": "Segunda via de boleto", "body": "A 2ª via do boleto sai com o CPF do titular."},
		{"sector": "sales", "title": "Formas de pagamento", "body": "Pix, cartão em 10x e boleto."},
	} {
		if code := s.call(t, s.keyA, "PUT", "/api/v1/knowledge", a, nil); code != 200 {
			t.Fatalf("put: %d", code)
		}
	}
	var found struct {
		Knowledge []struct{ Title, Sector string }
	}
	if code := s.call(t, s.keyA, "GET", "/api/v1/knowledge?sector=billing&q=boleto+atrasado", nil, &found); code != 200 || len(found.Knowledge) != 1 || found.Knowledge[0].Title != "Segunda via de boleto" {
		t.Fatalf("search: %d %+v", code, found)
	}
	if code := s.call(t, s.keyA, "GET", "/api/v1/knowledge", nil, &found); code != 200 || len(found.Knowledge) != 2 {
		t.Fatalf("list: %d %+v", code, found)
	}
	if code := s.call(t, s.keyB, "GET", "/api/v1/knowledge", nil, &found); code != 200 || len(found.Knowledge) != 0 {
		t.Fatalf("another account lists: %d %+v", code, found)
	}
	var e apiError
	if code := s.call(t, s.keyA, "GET", "/api/v1/knowledge?q=boleto", nil, &e); code != 400 || !strings.Contains(e.Error.Message, "sector") {
		t.Fatalf("search without sector: %d %+v", code, e)
	}
	if code := s.call(t, s.keyA, "PUT", "/api/v1/knowledge", map[string]string{"sector": "x"}, &e); code != 400 {
		t.Fatalf("incomplete article: %d %+v", code, e)
	}
}
