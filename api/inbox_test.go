package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/browser"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/notify"
	"github.com/atende/atende/memory"
)

// telegramAPI is a local Telegram Bot API that records sendMessage texts.
type telegramAPI struct {
	*httptest.Server
	mu    sync.Mutex
	texts []string
}

func newTelegramAPI(t *testing.T) *telegramAPI {
	tg := &telegramAPI{}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Text string `json:"text"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		tg.mu.Lock()
		tg.texts = append(tg.texts, body.Text)
		tg.mu.Unlock()
		_, _ = w.Write([]byte(`{"ok":true,"result":{"message_id":77}}`))
	}))
	t.Cleanup(tg.Close)
	return tg
}

func (tg *telegramAPI) sent() []string {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return append([]string(nil), tg.texts...)
}

// inboxFixture: an attendant, a Telegram customer who asked for a person,
// and the open card.
func inboxFixture(t *testing.T, s *testServer, tg *telegramAPI) handoff.Handoff {
	t.Helper()
	ctx := context.Background()
	if _, err := s.handoffs.PutAttendant(ctx, s.acctA, handoff.NewAttendant{Email: "ana@acme.com", Name: "Ana Souza", Password: "senha-da-ana-1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.handoffs.PutTeams(ctx, s.acctA, []handoff.Team{{Name: "suporte", Members: []string{"ana@acme.com"}}}); err != nil {
		t.Fatal(err)
	}
	ch := s.channel(t, channels.NewChannel{Kind: channels.KindTelegram, Name: "Bot da loja", Settings: map[string]string{"base_url": tg.URL},
		Secrets: map[string]string{"bot_token": "1:x"}})
	ing := channels.NewIngestor(s.pool, s.store, nil)
	if _, err := ing.Ingest(ctx, ch, channels.Batch{Messages: []channels.Inbound{
		{ExternalID: "1", Type: "text", Text: "meu fone parou de carregar, pedido 48213", At: time.Now().Add(-2 * time.Minute),
			From: channels.Sender{Name: "Rui Costa", Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "777"}}}},
		{ExternalID: "2", Type: "text", Text: "quero falar com uma pessoa", At: time.Now().Add(-time.Minute),
			From: channels.Sender{Name: "Rui Costa", Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "777"}}}},
	}}); err != nil {
		t.Fatal(err)
	}
	c, _ := s.store.FindByIdentity(ctx, s.acctA, memory.Identity{Kind: memory.KindTelegram, Value: "777"})
	msg, _, _ := s.store.LastInbound(ctx, s.acctA, c.ID, "telegram")
	var h handoff.Handoff
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		h, err = s.handoffs.Open(ctx, tx, handoff.Request{AccountID: s.acctA, ContactID: c.ID, ConversationID: *msg.ConversationID,
			Source: "customer", Reason: "asked_for_person", Sector: "support", Like: "support", Team: "suporte", SLA: 15 * time.Minute, Channel: "telegram"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func artifactsDir(t *testing.T) string {
	dir := os.Getenv("ATENDE_ARTIFACTS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", ".atende", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestInboxInARealBrowser: log in, see the card with its countdown in the
// queue, open it, read the timeline, reply (it reaches Telegram), resolve.
func TestInboxInARealBrowser(t *testing.T) {
	s := newTestServer(t)
	s.startSendWorkers(t)
	tg := newTelegramAPI(t)
	card := inboxFixture(t, s, tg)
	ctx := browser.New(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, loginAt(s, "/inbox", "ana@acme.com", "senha-da-ana-1", chromedp.WaitVisible(chromedp.CSS("ol.cards li.card")))...)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	countdown, err := chromedp.Run(ctx, chromedp.Poll[string](`(function(){var e=document.querySelector('li.card .sla');return e&&e.textContent.indexOf('faltam')===0?e.textContent:false})()`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil || !strings.HasPrefix(countdown, "faltam 1") {
		t.Fatalf("the queue shows the card's live countdown (about 14 minutes left): %q %v", countdown, err)
	}
	queueText, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('li.card').innerText`))
	if !strings.Contains(queueText, "Rui Costa") || !strings.Contains(queueText, "Pediu uma pessoa") || !strings.Contains(queueText, "com Ana Souza") {
		t.Fatalf("queue card: %q", queueText)
	}
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		_ = os.WriteFile(filepath.Join(artifactsDir(t), "inbox-queue.png"), png, 0o644)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("li.card a")),
		chromedp.WaitVisible(chromedp.CSS("#timeline .events")),
	)
	if err != nil {
		t.Fatalf("open the card: %v", err)
	}
	page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
	for _, want := range []string{"meu fone parou de carregar, pedido 48213", "quero falar com uma pessoa", "Próxima ação", "Retornar o contato", "Cliente", "Telegram · Bot da loja"} {
		if !strings.Contains(page, want) {
			t.Errorf("the card page lacks %q", want)
		}
	}
	// The customer writes while the card is open: it appears live (SSE) —
	// stored here by another replica, whose hub tells this one's.
	c, _ := s.store.FindByIdentity(context.Background(), s.acctA, memory.Identity{Kind: memory.KindTelegram, Value: "777"})
	ch, _ := s.channels.Get(context.Background(), s.acctA, tgChannel(t, s, c.ID))
	replica := notify.New(s.pool)
	replicaCtx, stopReplica := context.WithCancel(context.Background())
	defer stopReplica()
	go func() { _ = replica.Run(replicaCtx) }()
	if _, err := channels.NewIngestor(s.pool, s.store, nil).WithWakes(replica).Ingest(context.Background(), ch, channels.Batch{Messages: []channels.Inbound{{ExternalID: "3",
		Type: "text", Text: "alguém aí? o fone é para o trabalho", At: time.Now(),
		From: channels.Sender{Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "777"}}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#timeline').innerText.indexOf('o fone é para o trabalho') >= 0`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("a new message must appear without reloading: %v", err)
	}
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		path := filepath.Join(artifactsDir(t), "inbox-card.png")
		_ = os.WriteFile(path, png, 0o644)
		t.Logf("screenshots in %s", filepath.Dir(path))
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("form.reply textarea"), "Oi, Rui! Sou a Ana. Vamos trocar o fone do pedido 48213."),
		chromedp.Click(chromedp.CSS("form.reply button")),
		chromedp.WaitVisible(chromedp.CSS("p.flash")),
	)
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(tg.sent()) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := tg.sent(); len(got) != 1 || got[0] != "Oi, Rui! Sou a Ana. Vamos trocar o fone do pedido 48213." {
		t.Fatalf("the reply at Telegram: %q", got)
	}
	timeline, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#timeline').innerText`))
	if !strings.Contains(timeline, "Vamos trocar o fone") || !strings.Contains(timeline, "Equipe") {
		t.Fatalf("the reply on the timeline, by the team: %q", timeline)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("button.resolve")),
		chromedp.WaitVisible(chromedp.CSS("main.queue")),
	)
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	got, _ := s.handoffs.Get(context.Background(), s.acctA, card.ID)
	if got.Status != handoff.StatusResolved || got.FirstResponseAt == nil {
		t.Fatalf("after resolving: %+v", got)
	}
	deadline = time.Now().Add(15 * time.Second)
	for len(tg.sent()) < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := tg.sent(); len(got) != 2 || !strings.Contains(got[1], "de 1 a 5") {
		t.Fatalf("CSAT asked on Telegram: %q", got)
	}
}

