package channels

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/internal/testdb"
	"github.com/atende/atende/memory"
)

// platformServer is a local stand-in for a platform's send API: it records
// every request and answers from a script, then with ok.
type platformServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	script   []scripted
	ok       func(n int) string
}

type recorded struct {
	Path    string
	Header  http.Header
	Body    map[string]any
	Success bool
}

type scripted struct {
	status     int
	retryAfter string
	body       string
}

func newPlatformServer(t *testing.T, ok func(n int) string, script ...scripted) *platformServer {
	p := &platformServer{script: script, ok: ok}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		p.mu.Lock()
		defer p.mu.Unlock()
		rec := recorded{Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
		w.Header().Set("Content-Type", "application/json")
		if len(p.script) > 0 {
			s := p.script[0]
			p.script = p.script[1:]
			if s.retryAfter != "" {
				w.Header().Set("Retry-After", s.retryAfter)
			}
			w.WriteHeader(s.status)
			_, _ = io.WriteString(w, s.body)
			p.requests = append(p.requests, rec)
			return
		}
		rec.Success = true
		p.requests = append(p.requests, rec)
		_, _ = io.WriteString(w, p.ok(len(p.requests)))
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *platformServer) all() []recorded {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]recorded{}, p.requests...)
}

func (p *platformServer) successes() int {
	n := 0
	for _, r := range p.all() {
		if r.Success {
			n++
		}
	}
	return n
}

// outboxEnv is a database, the memory, channel config and a running River
// client delivering with millisecond backoff.
type outboxEnv struct {
	pool     *pgxpool.Pool
	mem      *memory.Store
	channels *Store
	outbox   *Outbox
	acct     uuid.UUID
	logs     *lockedBuffer // everything the outbox and River logged
}

// lockedBuffer is a log destination many goroutines write to.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newOutboxEnv lets base URLs reach loopback, where the fake platforms listen.
func newOutboxEnv(t *testing.T) *outboxEnv {
	t.Helper()
	return newOutboxEnvWith(t, outbound.TestRig())
}

// newOutboxEnvWith sends under policy.
func newOutboxEnvWith(t *testing.T, policy outbound.Policy) *outboxEnv {
	t.Helper()
	pool, _ := testdb.New(t)
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mem := memory.NewStore(pool, nil, memory.NewHashEmbedder(memory.DefaultHashDims), log)
	chs := NewStore(pool, testdb.SecretBox(t))
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	outbox := NewOutbox(pool, mem, chs, NewPlatforms(policy, nil, nil), inserter, log, func(int) time.Duration { return 10 * time.Millisecond })
	workers := river.NewWorkers()
	river.AddWorker(workers, NewSendWorker(outbox))
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues: map[string]river.QueueConfig{SendQueue: {MaxWorkers: 2}}, Workers: workers,
		FetchPollInterval: 100 * time.Millisecond, FetchCooldown: 20 * time.Millisecond, TestOnly: true, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(context.Background()) })
	return &outboxEnv{pool: pool, mem: mem, channels: chs, outbox: outbox, acct: testdb.NewAccount(t, pool, "acme"), logs: logs}
}

