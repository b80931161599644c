package api

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
)

// inboxLogin logs an attendant in through the login form and returns the
// browser (cookies kept, redirects not followed).
func inboxLogin(t *testing.T, s *testServer, company, email, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(s.URL + "/inbox/login")
	if err != nil {
		t.Fatal(err)
	}
	var csrf string
	for _, c := range resp.Cookies() {
		if c.Name == loginCSRFCookie {
			csrf = c.Value
		}
	}
	resp, err = client.PostForm(s.URL+"/inbox/login", url.Values{"empresa": {company}, "email": {email}, "senha": {password}, "csrf": {csrf}})
	if err != nil || resp.StatusCode != http.StatusSeeOther || strings.Contains(resp.Header.Get("Location"), "erro") {
		t.Fatalf("login: %v %v", err, resp)
	}
	return client
}

// A visitor who types a known customer's e-mail in the webchat stays their
// own contact; the card shows the claim as unverified, with who holds it,
// and the attendant's one click merges them — recorded as the attendant's.
func TestAWebchatClaimIsShownAndMergedByAnAttendant(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	inboxFixture(t, s, newTelegramAPI(t)) // Rui Costa on Telegram, attendant ana@acme.com
	rui, _ := s.store.FindByIdentity(ctx, s.acctA, memory.Identity{Kind: memory.KindTelegram, Value: "777"})
	if _, err := s.store.LinkIdentifier(ctx, s.acctA, rui.ID, memory.KindEmail, "rui@exemplo.com.br", memory.AuthorContact); err != nil {
		t.Fatal(err)
	}
	wc := s.channel(t, channels.NewChannel{Kind: channels.KindWebchat, Name: "Site"})
	var sess struct {
		VisitorID string `json:"visitor_id"`
		Token     string `json:"token"`
	}
	if code := s.call(t, "", "POST", "/webchat/"+wc.ID.String()+"/sessions", map[string]string{"name": "Rui", "email": "Rui@Exemplo.com.br"}, &sess); code != 200 {
		t.Fatalf("session: %d", code)
	}
	visitor, err := s.store.FindByIdentity(ctx, s.acctA, memory.Identity{Kind: memory.KindWebchat, Value: sess.VisitorID})
	if err != nil || visitor.ID == rui.ID {
		t.Fatalf("the claim merged the visitor into Rui: %+v %v", visitor, err)
	}
	ing := channels.NewIngestor(s.pool, s.store, nil)
	if _, err := ing.Ingest(ctx, wc, channels.Batch{Messages: []channels.Inbound{{ExternalID: "w1", Type: "text", Text: "quero falar com alguém", At: time.Now(),
		From: channels.Sender{Identities: []memory.Identity{{Kind: memory.KindWebchat, Value: sess.VisitorID}}}}}}); err != nil {
		t.Fatal(err)
	}
	msg, _, _ := s.store.LastInbound(ctx, s.acctA, visitor.ID, "webchat")
	var card handoff.Handoff
	if err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		card, err = s.handoffs.Open(ctx, tx, handoff.Request{AccountID: s.acctA, ContactID: visitor.ID, ConversationID: *msg.ConversationID,
			Source: "customer", Reason: "asked_for_person", Sector: "support", Like: "support", Team: "suporte", SLA: 15 * time.Minute, Channel: "webchat"})
		return err
	}); err != nil {
		t.Fatal(err)
	}

	if card.OwnerID == nil {
		t.Fatalf("the card has an owner: %+v", card)
	}
	if _, err := s.handoffs.PutAttendant(ctx, s.acctA, handoff.NewAttendant{Email: "bia@acme.com", Name: "Bia", Password: "senha-da-bia-1"}); err != nil {
		t.Fatal(err)
	}
	bia := inboxLogin(t, s, "acme", "bia@acme.com", "senha-da-bia-1")
	biaPage, _ := bia.Get(s.URL + "/inbox/handoffs/" + card.ID.String())
	biaHTML, _ := io.ReadAll(biaPage.Body)
	biaCSRF := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(biaHTML))
	resp, err := bia.PostForm(s.URL+"/inbox/contacts/"+visitor.ID.String()+"/claims/merge",
		url.Values{"csrf": {biaCSRF[1]}, "handoff_id": {card.ID.String()}, "field": {memory.FieldClaimedEmail}})
	if err != nil || !strings.Contains(resp.Header.Get("Location"), "erro=") {
		t.Fatalf("an agent who does not own the card merged: %v %v", err, resp.Header.Get("Location"))
	}
	if still, _ := s.store.Contact(ctx, s.acctA, visitor.ID); still.MergedInto != nil {
		t.Fatal("an agent who does not own the card merged the contacts")
	}

	browser := inboxLogin(t, s, "acme", "ana@acme.com", "senha-da-ana-1")
	page, err := browser.Get(s.URL + "/inbox/handoffs/" + card.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(page.Body)
	html := string(raw)
	if !strings.Contains(html, "E-mail informado (não verificado)") || !strings.Contains(html, "rui@exemplo.com.br") || !strings.Contains(html, "Unir a Rui Costa") {
		t.Fatalf("the card does not show the unverified claim and the merge:\n%s", html)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(html)
	resp, err = browser.PostForm(s.URL+"/inbox/contacts/"+visitor.ID.String()+"/claims/merge",
		url.Values{"csrf": {csrf[1]}, "handoff_id": {card.ID.String()}, "field": {memory.FieldClaimedEmail}})
	if err != nil || resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "ok=") {
		t.Fatalf("merge: %v %v", err, resp.Header.Get("Location"))
	}
	merged, _ := s.store.Contact(ctx, s.acctA, visitor.ID)
	if merged.MergedInto == nil || *merged.MergedInto != rui.ID {
		t.Fatalf("the visitor was not merged into Rui: %+v", merged)
	}
	var reason string
	if err := s.pool.QueryRow(ctx, `SELECT reason FROM merges WHERE account_id = $1 AND merged_id = $2`, s.acctA, visitor.ID).Scan(&reason); err != nil || !strings.Contains(reason, "ana@acme.com") {
		t.Fatalf("the merge is not recorded as the attendant's: %q %v", reason, err)
	}
	survivor, _ := s.store.Contact(ctx, s.acctA, rui.ID)
	if _, ok := survivor.Fields.Get(memory.FieldClaimedEmail); ok {
		t.Fatalf("the claim outlived the merge: %+v", survivor.Fields.Map())
	}
}
