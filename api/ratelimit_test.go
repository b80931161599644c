package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/fixtures"
)

// fakeClock is the limits' clock in tests: time moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 11, 21, 9, 0, 0, 0, time.UTC)} }

func (f *fakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

// answer is what a client saw.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) code() string {
	var e apiError
	_ = json.Unmarshal(a.body, &e)
	return e.Error.Code
}

// send makes one request and reads the whole answer.
func (s *testServer) send(t *testing.T, method, path string, body []byte, headers map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, raw}
}

// mustBeLimited checks a 429 as the client sees it: Retry-After in whole
// seconds and the API's error body.
func mustBeLimited(t *testing.T, what string, a answer, retry string) {
	t.Helper()
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != retry || a.code() != "rate_limited" {
		t.Fatalf("%s: want 429, Retry-After %s, code rate_limited; got %d, Retry-After %q, %s", what, retry, a.status, a.header.Get("Retry-After"), a.body)
	}
}

func (s *testServer) countContacts(t *testing.T) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM contacts WHERE account_id = $1`, s.acctA).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

type webchatSession struct {
	VisitorID string `json:"visitor_id"`
	Token     string
}

func (s *testServer) webchatSession(t *testing.T, wc channels.Channel, visitor string) webchatSession {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"visitor_id": visitor})
	a := s.send(t, "POST", "/webchat/"+wc.ID.String()+"/sessions", body, nil)
	var sess webchatSession
	if a.status != 200 || json.Unmarshal(a.body, &sess) != nil || sess.Token == "" {
		t.Fatalf("webchat session: %d %s", a.status, a.body)
	}
	return sess
}

// A script opening sessions from one address gets the burst (60 new
// visitors, as many contacts) and then 429s that the widget can read, and
// no more contacts; a second later one more session is let in.
func TestWebchatSessionFloodFromOneAddress(t *testing.T) {
	clock := newFakeClock()
	s := newTestServerLimits(t, RateLimits{Now: clock.now})
	wc := s.channel(t, channels.NewChannel{Kind: channels.KindWebchat, Name: "site"})
	path := "/webchat/" + wc.ID.String() + "/sessions"
	before := s.countContacts(t)

	const flood = 80
	answers := make([]answer, flood)
	var wg sync.WaitGroup
	for i := range flood {
		wg.Go(func() {
			answers[i] = s.send(t, "POST", path, []byte(`{}`), nil)
		})
	}
	wg.Wait()
	ok, limited := 0, 0
	for _, a := range answers {
		switch a.status {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited++
			mustBeLimited(t, "a session over the burst", a, "1")
			if a.header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(a.header.Get("Access-Control-Expose-Headers"), "Retry-After") {
				t.Fatalf("the widget (another origin) cannot read the 429: %v", a.header)
			}
		default:
			t.Fatalf("session: %d %s", a.status, a.body)
		}
	}
	if ok != 60 || limited != flood-60 {
		t.Fatalf("want the burst of 60 sessions and %d refused: %d ok, %d refused", flood-60, ok, limited)
	}
	if n := s.countContacts(t) - before; n != 60 {
		t.Fatalf("a refused session made a contact: %d contacts for 60 sessions", n)
	}

	clock.advance(time.Second)
	if a := s.send(t, "POST", path, []byte(`{}`), nil); a.status != http.StatusOK {
		t.Fatalf("a second later one session passes: %d %s", a.status, a.body)
	}
	mustBeLimited(t, "and only one", s.send(t, "POST", path, []byte(`{}`), nil), "1")
}

// One visitor flooding messages gets its burst of 20 and then 429s; every
// message acknowledged is on the timeline, none refused is. A stranger
// posting with the visitor's id but no session does not use up its share,
// and another visitor behind the same address still gets through.
func TestWebchatMessageFloodFromOneVisitor(t *testing.T) {
	clock := newFakeClock()
	s := newTestServerLimits(t, RateLimits{Now: clock.now})
	wc := s.channel(t, channels.NewChannel{Kind: channels.KindWebchat, Name: "site"})
	path := "/webchat/" + wc.ID.String() + "/messages"
	sess := s.webchatSession(t, wc, "floodvisitor01")
	msg := func(visitor, id string) []byte {
		raw, _ := json.Marshal(map[string]string{"visitor_id": visitor, "client_id": id, "text": "mensagem " + id})
		return raw
	}

	for i := range 30 {
		if a := s.send(t, "POST", path, msg(sess.VisitorID, fmt.Sprintf("forged-%d", i)), map[string]string{"X-Webchat-Token": "forged"}); a.status != http.StatusUnauthorized {
			t.Fatalf("a message without the session: %d %s", a.status, a.body)
		}
	}

	const flood = 35
	answers := make([]answer, flood)
	var wg sync.WaitGroup
	for i := range flood {
		wg.Go(func() {
			answers[i] = s.send(t, "POST", path, msg(sess.VisitorID, fmt.Sprintf("m-%02d", i)), map[string]string{"X-Webchat-Token": sess.Token})
		})
	}
	wg.Wait()
	acked := map[string]bool{}
	limited := 0
	for i, a := range answers {
		switch a.status {
		case http.StatusOK:
			acked[fmt.Sprintf("mensagem m-%02d", i)] = true
		case http.StatusTooManyRequests:
			limited++
			mustBeLimited(t, "a message over the burst", a, "2")
		default:
			t.Fatalf("message: %d %s", a.status, a.body)
		}
	}
	if len(acked) != 20 || limited != flood-20 {
		t.Fatalf("want the burst of 20 messages (the forged ones not counted) and %d refused: %d acked, %d refused", flood-20, len(acked), limited)
	}
	stored := map[string]bool{}
	for _, e := range messagesOf(s.timeline(t, s.contactBy(t, "webchat:"+sess.VisitorID).ID)) {
		stored[e.Text] = true
	}
	for text := range acked {
		if !stored[text] {
			t.Fatalf("acknowledged but not stored: %q (stored %v)", text, stored)
		}
	}
	if len(stored) != len(acked) {
		t.Fatalf("stored %d messages, acknowledged %d", len(stored), len(acked))
	}

	other := s.webchatSession(t, wc, "neighbour0001")
	if a := s.send(t, "POST", path, msg(other.VisitorID, "n-1"), map[string]string{"X-Webchat-Token": other.Token}); a.status != http.StatusOK {
		t.Fatalf("another visitor behind the same address: %d %s", a.status, a.body)
	}
	clock.advance(2 * time.Second)
	if a := s.send(t, "POST", path, msg(sess.VisitorID, "late"), map[string]string{"X-Webchat-Token": sess.Token}); a.status != http.StatusOK {
		t.Fatalf("two seconds later the visitor may write again: %d %s", a.status, a.body)
	}
}

// Past the per-address cap, messages of fresh visitors are refused too.
func TestWebchatMessagesPerAddress(t *testing.T) {
	clock := newFakeClock()
	s := newTestServerLimits(t, RateLimits{Now: clock.now, WebchatMessagesPerAddress: Rate{Burst: 3, Every: 10 * time.Second}})
	wc := s.channel(t, channels.NewChannel{Kind: channels.KindWebchat, Name: "site"})
	for i := range 4 {
		sess := s.webchatSession(t, wc, fmt.Sprintf("addrvisitor%02d", i))
		raw, _ := json.Marshal(map[string]string{"visitor_id": sess.VisitorID, "text": "oi"})
		a := s.send(t, "POST", "/webchat/"+wc.ID.String()+"/messages", raw, map[string]string{"X-Webchat-Token": sess.Token})
		if i < 3 && a.status != http.StatusOK {
			t.Fatalf("message %d: %d %s", i, a.status, a.body)
		}
		if i == 3 {
			mustBeLimited(t, "the 4th visitor's message from the address", a, "10")
		}
	}
}

// openStream opens a visitor's SSE stream and reads its opening; the
// stream stays open until the test ends.
func (s *testServer) openStream(t *testing.T, wc channels.Channel, sess webchatSession) answer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	q := url.Values{"visitor_id": {sess.VisitorID}, "token": {sess.Token}}
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/webchat/"+wc.ID.String()+"/stream?"+q.Encode(), nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, raw}
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "retry:") {
		t.Fatalf("stream opening: %q %v", line, err)
	}
	return answer{resp.StatusCode, resp.Header, []byte(line)}
}

// A visitor holds at most 5 streams: the 6th is refused while the 5 stay
// open and keep streaming; another visitor is not affected.
func TestWebchatStreamsPerVisitor(t *testing.T) {
	s := newTestServer(t)
	wc := s.channel(t, channels.NewChannel{Kind: channels.KindWebchat, Name: "site"})
	sess := s.webchatSession(t, wc, "streamvisitor1")
	for i := range 5 {
		if a := s.openStream(t, wc, sess); a.status != http.StatusOK {
			t.Fatalf("stream %d: %d %s", i+1, a.status, a.body)
		}
	}
	sixth := s.openStream(t, wc, sess)
	mustBeLimited(t, "the 6th stream", sixth, "5")
	if sixth.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("the widget cannot read the refusal: %v", sixth.header)
	}
	other := s.webchatSession(t, wc, "streamvisitor2")
	if a := s.openStream(t, wc, other); a.status != http.StatusOK {
		t.Fatalf("another visitor's stream: %d %s", a.status, a.body)
	}
}

// loginForm fetches the login page's CSRF token into the client's jar.
func loginForm(t *testing.T, s *testServer, client *http.Client) string {
	t.Helper()
	resp, err := client.Get(s.URL + "/inbox/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == loginCSRFCookie {
			return c.Value
		}
	}
	t.Fatal("no login CSRF cookie")
	return ""
}

func startsSession(resp *http.Response) bool {
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			return true
		}
	}
	return false
}

// Logins that succeed are never throttled (an office logging in at once);
// after 20 failures from one address the login page answers 429 and says
// how long to wait, even to the right password; 3 s later one try passes.
func TestInboxLoginFloodFromOneAddress(t *testing.T) {
	clock := newFakeClock()
	s := newTestServerLimits(t, RateLimits{Now: clock.now})
	if _, err := s.handoffs.PutAttendant(context.Background(), s.acctA, handoff.NewAttendant{Email: "ana@acme.com", Name: "Ana", Password: "senha-da-ana-1"}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := loginForm(t, s, client)
	login := func(email, password string) *http.Response {
		t.Helper()
		resp, err := client.PostForm(s.URL+"/inbox/login", url.Values{"empresa": {"acme"}, "email": {email}, "senha": {password}, "csrf": {csrf}})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for i := range 21 {
		resp := login("ana@acme.com", "senha-da-ana-1")
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !startsSession(resp) {
			t.Fatalf("right password, login %d: %d", i+1, resp.StatusCode)
		}
		csrf = loginForm(t, s, client)
	}

	const flood = 30
	answers := make([]*http.Response, flood)
	var wg sync.WaitGroup
	for i := range flood {
		wg.Go(func() { answers[i] = login(fmt.Sprintf("guess%02d@acme.com", i), "senha-errada-1") })
	}
	wg.Wait()
	refused, limited := 0, 0
	var page []byte
	for _, resp := range answers {
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusSeeOther && strings.Contains(resp.Header.Get("Location"), "erro="):
			refused++
		case resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "3":
			limited++
			page = raw
		default:
			t.Fatalf("a wrong password: %d %v", resp.StatusCode, resp.Header)
		}
	}
	if refused != 20 || limited != flood-20 {
		t.Fatalf("want 20 wrong passwords answered and %d throttled: %d, %d", flood-20, refused, limited)
	}
	if !bytes.Contains(page, []byte("Muitas tentativas a partir deste endereço. Tente de novo em 3 segundos.")) || !bytes.Contains(page, []byte(`name="csrf"`)) {
		t.Fatalf("the throttled login page does not say so: %s", page)
	}

	csrf = loginForm(t, s, client)
	resp := login("ana@acme.com", "senha-da-ana-1")
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || startsSession(resp) {
		t.Fatalf("while throttled even the right password waits: %d", resp.StatusCode)
	}
	// The user submits the form of the page shown with the 429.
	form := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if form == nil {
		t.Fatalf("no form on the throttled page: %s", page)
	}
	csrf = string(form[1])
	clock.advance(3 * time.Second)
	resp = login("ana@acme.com", "senha-da-ana-1")
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !startsSession(resp) {
		t.Fatalf("3 s later: %d", resp.StatusCode)
	}
}

// Unsigned callers of a webhook get 401 for the burst, then 429; a
// correctly signed delivery in the middle of the flood, from the same
// address, is stored as ever.
func TestUnsignedWebhookFlood(t *testing.T) {
	clock := newFakeClock()
	s := newTestServerLimits(t, RateLimits{Now: clock.now})
	tg := s.channel(t, channels.NewChannel{Kind: channels.KindTelegram, Name: "bot",
		Secrets: map[string]string{"bot_token": "123:abc", "secret_token": telegramSecret}})
	body := fixtures.Read(t, "telegram/update_text_private.json")
	wrong := map[string]string{"X-Telegram-Bot-Api-Secret-Token": "wrong"}
	for i := range 30 {
		if a := s.send(t, "POST", webhookPath(tg), body, wrong); a.status != http.StatusUnauthorized {
			t.Fatalf("unsigned %d: %d %s", i+1, a.status, a.body)
		}
	}
	mustBeLimited(t, "the 31st unsigned request", s.send(t, "POST", webhookPath(tg), body, wrong), "1")
	if code, reply := s.post(t, webhookPath(tg), body, map[string]string{"X-Telegram-Bot-Api-Secret-Token": telegramSecret}); code != 200 || reply.Stored != 1 {
		t.Fatalf("a signed delivery in the flood: %d %+v", code, reply)
	}
	mustBeLimited(t, "unsigned after it", s.send(t, "POST", webhookPath(tg), body, wrong), "1")
}

// By default no proxy is trusted: a forged X-Forwarded-For does not give a
// flood a fresh key per request. With the proxy listed in TrustedProxies,
// the header names the client (an IPv6 client as its /64).
func TestForwardedForIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	tiny := Rate{Burst: 2, Every: time.Minute}
	clock := newFakeClock()
	s := newTestServerLimits(t, RateLimits{Now: clock.now, WebchatSessionsPerAddress: tiny})
	wc := s.channel(t, channels.NewChannel{Kind: channels.KindWebchat, Name: "site"})
	path := "/webchat/" + wc.ID.String() + "/sessions"
	var last answer
	for i := range 4 {
		last = s.send(t, "POST", path, []byte(`{}`), map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i+1), "X-Real-IP": fmt.Sprintf("198.51.100.%d", i+1)})
	}
	mustBeLimited(t, "a forged X-Forwarded-For", last, "60")

	behind := newTestServerLimits(t, RateLimits{Now: clock.now, WebchatSessionsPerAddress: tiny,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	wc = behind.channel(t, channels.NewChannel{Kind: channels.KindWebchat, Name: "site"})
	path = "/webchat/" + wc.ID.String() + "/sessions"
	from := func(addr string) answer {
		return behind.send(t, "POST", path, []byte(`{}`), map[string]string{"X-Forwarded-For": addr})
	}
	for _, addr := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3", "2001:db8:1:2::1", "2001:db8:1:2::2"} {
		if a := from(addr); a.status != http.StatusOK {
			t.Fatalf("client %s behind the trusted proxy: %d %s", addr, a.status, a.body)
		}
	}
	mustBeLimited(t, "a third address of the same IPv6 /64", from("2001:db8:1:2:ffff::3"), "60")
	if a := from("2001:db8:1:3::1"); a.status != http.StatusOK {
		t.Fatalf("another /64: %d %s", a.status, a.body)
	}
}

func newTestLimiter(clock *fakeClock, r Rate, maxKeys int) (*keyedLimiter, prometheus.Counter) {
	dropped := prometheus.NewCounter(prometheus.CounterOpts{Name: "dropped"})
	return newKeyedLimiter(r, 10*time.Minute, maxKeys, clock.now, prometheus.NewCounter(prometheus.CounterOpts{Name: "refused"}), dropped), dropped
}

// Requests in flight hold their tokens; one that does not count gives its
// token back; an empty bucket says how long until the next request.
func TestKeyedLimiterSettles(t *testing.T) {
	clock := newFakeClock()
	k, _ := newTestLimiter(clock, Rate{Burst: 2, Every: 3 * time.Second}, 10)
	first, _, ok1 := k.take("a")
	second, _, ok2 := k.take("a")
	if !ok1 || !ok2 {
		t.Fatal("the burst of 2 is refused")
	}
	if _, wait, ok := k.take("a"); ok || wait != 3*time.Second {
		t.Fatalf("a third while two are in flight: ok %v, wait %v", ok, wait)
	}
	first(false)
	first(true) // settling twice changes nothing
	if _, _, ok := k.take("b"); !ok {
		t.Fatal("another key has its own bucket")
	}
	third, _, ok := k.take("a")
	if !ok {
		t.Fatal("the request given back is not available again")
	}
	second(true)
	third(true)
	if _, wait, ok := k.take("a"); ok || wait != 3*time.Second {
		t.Fatalf("both counted: ok %v, wait %v", ok, wait)
	}
	clock.advance(1500 * time.Millisecond)
	if _, wait, ok := k.take("a"); ok || wait != 1500*time.Millisecond {
		t.Fatalf("half refilled: ok %v, wait %v", ok, wait)
	}
	if retryAfter(1500*time.Millisecond) != "2" || retryAfter(time.Millisecond) != "1" || retryAfter(3*time.Second) != "3" {
		t.Fatal("Retry-After rounds up to whole seconds, at least 1")
	}
}

// Idle keys are swept once their buckets are full again, never while a
// request is in flight; a full limiter forgets an arbitrary key.
func TestKeyedLimiterMemoryIsBounded(t *testing.T) {
	clock := newFakeClock()
	k, dropped := newTestLimiter(clock, Rate{Burst: 5, Every: time.Second}, 3)
	for _, key := range []string{"a", "b", "c", "d", "e"} {
		if _, ok := k.spend(key); !ok {
			t.Fatalf("%s refused", key)
		}
	}
	if n := k.size(); n != 3 || testutil.ToFloat64(dropped) != 2 {
		t.Fatalf("capped at 3 keys: %d keys, %v dropped", n, testutil.ToFloat64(dropped))
	}
	busy, _, _ := k.take("e")
	clock.advance(10*time.Minute + time.Second)
	k.spend("f")
	if n := k.size(); n != 2 {
		t.Fatalf("idle keys swept, the one in flight kept: %d keys", n)
	}
	busy(true)

	long, _ := newTestLimiter(clock, Rate{Burst: 20, Every: time.Minute}, 10)
	for range 20 {
		long.spend("slow")
	}
	clock.advance(11 * time.Minute)
	long.spend("other") // sweeps
	for i := range 11 {
		if _, ok := long.spend("slow"); !ok {
			t.Fatalf("11 minutes refilled 11 requests, the %dth is refused", i+1)
		}
	}
	if _, ok := long.spend("slow"); ok {
		t.Fatal("a key was forgotten before its bucket refilled (20 min), handing it a fresh burst")
	}
}

// A gate admits max requests of a key at once and frees a place when one
// leaves; a key with nothing open is not kept.
func TestKeyedGate(t *testing.T) {
	g := &keyedGate{max: 2, open: map[string]int{}, refused: prometheus.NewCounter(prometheus.CounterOpts{Name: "refused"})}
	leave1, _ := g.enter("v")
	leave2, _ := g.enter("v")
	if _, ok := g.enter("v"); ok {
		t.Fatal("a third at once is admitted")
	}
	leave1()
	leave1()
	leave3, ok := g.enter("v")
	if !ok {
		t.Fatal("a place freed is not given")
	}
	if _, ok := g.enter("v"); ok {
		t.Fatal("leaving twice freed two places")
	}
	leave2()
	leave3()
	if len(g.open) != 0 {
		t.Fatalf("keys with nothing open are kept: %v", g.open)
	}
}

// Disabled lets everything through; a negative burst turns one limit off.
func TestRateLimitsOff(t *testing.T) {
	reg := prometheus.NewRegistry()
	l := newLimiters(RateLimits{Disabled: true}, reg)
	for range 1000 {
		if _, ok := l.sessions.spend("x"); !ok {
			t.Fatal("disabled limits refused")
		}
	}
	l = newLimiters(RateLimits{WebchatSessionsPerAddress: Rate{Burst: -1}, WebchatStreamsPerVisitor: -1}, prometheus.NewRegistry())
	if l.sessions != nil || l.streams != nil || l.messagesVisitor == nil {
		t.Fatalf("one limit off, the others on: %+v", l)
	}
}
