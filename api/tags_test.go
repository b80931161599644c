package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/conversations"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
)

type tagJSON struct {
	Name    string `json:"name"`
	Key     string `json:"key"`
	AddedBy string `json:"added_by"`
}

func tagNames(list []tagJSON) string {
	names := make([]string, len(list))
	for i, t := range list {
		names[i] = t.Name
	}
	return strings.Join(names, ",")
}

// tagsOf is GET {path}/tags with account A's key.
func (s *testServer) tagsOf(t *testing.T, path string) string {
	t.Helper()
	var got struct{ Tags []tagJSON }
	if code := s.call(t, s.keyA, "GET", path+"/tags", nil, &got); code != http.StatusOK {
		t.Fatalf("GET %s/tags: %d", path, code)
	}
	return tagNames(got.Tags)
}

// tagDeliveries are the tag webhooks recorded for account A, oldest first,
// as "event tag by [conversation]".
func (s *testServer) tagDeliveries(t *testing.T) []string {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT event, payload FROM webhook_deliveries
		WHERE account_id = $1 AND event IN ('tag.added', 'tag.removed') ORDER BY id`, s.acctA)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var event string
		var p struct {
			ContactID      string  `json:"contact_id"`
			ConversationID *string `json:"conversation_id"`
			Tag, By        string
		}
		var raw []byte
		if err := rows.Scan(&event, &raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &p); err != nil || p.ContactID == "" {
			t.Fatalf("a tag webhook without its contact: %s", raw)
		}
		line := event + " " + p.Tag + " " + p.By
		if p.ConversationID != nil {
			line += " conversation"
		}
		out = append(out, line)
	}
	return out
}

func tagTexts(events []eventJSON) []string {
	var out []string
	for _, e := range events {
		if e.Kind == string(memory.EventTag) {
			out = append(out, e.Author+": "+e.Text)
		}
	}
	return out
}

// Tags by API on a contact and on a conversation: add, add again (any
// casing: nothing written), replace, remove; bad input is a 400 that says
// why and writes nothing; another account's ids are 404; each change is one
// timeline event by "api" and one webhook; the handoff list filters by tag.
func TestTagsThroughTheAPI(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	if code := s.call(t, s.keyA, "POST", "/api/v1/webhooks", map[string]any{"url": "http://127.0.0.1:1/hook",
		"events": []string{"tag.added", "tag.removed"}}, nil); code != http.StatusCreated {
		t.Fatalf("subscribe: %d", code)
	}
	var contact contactJSON
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{"name": "Lia Prado"}, &contact); code != http.StatusCreated {
		t.Fatalf("create contact: %d", code)
	}
	var conv conversations.Conversation
	if err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		conv, err = conversations.NewStore(s.pool).TouchTx(ctx, tx, s.acctA, mustUUID(t, contact.ID), "telegram", time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	cp, vp := "/api/v1/contacts/"+contact.ID, "/api/v1/conversations/"+conv.ID.String()

	for _, step := range []struct {
		name, method, path string
		body               any
		code               int
		says               string // in the error message
		contactTags        string // after the step
	}{
		{name: "add", method: "POST", path: cp + "/tags", body: map[string]string{"tag": " VIP "}, code: 201, contactTags: "VIP"},
		{name: "add again, other casing", method: "POST", path: cp + "/tags", body: map[string]string{"tag": "vip"}, code: 200, contactTags: "VIP"},
		{name: "add another", method: "POST", path: cp + "/tags", body: map[string]string{"tag": "Reclamação"}, code: 201, contactTags: "Reclamação,VIP"},
		{name: "replace", method: "PUT", path: cp + "/tags", body: map[string]any{"tags": []string{"vip", "pós-venda", "Pós-Venda"}}, code: 200, contactTags: "pós-venda,VIP"},
		{name: "replace with the same", method: "PUT", path: cp + "/tags", body: map[string]any{"tags": []string{"VIP", "pós-venda"}}, code: 200, contactTags: "pós-venda,VIP"},
		{name: "remove", method: "DELETE", path: cp + "/tags/VIP", code: 204, contactTags: "pós-venda"},
		{name: "remove again", method: "DELETE", path: cp + "/tags/vip", code: 204, contactTags: "pós-venda"},
		{name: "empty", method: "POST", path: cp + "/tags", body: map[string]string{"tag": "   "}, code: 400, says: "cannot be empty", contactTags: "pós-venda"},
		{name: "too long", method: "POST", path: cp + "/tags", body: map[string]string{"tag": strings.Repeat("x", 41)}, code: 400, says: "at most 40 characters", contactTags: "pós-venda"},
		{name: "control character", method: "POST", path: cp + "/tags", body: map[string]string{"tag": "vi\u0007p"}, code: 400, says: "control characters", contactTags: "pós-venda"},
		{name: "slash", method: "POST", path: cp + "/tags", body: map[string]string{"tag": "a/b"}, code: 400, says: "cannot contain /", contactTags: "pós-venda"},
		{name: "no tag", method: "POST", path: cp + "/tags", body: map[string]string{}, code: 400, says: `{"tag"`, contactTags: "pós-venda"},
		{name: "not JSON", method: "POST", path: cp + "/tags", body: "vip", code: 400, says: "invalid JSON", contactTags: "pós-venda"},
		{name: "replace with one bad", method: "PUT", path: cp + "/tags", body: map[string]any{"tags": []string{"novo", "linha\nquebrada"}}, code: 400, says: "tags[1]", contactTags: "pós-venda"},
		{name: "replace without tags", method: "PUT", path: cp + "/tags", body: map[string]any{}, code: 400, says: `{"tags"`, contactTags: "pós-venda"},
		{name: "remove by its URL-encoded name", method: "DELETE", path: cp + "/tags/" + url.PathEscape("PÓS-VENDA"), code: 204, contactTags: ""},
		{name: "add to the conversation", method: "POST", path: vp + "/tags", body: map[string]string{"tag": "urgente"}, code: 201, contactTags: ""},
		{name: "and again", method: "POST", path: vp + "/tags", body: map[string]string{"tag": "URGENTE"}, code: 200, contactTags: ""},
		{name: "the contact is VIP again", method: "PUT", path: cp + "/tags", body: map[string]any{"tags": []string{"vip"}}, code: 200, contactTags: "VIP"},
		{name: "unknown contact", method: "POST", path: "/api/v1/contacts/" + uuid.NewString() + "/tags", body: map[string]string{"tag": "vip"}, code: 404, contactTags: "VIP"},
		{name: "malformed id", method: "GET", path: "/api/v1/conversations/nope/tags", code: 404, contactTags: "VIP"},
	} {
		var e apiError
		code := s.call(t, s.keyA, step.method, step.path, step.body, nil)
		if code >= 400 {
			s.call(t, s.keyA, step.method, step.path, step.body, &e)
		}
		if code != step.code || !strings.Contains(e.Error.Message, step.says) {
			t.Fatalf("%s: %d %q, want %d saying %q", step.name, code, e.Error.Message, step.code, step.says)
		}
		if got := s.tagsOf(t, cp); got != step.contactTags {
			t.Fatalf("%s: the contact's tags are %q, want %q", step.name, got, step.contactTags)
		}
	}
	if got := s.tagsOf(t, vp); got != "urgente" {
		t.Fatalf("the conversation's tags: %q", got)
	}

	// Another account sees none of it and changes nothing.
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"GET", cp + "/tags", nil}, {"POST", cp + "/tags", map[string]string{"tag": "intruso"}}, {"PUT", cp + "/tags", map[string]any{"tags": []string{}}},
		{"DELETE", cp + "/tags/vip", nil}, {"GET", vp + "/tags", nil}, {"POST", vp + "/tags", map[string]string{"tag": "intruso"}}, {"DELETE", vp + "/tags/urgente", nil},
	} {
		if code := s.call(t, s.keyB, r.method, r.path, r.body, nil); code != http.StatusNotFound {
			t.Errorf("another account's %s %s: %d", r.method, r.path, code)
		}
	}
	if s.tagsOf(t, cp) != "VIP" || s.tagsOf(t, vp) != "urgente" {
		t.Fatal("another account's key changed the tags")
	}
	var catalogB struct{ Tags []map[string]any }
	if s.call(t, s.keyB, "GET", "/api/v1/tags", nil, &catalogB); len(catalogB.Tags) != 0 {
		t.Fatalf("another account lists our tags: %v", catalogB.Tags)
	}

	// The account's tags, with their counts (a tag nobody carries counts zero).
	var catalog struct {
		Tags []struct {
			Name                    string
			Contacts, Conversations int
		}
	}
	s.call(t, s.keyA, "GET", "/api/v1/tags", nil, &catalog)
	var counts []string
	for _, c := range catalog.Tags {
		counts = append(counts, fmt.Sprintf("%s:%d/%d", c.Name, c.Contacts, c.Conversations))
	}
	if got := strings.Join(counts, " "); got != "pós-venda:0/0 Reclamação:0/0 urgente:0/1 VIP:1/0" {
		t.Fatalf("catalog: %s", got)
	}

	// One event per change, by the API, on the contact's timeline.
	want := []string{
		"api: tag adicionada: VIP (pela API)",
		"api: tag adicionada: Reclamação (pela API)",
		"api: tag removida: Reclamação (pela API)",
		"api: tag adicionada: pós-venda (pela API)",
		"api: tag removida: VIP (pela API)",
		"api: tag removida: pós-venda (pela API)",
		"api: tag adicionada à conversa: urgente (pela API)",
		"api: tag adicionada: VIP (pela API)",
	}
	if got := tagTexts(s.timeline(t, contact.ID)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("tag events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// And one webhook per change, never for a retry.
	wantHooks := []string{"tag.added VIP api", "tag.added Reclamação api", "tag.removed Reclamação api", "tag.added pós-venda api",
		"tag.removed VIP api", "tag.removed pós-venda api", "tag.added urgente api conversation", "tag.added VIP api"}
	if got := s.tagDeliveries(t); strings.Join(got, "\n") != strings.Join(wantHooks, "\n") {
		t.Fatalf("tag webhooks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantHooks, "\n"))
	}

	// The handoff list filters by the contact's tag or the conversation's.
	if err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := s.handoffs.Open(ctx, tx, handoff.Request{AccountID: s.acctA, ContactID: mustUUID(t, contact.ID), ConversationID: conv.ID,
			Source: "customer", Reason: "asked_for_person", Sector: "support", Like: "support", Team: "suporte", SLA: 15 * time.Minute, Channel: "telegram"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for tag, n := range map[string]int{"": 1, "vip": 1, "VIP": 1, "urgente": 1, "pós-venda": 0, "nenhuma": 0, strings.Repeat("x", 60): 0} {
		var list struct{ Handoffs []map[string]any }
		if code := s.call(t, s.keyA, "GET", "/api/v1/handoffs?tag="+url.QueryEscape(tag), nil, &list); code != 200 || len(list.Handoffs) != n {
			t.Errorf("handoffs ?tag=%s: %d, %d cards, want %d", tag, code, len(list.Handoffs), n)
		}
	}
	var listB struct{ Handoffs []map[string]any }
	if s.call(t, s.keyB, "GET", "/api/v1/handoffs?tag=vip", nil, &listB); len(listB.Handoffs) != 0 {
		t.Fatal("another account's queue shows our card")
	}

	// A contact merged into another takes no new tags: they belong on the survivor.
	var other contactJSON
	s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{"name": "Lia (duplicada)"}, &other)
	if _, err := s.store.Merge(ctx, s.acctA, mustUUID(t, contact.ID), mustUUID(t, other.ID), memory.AuthorHuman, "test"); err != nil {
		t.Fatal(err)
	}
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts/"+other.ID+"/tags", map[string]string{"tag": "vip"}, nil); code != http.StatusConflict {
		t.Fatalf("tagging a merged contact: %d", code)
	}
}

// The same tag added at once by many retries is one link, one event, one
// webhook: exactly one request says it was added.
func TestConcurrentTagRetriesAreOneChange(t *testing.T) {
	s := newTestServer(t)
	if code := s.call(t, s.keyA, "POST", "/api/v1/webhooks", map[string]any{"url": "http://127.0.0.1:1/hook", "events": []string{"tag.added"}}, nil); code != http.StatusCreated {
		t.Fatalf("subscribe: %d", code)
	}
	var contact contactJSON
	s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{"name": "Rui"}, &contact)
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = s.call(t, s.keyA, "POST", "/api/v1/contacts/"+contact.ID+"/tags", map[string]string{"tag": []string{"vip", "VIP"}[i%2]}, nil)
		}()
	}
	wg.Wait()
	created := 0
	for _, c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("codes: %v", codes)
		}
	}
	if created != 1 || len(tagTexts(s.timeline(t, contact.ID))) != 1 || len(s.tagDeliveries(t)) != 1 || s.tagsOf(t, "/api/v1/contacts/"+contact.ID) == "" {
		t.Fatalf("%d created (codes %v), events %v, webhooks %v", created, codes, tagTexts(s.timeline(t, contact.ID)), s.tagDeliveries(t))
	}
}