// contactWhoWrote makes a contact whose last message on kind was ago.
func (e *outboxEnv) contactWhoWrote(t *testing.T, kind memory.IdentityKind, value string, channel Kind, ago time.Duration) uuid.UUID {
	t.Helper()
	res, err := e.mem.Resolve(context.Background(), e.acct, kind, value, memory.Profile{Name: "Maria Silva"})
	if err != nil {
		t.Fatal(err)
	}
	err = database.InTx(context.Background(), e.pool, func(tx pgx.Tx) error {
		_, err := e.mem.AppendTx(context.Background(), tx, e.acct, memory.Event{ContactID: res.Contact.ID, Kind: memory.EventMessage,
			Direction: memory.DirectionIn, Author: memory.AuthorContact, Channel: string(channel), Text: "oi",
			OccurredAt: time.Now().Add(-ago)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Contact.ID
}

func (e *outboxEnv) queue(t *testing.T, out Outgoing) memory.Event {
	t.Helper()
	var ev memory.Event
	err := database.InTx(context.Background(), e.pool, func(tx pgx.Tx) error {
		var err error
		ev, err = e.outbox.Queue(context.Background(), tx, e.acct, out)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// waitStatus waits for a final status (sent for every part, or failed) of a message.
func (e *outboxEnv) waitStatus(t *testing.T, ev memory.Event, want string, parts int) []memory.Event {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		statuses, err := e.mem.StatusesOf(context.Background(), e.acct, ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range statuses {
			if strings.HasPrefix(s.Text, want) {
				n++
			}
		}
		if n >= parts {
			return statuses
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q status for message %d after 20s: %+v", want, ev.ID, statuses)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitJobsDone waits until River has finished every delivery job (completed,
// discarded or cancelled): nothing more can be sent after that.
func (e *outboxEnv) waitJobsDone(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var pending int
		if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE queue = $1
			AND state NOT IN ('completed', 'discarded', 'cancelled')`, SendQueue).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still pending after 20s", pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func graphOK(n int) string {
	return `{"messaging_product":"whatsapp","contacts":[{"input":"5511987654321","wa_id":"5511987654321"}],"messages":[{"id":"wamid.sent` + string(rune('0'+n)) + `"}]}`
}

func (e *outboxEnv) whatsapp(t *testing.T, url string) Channel {
	ch, err := e.channels.Create(context.Background(), e.acct, NewChannel{Kind: KindWhatsApp, Name: "wa",
		Settings: map[string]string{"phone_number_id": "110220330440550", "base_url": url},
		Secrets:  map[string]string{"app_secret": "s", "verify_token": "v", "access_token": "EAAG-test"}})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestWhatsAppReplyIsRenderedSentAndRecorded(t *testing.T) {
	e := newOutboxEnv(t)
	srv := newPlatformServer(t, graphOK)
	ch := e.whatsapp(t, srv.URL)
	contact := e.contactWhoWrote(t, memory.KindWhatsApp, "5511987654321", KindWhatsApp, time.Hour)
	ev := e.queue(t, Outgoing{ContactID: contact, ChannelID: ch.ID, Author: memory.AuthorAI, Text: "O plano anual custa **R$ 1.188,00**."})
	statuses := e.waitStatus(t, ev, "sent", 1)
	reqs := srv.all()
	if len(reqs) != 1 || reqs[0].Path != "/110220330440550/messages" || reqs[0].Header.Get("Authorization") != "Bearer EAAG-test" {
		t.Fatalf("request: %+v", reqs)
	}
	body := reqs[0].Body
	text := body["text"].(map[string]any)["body"]
	if body["to"] != "5511987654321" || body["type"] != "text" || body["messaging_product"] != "whatsapp" || text != "O plano anual custa *R$ 1.188,00*." {
		t.Fatalf("body: %+v", body)
	}
	if !strings.HasSuffix(statuses[0].ExternalID, "/wamid.sent1") {
		t.Fatalf("the platform id must be recorded for later statuses: %+v", statuses[0])
	}
}

func TestRetriesOn500And429WithoutSendingTwice(t *testing.T) {
	e := newOutboxEnv(t)
	srv := newPlatformServer(t, graphOK,
		scripted{status: 500, body: `{"error":{"message":"Service temporarily unavailable","code":2}}`},
		scripted{status: 429, retryAfter: "1", body: `{"error":{"message":"(#131056) pair rate limit hit","code":131056}}`})
	ch := e.whatsapp(t, srv.URL)
	contact := e.contactWhoWrote(t, memory.KindWhatsApp, "5511987654321", KindWhatsApp, time.Hour)
	ev := e.queue(t, Outgoing{ContactID: contact, ChannelID: ch.ID, Author: memory.AuthorAI, Text: "Oi!"})
	e.waitStatus(t, ev, "sent", 1)
	e.waitJobsDone(t) // a wrongly re-run job would have sent again by now
	if n := len(srv.all()); n != 3 || srv.successes() != 1 {
		t.Fatalf("want 3 attempts and 1 delivery, got %d attempts and %d deliveries", n, srv.successes())
	}
}

func TestPermanentFailureIsOnTheTimeline(t *testing.T) {
	e := newOutboxEnv(t)
	srv := newPlatformServer(t, graphOK, scripted{status: 400,
		body: `{"error":{"message":"(#131026) Message undeliverable","code":131026,"error_data":{"details":"Receiver is incapable of receiving this message"}}}`})
	ch := e.whatsapp(t, srv.URL)
	contact := e.contactWhoWrote(t, memory.KindWhatsApp, "5511987654321", KindWhatsApp, time.Hour)
	ev := e.queue(t, Outgoing{ContactID: contact, ChannelID: ch.ID, Author: memory.AuthorAI, Text: "Oi!"})
	statuses := e.waitStatus(t, ev, "failed", 1)
	// The platform's code and Atende's words for it; the platform's own text
	// is never copied (whatever answers base_url wrote it).
	if !strings.Contains(statuses[0].Text, "HTTP 400: platform error code 131026: the message could not be delivered") ||
		strings.Contains(statuses[0].Text, "Receiver is incapable") || len(srv.all()) != 1 {
		t.Fatalf("failure: %+v after %d requests", statuses, len(srv.all()))
	}
}

// A person's reply after WhatsApp's 24 hours: the approved template goes
// out and the reply is held — the timeline says so, not "sent" — and both
// replies written while waiting go out as soon as the customer answers the
// template; one template is enough (issue 14).
func TestWhatsAppOutsideTheWindowHoldsTheReplyUntilTheCustomerAnswers(t *testing.T) {
	e := newOutboxEnv(t)
	srv := newPlatformServer(t, graphOK)
	ch := e.whatsapp(t, srv.URL)
	contact := e.contactWhoWrote(t, memory.KindWhatsApp, "5511987654321", KindWhatsApp, 30*time.Hour)
	first := e.queue(t, Outgoing{ContactID: contact, ChannelID: ch.ID, Author: memory.AuthorHuman, Text: "Seu pedido chegou!"})
	statuses := e.waitStatus(t, first, heldText, 1)
	e.waitJobsDone(t)
	bodies := srv.all()
	tpl, _ := bodies[0].Body["template"].(map[string]any)
	if len(bodies) != 1 || bodies[0].Body["type"] != "template" || tpl["name"] != "retomar_atendimento" {
		t.Fatalf("outside the window only the template may go out: %+v", bodies)
	}
	for _, st := range statuses {
		if strings.HasPrefix(st.Text, "sent") {
			t.Fatalf("a held reply is said to be sent: %+v", statuses)
		}
	}
	second := e.queue(t, Outgoing{ContactID: contact, ChannelID: ch.ID, Author: memory.AuthorHuman, Text: "Pode retirar na loja."})
	e.waitStatus(t, second, heldText, 1)
	e.waitJobsDone(t)
	if n := len(srv.all()); n != 1 {
		t.Fatalf("a second template while the first is unanswered: %d requests", n)
	}
	// the customer answers the template
	ing := NewIngestor(e.pool, e.mem, nil).WithHeldReleases(e.outbox)
	if _, err := ing.Ingest(context.Background(), ch, Batch{Messages: []Inbound{{ExternalID: "wamid.back", Type: "text", Text: "oi, pode falar",
		At: time.Now(), From: Sender{Identities: []memory.Identity{{Kind: memory.KindWhatsApp, Value: "5511987654321"}}}}}}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, first, "sent", 1)
	e.waitStatus(t, second, "sent", 1)
	e.waitJobsDone(t)
	var texts []string
	for _, r := range srv.all()[1:] {
		text, _ := r.Body["text"].(map[string]any)
		texts = append(texts, fmt.Sprint(text["body"]))
	}
	sort.Strings(texts)
	if len(texts) != 2 || texts[0] != "Pode retirar na loja." || texts[1] != "Seu pedido chegou!" {
		t.Fatalf("after the customer answered: %q", texts)
	}
	// a later message from the customer releases nothing twice
	if _, err := ing.Ingest(context.Background(), ch, Batch{Messages: []Inbound{{ExternalID: "wamid.back2", Type: "text", Text: "obrigada",
		At: time.Now(), From: Sender{Identities: []memory.Identity{{Kind: memory.KindWhatsApp, Value: "5511987654321"}}}}}}); err != nil {
		t.Fatal(err)
	}
	e.waitJobsDone(t)
	if n := len(srv.all()); n != 3 {
		t.Fatalf("messages sent again: %d requests", n)
	}
}

func TestInstagramWindowAndHumanAgentTag(t *testing.T) {
	e := newOutboxEnv(t)
	srv := newPlatformServer(t, func(n int) string {
		return `{"recipient_id":"7654321098765432","message_id":"m` + string(rune('0'+n)) + `"}`
	})
	ch, err := e.channels.Create(context.Background(), e.acct, NewChannel{Kind: KindInstagram, Name: "ig",
		Settings: map[string]string{"instagram_id": "17841400123456789", "base_url": srv.URL},
		Secrets:  map[string]string{"app_secret": "s", "verify_token": "v", "access_token": "IGQ-test"}})
	if err != nil {
		t.Fatal(err)
	}
	contact := e.contactWhoWrote(t, memory.KindInstagram, "7654321098765432", KindInstagram, 3*24*time.Hour)
	bot := e.queue(t, Outgoing{ContactID: contact, ChannelID: ch.ID, Author: memory.AuthorAI, Text: "Oi!"})
	failed := e.waitStatus(t, bot, "failed", 1)
	if !strings.Contains(failed[0].Text, "outside the 24h0m0s window") {
		t.Fatalf("the bot may not write after 24h: %+v", failed)
	}
	human := e.queue(t, Outgoing{ContactID: contact, ChannelID: ch.ID, Author: memory.AuthorHuman,
		Text: strings.Repeat("Conferi seu pedido e a troca foi aprovada. ", 40)})
	e.waitStatus(t, human, "sent", 2)
	reqs := srv.all()
	if len(reqs) < 2 {
		t.Fatalf("a 1,700-character reply must go out in parts of at most 1000: %d requests", len(reqs))
	}
	for _, r := range reqs {
		if r.Body["tag"] != "HUMAN_AGENT" || r.Body["messaging_type"] != "MESSAGE_TAG" || r.Header.Get("Authorization") != "Bearer IGQ-test" {
			t.Fatalf("a human after 24h writes with the HUMAN_AGENT tag: %+v", r.Body)
		}
		if n := len([]rune(r.Body["message"].(map[string]any)["text"].(string))); n > 1000 {
			t.Fatalf("part of %d characters", n)
		}
	}
}

func TestTelegramAndEvolutionSendShapes(t *testing.T) {
	e := newOutboxEnv(t)
	tgSrv := newPlatformServer(t, func(n int) string {
		return `{"ok":true,"result":{"message_id":20` + string(rune('0'+n)) + `,"chat":{"id":5123456789}}}`
	}, scripted{status: 429, body: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`})
	tg, err := e.channels.Create(context.Background(), e.acct, NewChannel{Kind: KindTelegram, Name: "bot",
		Settings: map[string]string{"base_url": tgSrv.URL}, Secrets: map[string]string{"bot_token": "123:ABC"}})
	if err != nil {
		t.Fatal(err)
	}
	evoSrv := newPlatformServer(t, func(int) string {
		return `{"key":{"remoteJid":"5531988776655@s.whatsapp.net","fromMe":true,"id":"3EB0EVO"}}`
	})
	evo, err := e.channels.Create(context.Background(), e.acct, NewChannel{Kind: KindEvolution, Name: "evo",
		Settings: map[string]string{"instance": "loja", "base_url": evoSrv.URL}, Secrets: map[string]string{"apikey": "EVO-KEY"}})
	if err != nil {
		t.Fatal(err)
	}
	maria := e.contactWhoWrote(t, memory.KindTelegram, "5123456789", KindTelegram, time.Hour)
	joao := e.contactWhoWrote(t, memory.KindWhatsApp, "553188776655", KindEvolution, time.Hour)
	e.waitStatus(t, e.queue(t, Outgoing{ContactID: maria, ChannelID: tg.ID, Author: memory.AuthorAI, Text: "Custa **R$ 1.188,00** <à vista>"}), "sent", 1)
	e.waitStatus(t, e.queue(t, Outgoing{ContactID: joao, ChannelID: evo.ID, Author: memory.AuthorAI, Text: "Olá, **João**!"}), "sent", 1)
	tgReqs := tgSrv.all()
	last := tgReqs[len(tgReqs)-1]
	if len(tgReqs) != 2 || last.Path != "/bot123:ABC/sendMessage" || last.Body["parse_mode"] != "HTML" ||
		last.Body["text"] != "Custa <b>R$ 1.188,00</b> &lt;à vista&gt;" || last.Body["chat_id"] != float64(5123456789) {
		t.Fatalf("telegram: %+v", tgReqs)
	}
	evoReq := evoSrv.all()[0]
	if evoReq.Path != "/message/sendText/loja" || evoReq.Header.Get("apikey") != "EVO-KEY" || evoReq.Body["number"] != "5531988776655" || evoReq.Body["text"] != "Olá, *João*!" {
		t.Fatalf("evolution: %+v", evoReq)
	}
	// Evolution echoes what Atende sent as a fromMe upsert: it must not become
	// a second message, nor look like a human typing on the phone.
	echo := []byte(`{"event":"messages.upsert","instance":"loja","data":{"key":{"remoteJid":"553188776655@s.whatsapp.net","fromMe":true,"id":"3EB0EVO"},"pushName":"Você","message":{"conversation":"Olá, *João*!"},"messageType":"conversation","messageTimestamp":1763743080}}`)
	batch, err := ParseEvolution(echo)
	if err != nil {
		t.Fatal(err)
	}
	res, err := NewIngestor(e.pool, e.mem, nil).Ingest(context.Background(), evo, batch)
	if err != nil || res.Stored != 0 || res.Duplicates != 1 {
		t.Fatalf("the echo of Atende's own message was stored again: %+v %v", res, err)
	}
}

func TestSetTelegramWebhook(t *testing.T) {
	srv := newPlatformServer(t, func(int) string { return `{"ok":true,"result":true,"description":"Webhook was set"}` })
	ch := Channel{ID: uuid.New(), Kind: KindTelegram, Settings: map[string]string{"base_url": srv.URL},
		Secrets: map[string]string{"bot_token": "123:ABC", "secret_token": "tg-wh_secret"}}
	hook := WebhookURL("https://atende.example.com.br/", ch)
	if err := NewPlatforms(outbound.TestRig(), nil, nil).SetTelegramWebhook(context.Background(), ch, hook); err != nil {
		t.Fatal(err)
	}
	req := srv.all()[0]
	if req.Path != "/bot123:ABC/setWebhook" || req.Body["url"] != "https://atende.example.com.br/webhooks/telegram/"+ch.ID.String() ||
		req.Body["secret_token"] != "tg-wh_secret" {
		t.Fatalf("setWebhook: %+v", req)
	}
	// The same fields as the platform's own example, with the same values where they are not ours.
	var want map[string]any
	if err := json.Unmarshal(readFixture(t, "telegram/setWebhook_request.json"), &want); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"allowed_updates", "max_connections"} {
		if fmt.Sprint(req.Body[k]) != fmt.Sprint(want[k]) {
			t.Errorf("%s = %v, fixture has %v", k, req.Body[k], want[k])
		}
	}
	if err := NewPlatforms(outbound.TestRig(), nil, nil).SetTelegramWebhook(context.Background(), ch, "http://insecure.example"); err == nil {
		t.Fatal("Telegram calls only https webhooks; an http URL must be refused before asking")
	}
}

// TestAUsernameCustomerIsAnsweredByTheirBSUID: Rafael wrote from a WhatsApp
// username, so Atende knows him only by his business-scoped id; the reply
// reaches him addressed by "recipient", and carries no "to" Meta would
// prefer over it.
func TestAUsernameCustomerIsAnsweredByTheirBSUID(t *testing.T) {
	e := newOutboxEnv(t)
	srv := newPlatformServer(t, graphOK)
	ch := e.whatsapp(t, srv.URL)
	rafael := e.contactWhoWrote(t, memory.KindWhatsAppUser, "BR.1839204756610284", KindWhatsApp, time.Hour)
	e.waitStatus(t, e.queue(t, Outgoing{ContactID: rafael, ChannelID: ch.ID, Author: memory.AuthorAI, Text: "Entregamos em Curitiba, sim."}), "sent", 1)
	reqs := srv.all()
	if len(reqs) != 1 {
		t.Fatalf("want one send, got %+v", reqs)
	}
	body := reqs[0].Body
	if _, hasTo := body["to"]; hasTo || body["recipient"] != "BR.1839204756610284" || body["type"] != "text" {
		t.Fatalf("body: %+v", body)
	}
}

// Two customer messages in one delivery (or two deliveries before the
// released reply went out) release the held reply once: two delivery jobs
// of the same message run side by side and both send it (issue 14 review).
func TestAHeldReplyIsReleasedOnceByTwoCustomerMessages(t *testing.T) {
	e := newOutboxEnv(t)
	srv := newPlatformServer(t, graphOK)
	ch := e.whatsapp(t, srv.URL)
	contact := e.contactWhoWrote(t, memory.KindWhatsApp, "5511987654321", KindWhatsApp, 30*time.Hour)
	held := e.queue(t, Outgoing{ContactID: contact, ChannelID: ch.ID, Author: memory.AuthorHuman, Text: "Seu pedido chegou!"})
	e.waitStatus(t, held, heldText, 1)
	e.waitJobsDone(t)
	from := Sender{Identities: []memory.Identity{{Kind: memory.KindWhatsApp, Value: "5511987654321"}}}
	ing := NewIngestor(e.pool, e.mem, nil).WithHeldReleases(e.outbox)
	if _, err := ing.Ingest(context.Background(), ch, Batch{Messages: []Inbound{
		{ExternalID: "wamid.a", Type: "text", Text: "oi", At: time.Now(), From: from},
		{ExternalID: "wamid.b", Type: "text", Text: "pode falar", At: time.Now(), From: from},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ing.Ingest(context.Background(), ch, Batch{Messages: []Inbound{
		{ExternalID: "wamid.c", Type: "text", Text: "alô?", At: time.Now(), From: from},
	}}); err != nil {
		t.Fatal(err)
	}
	var jobs int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'channel_send'
		AND (args->>'event_id')::bigint = $1 AND args ? 'released_by'`, held.ID).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	e.waitJobsDone(t)
	if jobs != 1 {
		t.Fatalf("the held reply has %d release deliveries, want 1", jobs)
	}
	if n := len(srv.all()); n != 2 {
		t.Fatalf("template and reply are 2 requests, got %d", n)
	}
}

// The re-engagement template refused by the platform (not approved, paused)
// reached nobody: the next reply held tries it again rather than waiting
// for an answer to a template the customer never got (issue 14 review).
func TestAFailedReengagementTemplateIsTriedAgain(t *testing.T) {
	e := newOutboxEnv(t)
	srv := newPlatformServer(t, graphOK, scripted{status: 400,
		body: `{"error":{"message":"(#132001) Template name does not exist in the translation","code":132001}}`})
	ch := e.whatsapp(t, srv.URL)
	contact := e.contactWhoWrote(t, memory.KindWhatsApp, "5511987654321", KindWhatsApp, 30*time.Hour)
	first := e.queue(t, Outgoing{ContactID: contact, ChannelID: ch.ID, Author: memory.AuthorHuman, Text: "Seu pedido chegou!"})
	e.waitStatus(t, first, heldText, 1)
	e.waitJobsDone(t)
	if n := len(srv.all()); n != 1 {
		t.Fatalf("the template: %d requests", n)
	}
	second := e.queue(t, Outgoing{ContactID: contact, ChannelID: ch.ID, Author: memory.AuthorHuman, Text: "Pode retirar na loja."})
	e.waitStatus(t, second, heldText, 1)
	e.waitJobsDone(t)
	bodies := srv.all()
	if len(bodies) != 2 || bodies[1].Body["type"] != "template" || !bodies[1].Success {
		t.Fatalf("after a refused template, the next held reply sends it again: %+v", bodies)
	}
}
