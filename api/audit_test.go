package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/atende/atende/audit"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/browser"
	"github.com/atende/atende/memory"
)

// Who did what: an API key's field edit is the key's (by its name) on the
// trail and the integration's on the timeline — not "the team's"; a refused
// edit is recorded as refused; another account sees none of it (issue 14).
func TestTheAuditTrailNamesTheAPIKey(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	c, err := s.store.CreateContact(ctx, s.acctA, memory.NewContact{Name: "Rui Costa"})
	if err != nil {
		t.Fatal(err)
	}
	id := c.Contact.ID.String()
	if code := s.call(t, s.keyA, "PATCH", "/api/v1/contacts/"+id+"/fields", map[string]any{"fields": map[string]any{"order_number": "48213"}}, nil); code != 200 {
		t.Fatalf("edit: %d", code)
	}
	if code := s.call(t, s.keyA, "PATCH", "/api/v1/contacts/"+id+"/fields", map[string]any{"fields": map[string]any{"Not Snake": 1}}, nil); code != 400 {
		t.Fatalf("a bad edit: %d", code)
	}
	var page struct {
		Entries []audit.Entry `json:"entries"`
	}
	if code := s.call(t, s.keyA, "GET", "/api/v1/audit?action=contact.", nil, &page); code != 200 {
		t.Fatalf("list: %d", code)
	}
	if len(page.Entries) != 2 {
		t.Fatalf("entries: %+v", page.Entries)
	}
	refused, done := page.Entries[0], page.Entries[1] // newest first
	if done.Action != "contact.fields.update" || done.ActorKind != audit.ActorAPIKey || done.ActorName != "test" || done.Subject != id ||
		done.Outcome != audit.OutcomeOK || refused.Outcome != audit.OutcomeRefused || refused.Status != 400 {
		t.Fatalf("the trail: %+v", page.Entries)
	}
	if code := s.call(t, s.keyB, "GET", "/api/v1/audit", nil, &page); code != 200 || len(page.Entries) != 0 {
		t.Fatalf("another account's trail: %d %+v", code, page.Entries)
	}
	if code := s.call(t, s.keyA, "GET", "/api/v1/audit?from=ontem", nil, nil); code != 400 {
		t.Fatalf("a bad date: %d", code)
	}
	timeline, err := s.store.Timeline(ctx, s.acctA, c.Contact.ID, nil, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range timeline.Events {
		if e.Kind == memory.EventFieldChange && e.Author != memory.AuthorAPI {
			t.Fatalf("a field edited through an API key is on the timeline as %q", e.Author)
		}
	}
}

// Logins are on the trail, failed ones too (with the e-mail typed, never the
// password); an administrator reads the trail in the inbox, an agent cannot.
func TestTheAuditTrailInTheInbox(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	if _, err := s.handoffs.PutAttendant(ctx, s.acctA, handoff.NewAttendant{Email: "ana@acme.com", Name: "Ana Souza", Password: "senha-da-ana-1", Role: handoff.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.handoffs.PutAttendant(ctx, s.acctA, handoff.NewAttendant{Email: "bia@acme.com", Name: "Bia Lima", Password: "senha-da-bia-1"}); err != nil {
		t.Fatal(err)
	}
	// a wrong password first
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := loginForm(t, s, client)
	resp, err := client.PostForm(s.URL+"/inbox/login", url.Values{"empresa": {"acme"}, "email": {"bia@acme.com"}, "senha": {"chute-errado-1"}, "csrf": {csrf}})
	if err != nil || !strings.Contains(resp.Header.Get("Location"), "erro") {
		t.Fatalf("a wrong password: %v %v", err, resp.Header.Get("Location"))
	}
	bia := inboxLogin(t, s, "acme", "bia@acme.com", "senha-da-bia-1")
	if resp, _ := bia.Get(s.URL + "/inbox/auditoria"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an agent reading the trail: %d", resp.StatusCode)
	}
	list, err := audit.NewStore(s.pool).List(ctx, s.acctA, audit.Filter{Action: "login"})
	if err != nil || len(list) != 2 || list[1].Outcome != audit.OutcomeRefused || list[1].ActorName != "bia@acme.com" ||
		list[0].Outcome != audit.OutcomeOK || list[0].ActorName != "Bia Lima" {
		t.Fatalf("logins on the trail: %+v %v", list, err)
	}
	for _, e := range list {
		raw, _ := json.Marshal(e)
		if strings.Contains(string(raw), "chute") {
			t.Fatalf("a password on the trail: %+v", e)
		}
	}
	bctx := browser.New(t)
	bctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(bctx, loginAt(s, "/inbox/auditoria", "ana@acme.com", "senha-da-ana-1", chromedp.WaitVisible(chromedp.CSS("table.audit-list tbody tr")))...); err != nil {
		t.Fatalf("open the trail: %v", err)
	}
	text, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('table.audit-list').innerText`))
	for _, want := range []string{"Ana Souza", "Bia Lima", "bia@acme.com", "entrou na caixa", "recusado", "feito"} {
		if !strings.Contains(text, want) {
			t.Errorf("the trail page lacks %q:\n%s", want, text)
		}
	}
	if png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot()); err == nil {
		_ = os.WriteFile(filepath.Join(artifactsDir(t), "inbox-audit.png"), png, 0o644)
	}
}