// Without a session the inbox redirects to the login; without the CSRF token
// no form is accepted; the session cookie is HttpOnly and SameSite.
func TestInboxSessionsAndCSRF(t *testing.T) {
	s := newTestServer(t)
	tg := newTelegramAPI(t)
	card := inboxFixture(t, s, tg)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(s.URL + "/inbox/handoffs/" + card.ID.String())
	if err != nil || resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/inbox/login?next=") {
		t.Fatalf("no session: %v %v", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = client.Get(s.URL + "/inbox/login")
	var loginCSRF string
	for _, c := range resp.Cookies() {
		if c.Name == loginCSRFCookie {
			loginCSRF = c.Value
		}
	}
	form := url.Values{"empresa": {"acme"}, "email": {"ana@acme.com"}, "senha": {"errada-errada"}, "csrf": {loginCSRF}}
	resp, _ = client.PostForm(s.URL+"/inbox/login", form)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "erro=1") {
		t.Fatalf("a wrong password: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	form.Set("senha", "senha-da-ana-1")
	form.Set("csrf", "forged")
	if resp, _ = client.PostForm(s.URL+"/inbox/login", form); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a login without the form's token: %d", resp.StatusCode)
	}
	form.Set("csrf", loginCSRF)
	resp, _ = client.PostForm(s.URL+"/inbox/login", form)
	var sessionSet *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			sessionSet = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || sessionSet == nil || !sessionSet.HttpOnly || sessionSet.SameSite != http.SameSiteLaxMode {
		t.Fatalf("login: %d %+v", resp.StatusCode, sessionSet)
	}
	resp, _ = client.PostForm(s.URL+"/inbox/handoffs/"+card.ID.String()+"/resolve", url.Values{"csrf": {"nope"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a form without the session's CSRF token: %d", resp.StatusCode)
	}
	if got, _ := s.handoffs.Get(context.Background(), s.acctA, card.ID); got.Status == handoff.StatusResolved {
		t.Fatal("a forged form resolved the card")
	}
	resp, _ = client.Get(s.URL + "/inbox/handoffs/" + uuid.NewString())
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown card: %d", resp.StatusCode)
	}
	if resp, _ = client.Get(s.URL + "/inbox?dono=eu"); resp.StatusCode != http.StatusOK {
		t.Fatalf("queue: %d", resp.StatusCode)
	}
	// An agent cannot take a colleague's card; the card stays with its owner.
	bia, err := s.handoffs.PutAttendant(context.Background(), s.acctA, handoff.NewAttendant{Email: "bia@acme.com", Name: "Bia", Password: "senha-da-bia-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.handoffs.Reassign(context.Background(), s.acctA, card.ID, handoff.Attendant{Role: handoff.RoleAdmin}, &bia.ID); err != nil {
		t.Fatal(err)
	}
	page, _ := client.Get(s.URL + "/inbox/handoffs/" + card.ID.String())
	raw, _ := io.ReadAll(page.Body)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(raw)
	if csrf == nil {
		t.Fatal("no CSRF token on the card page")
	}
	resp, _ = client.PostForm(s.URL+"/inbox/handoffs/"+card.ID.String()+"/claim", url.Values{"csrf": {string(csrf[1])}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "erro=") {
		t.Fatalf("an agent claiming a colleague's card: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got, _ := s.handoffs.Get(context.Background(), s.acctA, card.ID); got.OwnerID == nil || *got.OwnerID != bia.ID {
		t.Fatalf("the card changed hands: %+v", got)
	}
}

// tgChannel is the Telegram channel the contact wrote on.
func tgChannel(t *testing.T, s *testServer, contact uuid.UUID) uuid.UUID {
	t.Helper()
	msg, ok, err := s.store.LastInbound(context.Background(), s.acctA, contact, "telegram")
	if err != nil || !ok {
		t.Fatal("no telegram message")
	}
	var p struct {
		ChannelID uuid.UUID `json:"channel_id"`
	}
	if err := json.Unmarshal(msg.Payload, &p); err != nil {
		t.Fatal(err)
	}
	return p.ChannelID
}
