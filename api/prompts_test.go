package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/memory"
)

type promptBody struct {
	Name, Version, Text, Source string
	Active                      bool
}

func TestPromptVersionsThroughTheAPI(t *testing.T) {
	s := newTestServer(t)
	var list struct{ Prompts []promptBody }
	if code := s.call(t, s.keyA, "GET", "/api/v1/prompts", nil, &list); code != http.StatusOK {
		t.Fatalf("list: %d", code)
	}
	var embedded promptBody
	for _, p := range list.Prompts {
		if p.Name == "sectors.billing" {
			embedded = p
		}
	}
	if embedded.Source != "embedded" || !embedded.Active || !strings.HasPrefix(embedded.Version, "sectors.billing@") {
		t.Fatalf("the built-in billing prompt: %+v", embedded)
	}

	newText := embedded.Text + "\nOfereça sempre o PIX com a chave CNPJ."
	var v2 promptBody
	if code := s.call(t, s.keyA, "POST", "/api/v1/prompts/sectors.billing/versions", map[string]any{"text": newText, "note": "pix", "author": "ana"}, &v2); code != http.StatusCreated || v2.Active {
		t.Fatalf("create: %d %+v", code, v2)
	}
	if code := s.call(t, s.keyA, "POST", "/api/v1/prompts/sectors.billing/versions", map[string]any{"text": newText}, &v2); code != http.StatusOK {
		t.Fatalf("the same text again is the same version (200): %d", code)
	}
	var diff struct{ From, To, Diff string }
	s.call(t, s.keyA, "GET", "/api/v1/prompts/sectors.billing/diff?from="+url.QueryEscape(embedded.Version)+"&to="+url.QueryEscape(v2.Version), nil, &diff)
	if diff.Diff == "" || !strings.Contains(diff.Diff, "+ Ofereça sempre o PIX com a chave CNPJ.") || strings.Contains(diff.Diff, "\n- ") {
		t.Fatalf("diff: %q", diff.Diff)
	}
	var active promptBody
	if code := s.call(t, s.keyA, "POST", "/api/v1/prompts/sectors.billing/versions/"+url.PathEscape(v2.Version)+"/activate", nil, &active); code != http.StatusOK || active.Version != v2.Version || !active.Active {
		t.Fatalf("activate: %d %+v", code, active)
	}
	var versions struct{ Versions []promptBody }
	s.call(t, s.keyA, "GET", "/api/v1/prompts/sectors.billing/versions", nil, &versions)
	if len(versions.Versions) != 2 || !versions.Versions[0].Active || versions.Versions[1].Active {
		t.Fatalf("versions: %+v", versions.Versions)
	}
	// Account B still has the built-in one.
	s.call(t, s.keyB, "GET", "/api/v1/prompts/sectors.billing/versions", nil, &versions)
	if len(versions.Versions) != 1 || versions.Versions[0].Version != embedded.Version {
		t.Fatalf("another account's versions leaked: %+v", versions.Versions)
	}

	var e apiError
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/api/v1/prompts/Sales/versions", map[string]any{"text": "x"}, http.StatusUnprocessableEntity},
		{"POST", "/api/v1/prompts/sectors.sales/versions", map[string]any{"text": strings.Repeat("x", 40<<10)}, http.StatusUnprocessableEntity},
		{"POST", "/api/v1/prompts/sectors.sales/versions", "{", http.StatusBadRequest},
		{"POST", "/api/v1/prompts/sectors.sales/versions/sectors.sales@000000000000/activate", nil, http.StatusNotFound},
		{"POST", "/api/v1/prompts/sectors.sales/versions/" + url.PathEscape(v2.Version) + "/activate", nil, http.StatusBadRequest},
		{"GET", "/api/v1/prompts/sectors.nada/versions", nil, http.StatusNotFound},
		{"GET", "/api/v1/prompts/sectors.billing/diff", nil, http.StatusBadRequest},
		{"POST", "/api/v1/prompts/sectors.billing/versions/" + url.PathEscape(v2.Version) + "/activate", nil, http.StatusNotFound},
	} {
		key := s.keyA
		if strings.HasSuffix(tc.path, "/activate") && tc.status == http.StatusNotFound && strings.Contains(tc.path, "billing") {
			key = s.keyB // account B has no such version
		}
		if code := s.call(t, key, tc.method, tc.path, tc.body, &e); code != tc.status || e.Error.Message == "" {
			t.Errorf("%s %s: %d %+v, want %d with a message", tc.method, tc.path, code, e, tc.status)
		}
	}
}

func TestReassignKeepsTheCorrectionAsAnExample(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	ch, err := s.channels.Create(ctx, s.acctA, channels.NewChannel{Kind: channels.KindTelegram, Name: "bot", Secrets: map[string]string{"bot_token": "1:x"}})
	if err != nil {
		t.Fatal(err)
	}
	ing := channels.NewIngestor(s.pool, s.store, nil)
	if _, err := ing.Ingest(ctx, ch, channels.Batch{Messages: []channels.Inbound{{ExternalID: "m1", Type: "text", Text: "a catraca não libera minha entrada", At: time.Now(),
		From: channels.Sender{Name: "Rui", Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "99"}}}}}}); err != nil {
		t.Fatal(err)
	}
	var conv string
	if err := s.pool.QueryRow(ctx, `SELECT id::text FROM conversations WHERE account_id = $1`, s.acctA).Scan(&conv); err != nil {
		t.Fatal(err)
	}
	var r struct{ From, To, By, Example string }
	if code := s.call(t, s.keyA, "POST", "/api/v1/conversations/"+conv+"/sector", map[string]any{"sector": "support", "by": "ana@loja"}, &r); code != http.StatusOK ||
		r.To != "support" || r.Example != "a catraca não libera minha entrada" {
		t.Fatalf("reassign: %d %+v", code, r)
	}
	var n int
	_ = s.pool.QueryRow(ctx, `SELECT count(*) FROM routing_examples WHERE account_id = $1 AND sector = 'support' AND created_by = 'ana@loja'`, s.acctA).Scan(&n)
	if n != 1 {
		t.Fatalf("the correction must become one routing example, got %d", n)
	}
	var e apiError
	if code := s.call(t, s.keyA, "POST", "/api/v1/conversations/"+conv+"/sector", map[string]any{"sector": "marketing", "by": "ana"}, &e); code != http.StatusUnprocessableEntity {
		t.Fatalf("unknown sector: %d %+v", code, e)
	}
	if code := s.call(t, s.keyB, "POST", "/api/v1/conversations/"+conv+"/sector", map[string]any{"sector": "sales", "by": "x"}, &e); code != http.StatusNotFound {
		t.Fatalf("another account's conversation: %d %+v", code, e)
	}
	if code := s.call(t, s.keyA, "POST", "/api/v1/conversations/nope/sector", map[string]any{"sector": "sales", "by": "x"}, &e); code != http.StatusBadRequest {
		t.Fatalf("bad id: %d", code)
	}
}
