package handoff

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/conversations"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/internal/testdb"
	"github.com/atende/atende/memory"
)

// recordedEvents keeps what would go to webhooks.
type recordedEvents struct {
	mu     sync.Mutex
	events []string
}

func (r *recordedEvents) Emit(_ context.Context, _ pgx.Tx, _ uuid.UUID, event string, _ any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, event)
	return nil
}

func (r *recordedEvents) count(event string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e == event {
			n++
		}
	}
	return n
}

type env struct {
	pool   *pgxpool.Pool
	svc    *Service
	mem    *memory.Store
	acct   uuid.UUID
	ch     channels.Channel
	ing    *channels.Ingestor
	events *recordedEvents
	clock  time.Time
}

func newEnv(t testing.TB) *env {
	t.Helper()
	pool, _ := testdb.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mem := memory.NewStore(pool, nil, memory.NewHashEmbedder(memory.DefaultHashDims), log)
	chs := channels.NewStore(pool, testdb.SecretBox(t))
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	outbox := channels.NewOutbox(pool, mem, chs, channels.NewPlatforms(outbound.TestRig(), nil, nil), jobs, log, nil)
	e := &env{pool: pool, mem: mem, events: &recordedEvents{}, clock: time.Now().UTC().Truncate(time.Second)}
	e.svc = NewService(pool, mem, chs, outbox, jobs, e.events, log)
	e.svc.SetClock(func() time.Time { return e.clock })
	e.acct = testdb.NewAccount(t, pool, "loja")
	e.ch, err = chs.Create(context.Background(), e.acct, channels.NewChannel{Kind: channels.KindTelegram, Name: "bot", Secrets: map[string]string{"bot_token": "1:x"}})
	if err != nil {
		t.Fatal(err)
	}
	e.ing = channels.NewIngestor(pool, mem, nil)
	return e
}

// conversation stores a customer message from a new Telegram user and returns its contact and conversation.
func (e *env) conversation(t testing.TB, user, text string) (uuid.UUID, uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.ing.Ingest(ctx, e.ch, channels.Batch{Messages: []channels.Inbound{{ExternalID: uuid.NewString(), Type: "text", Text: text, At: e.clock,
		From: channels.Sender{Name: "Cliente " + user, Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: user}}}}}}); err != nil {
		t.Fatal(err)
	}
	c, err := e.mem.FindByIdentity(ctx, e.acct, memory.Identity{Kind: memory.KindTelegram, Value: user})
	if err != nil {
		t.Fatal(err)
	}
	msg, _, err := e.mem.LastInbound(ctx, e.acct, c.ID, "telegram")
	if err != nil {
		t.Fatal(err)
	}
	return c.ID, *msg.ConversationID
}

func (e *env) open(t testing.TB, contact, conv uuid.UUID, r Request) Handoff {
	t.Helper()
	r.AccountID, r.ContactID, r.ConversationID = e.acct, contact, conv
	var h Handoff
	err := database.InTx(context.Background(), e.pool, func(tx pgx.Tx) error {
		var err error
		h, err = e.svc.Open(context.Background(), tx, r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (e *env) attendant(t testing.TB, email string, capacity int) Attendant {
	t.Helper()
	a, err := e.svc.PutAttendant(context.Background(), e.acct, NewAttendant{Email: email, Name: strings.Split(email, "@")[0], Password: "senha-forte-123", Capacity: capacity})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAssignmentIsFairBoundedAndQueues(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ana, bia, caio := e.attendant(t, "ana@loja.com", 2), e.attendant(t, "bia@loja.com", 2), e.attendant(t, "caio@loja.com", 1)
	if err := e.svc.SetAvailable(ctx, e.acct, caio.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.PutTeams(ctx, e.acct, []Team{{Name: "suporte", Members: []string{"ana@loja.com", "bia@loja.com", "caio@loja.com"}}}); err != nil {
		t.Fatal(err)
	}
	owners := make([]string, 0, 7)
	var handoffs []Handoff
	for i := range 5 {
		contact, conv := e.conversation(t, fmt.Sprint(100+i), "o app não abre")
		e.clock = e.clock.Add(time.Second)
		h := e.open(t, contact, conv, Request{Reason: "asked_for_person", Team: "suporte", Sector: "support", Like: "support", SLA: time.Hour})
		handoffs = append(handoffs, h)
		owners = append(owners, h.OwnerName+"/"+h.Status)
	}
	// Round robin between equals, fewest open first, capacity respected, then the team queue.
	if got := strings.Join(owners, " "); got != "ana/assigned bia/assigned ana/assigned bia/assigned /queued" {
		t.Fatalf("owners: %s", got)
	}
	if e.events.count("handoff.created") != 5 || e.events.count("handoff.assigned") != 4 {
		t.Fatalf("events: %v", e.events.events)
	}
	// Someone comes back from a break: the next handoff is theirs.
	_ = e.svc.SetAvailable(ctx, e.acct, caio.ID, true)
	contact, conv := e.conversation(t, "200", "erro no login")
	if h := e.open(t, contact, conv, Request{Reason: "asked_for_person", Team: "suporte", SLA: time.Hour}); h.OwnerID == nil || *h.OwnerID != caio.ID {
		t.Fatalf("caio is free: %+v", h)
	}
	// Resolving frees capacity.
	if _, err := e.svc.Resolve(ctx, e.acct, handoffs[0].ID, ana); err != nil {
		t.Fatal(err)
	}
	contact, conv = e.conversation(t, "201", "erro no login de novo")
	if h := e.open(t, contact, conv, Request{Reason: "asked_for_person", Team: "suporte", SLA: time.Hour}); h.OwnerID == nil || *h.OwnerID != ana.ID {
		t.Fatalf("ana has room again: %+v", h)
	}
	// A conversation has one open handoff: opening again returns it.
	again := e.open(t, handoffs[1].ContactID, handoffs[1].ConversationID, Request{Reason: "asked_for_person", Team: "suporte", SLA: time.Hour})
	if again.ID != handoffs[1].ID {
		t.Fatal("a second open handoff for the same conversation")
	}
	// A queued card can be claimed; manual reassignment moves it.
	claimed, err := e.svc.Claim(ctx, e.acct, handoffs[4].ID, bia)
	if err != nil || claimed.Status != StatusAssigned || claimed.OwnerName != "bia" {
		t.Fatalf("claim: %+v %v", claimed, err)
	}
	moved, err := e.svc.Reassign(ctx, e.acct, handoffs[4].ID, bia, nil)
	if err != nil || moved.Status != StatusQueued || moved.OwnerID != nil {
		t.Fatalf("back to the queue: %+v %v", moved, err)
	}
	queue, err := e.svc.List(ctx, e.acct, Filter{Status: "open", Team: "suporte"})
	if err != nil || len(queue) != 6 {
		t.Fatalf("queue: %d %v", len(queue), err)
	}
	for i := 1; i < len(queue); i++ {
		if queue[i].SLADue.Before(queue[i-1].SLADue) {
			t.Fatal("the queue is sorted by SLA due time")
		}
	}
}

func TestCardHoldsWhatAPersonNeeds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	contact, conv := e.conversation(t, "300", "comprei um galaxy s23 mês passado e a bateria tá durando metade do dia")
	if _, err := e.ing.Ingest(ctx, e.ch, channels.Batch{Messages: []channels.Inbound{{ExternalID: "m2", Type: "text", Text: "quero falar com um atendente", At: e.clock,
		From: channels.Sender{Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "300"}}}}}}); err != nil {
		t.Fatal(err)
	}
	if err := database.InTx(ctx, e.pool, func(tx pgx.Tx) error {
		_, err := e.mem.UpdateFieldsTx(ctx, tx, e.acct, contact, map[string]any{"order_number": "88341", "email": "gui@exemplo.com"}, memory.AuthorAI, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	h := e.open(t, contact, conv, Request{Reason: "asked_for_person", Sector: "support", Like: "support", Team: "suporte", SLA: 10 * time.Minute, Priority: "high", Channel: "telegram"})
	for _, want := range []string{"galaxy s23", "bateria", "quero falar com um atendente", "pedido 88341", "o cliente pediu para falar com uma pessoa"} {
		if !strings.Contains(h.Summary, want) {
			t.Errorf("summary lacks %q: %s", want, h.Summary)
		}
	}
	if !strings.HasPrefix(h.NextAction, "Retornar o contato e resolver o problema relatado: «comprei um galaxy s23") {
		t.Errorf("next action: %s", h.NextAction)
	}
	if h.Fields["order_number"] != "88341" || h.Fields["email"] != "gui@exemplo.com" || h.Fields["name"] != "Cliente 300" || h.Fields["id_telegram"] != "300" {
		t.Errorf("fields: %v", h.Fields)
	}
	if want := e.clock.Add(5 * time.Minute); !h.SLADue.Equal(want) {
		t.Errorf("high priority halves the SLA: due %s, want %s", h.SLADue, want)
	}
	if h.Status != StatusQueued || h.Timeline != "/api/v1/contacts/"+contact.String()+"/timeline" {
		t.Errorf("no team members: queued; link: %+v", h)
	}
	c, _ := conversations.NewStore(e.pool).Get(ctx, e.acct, conv)
	if c.Status != "pending_human" {
		t.Errorf("conversation status %s", c.Status)
	}
}

func TestSLABreachEscalatesAndAReplyStopsTheClock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ana, sup := e.attendant(t, "ana@loja.com", 3), e.attendant(t, "sup@loja.com", 3)
	if err := e.svc.PutTeams(ctx, e.acct, []Team{{Name: "financeiro", Members: []string{"ana@loja.com"}, Supervisor: "sup@loja.com",
		Escalation: "raise_priority,supervisor"}}); err != nil {
		t.Fatal(err)
	}
	contact, conv := e.conversation(t, "400", "fui cobrado duas vezes")
	h := e.open(t, contact, conv, Request{Reason: "asked_for_person", Team: "financeiro", SLA: 10 * time.Minute})
	args := SLAArgs{AccountID: e.acct, HandoffID: h.ID, Clock: SLAFirstResponse, Due: h.SLADue}
	e.clock = e.clock.Add(9 * time.Minute)
	if _, err := e.svc.CheckSLA(ctx, args); err != errTooEarly {
		t.Fatalf("before the due time: %v", err)
	}
	e.clock = e.clock.Add(time.Minute)
	breached, err := e.svc.CheckSLA(ctx, args)
	if err != nil || !breached {
		t.Fatalf("at the due time: %v %v", breached, err)
	}
	got, _ := e.svc.Get(ctx, e.acct, h.ID)
	if got.BreachedAt == nil || got.Priority != "high" || got.OwnerID == nil || *got.OwnerID != sup.ID || e.events.count("sla.breached") != 1 {
		t.Fatalf("breach: %+v events %v", got, e.events.events)
	}
	if again, _ := e.svc.CheckSLA(ctx, args); again {
		t.Fatal("a breach is recorded once")
	}

	// Another handoff answered in time is never breached.
	contact2, conv2 := e.conversation(t, "401", "boleto vencido")
	h2 := e.open(t, contact2, conv2, Request{Reason: "asked_for_person", Team: "financeiro", SLA: 10 * time.Minute})
	e.clock = e.clock.Add(3 * time.Minute)
	if _, err := e.svc.Reply(ctx, e.acct, h2.ID, ana, "Oi! Já estou vendo seu boleto.", nil); err != nil {
		t.Fatal(err)
	}
	e.clock = e.clock.Add(10 * time.Minute)
	if breached, err := e.svc.CheckSLA(ctx, SLAArgs{AccountID: e.acct, HandoffID: h2.ID, Clock: SLAFirstResponse, Due: h2.SLADue}); err != nil || breached {
		t.Fatalf("answered in time: %v %v", breached, err)
	}
	c, _ := conversations.NewStore(e.pool).Get(ctx, e.acct, conv2)
	if c.Status != "human" {
		t.Fatalf("after a human reply the conversation is the human's: %s", c.Status)
	}
	// The customer writes again and waits: the next-response clock runs.
	if err := e.svc.CustomerWrote(ctx, e.acct, conv2); err != nil {
		t.Fatal(err)
	}
	got, _ = e.svc.Get(ctx, e.acct, h2.ID)
	if got.WaitingSince == nil {
		t.Fatal("the customer is waiting")
	}
	e.clock = e.clock.Add(11 * time.Minute)
	if breached, err := e.svc.CheckSLA(ctx, SLAArgs{AccountID: e.acct, HandoffID: h2.ID, Clock: SLANextResponse, Due: e.clock.Add(-time.Minute)}); err != nil || !breached {
		t.Fatalf("next response not given: %v %v", breached, err)
	}
}

func TestResolveAsksForCSATAndTakesTheScore(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ana := e.attendant(t, "ana@loja.com", 3)
	contact, conv := e.conversation(t, "500", "quero falar com alguém")
	h := e.open(t, contact, conv, Request{Reason: "asked_for_person", SLA: time.Hour})
	if _, err := e.svc.Resolve(ctx, e.acct, h.ID, ana); err != nil {
		t.Fatal(err)
	}
	page, _ := e.mem.Timeline(ctx, e.acct, contact, nil, 100)
	last := page.Events[len(page.Events)-1]
	if last.Kind != memory.EventMessage || last.Direction != memory.DirectionOut || !strings.Contains(last.Text, "de 1 a 5") {
		t.Fatalf("the CSAT request goes to the customer: %+v", last)
	}
	record := func(text string) (ok bool, err error) {
		err = database.InTx(ctx, e.pool, func(tx pgx.Tx) error {
			ok, err = e.svc.RecordCSAT(ctx, tx, e.acct, contact, text)
			return err
		})
		return ok, err
	}
	if ok, err := record("obrigado, até mais"); ok || err != nil {
		t.Fatalf("not a score: %v %v", ok, err)
	}
	if ok, err := record("5"); !ok || err != nil {
		t.Fatalf("a score: %v %v", ok, err)
	}
	if ok, _ := record("4"); ok {
		t.Fatal("a conversation is scored once")
	}
	page, _ = e.mem.Timeline(ctx, e.acct, contact, nil, 100)
	if ev := page.Events[len(page.Events)-1]; ev.Kind != memory.EventCSAT || ev.Text != "Avaliação: 5/5" || e.events.count("csat.received") != 1 {
		t.Fatalf("csat event: %+v", ev)
	}
	if _, err := e.svc.Resolve(ctx, e.acct, h.ID, ana); err == nil {
		t.Fatal("a resolved handoff cannot be resolved again")
	}
}

func TestParseRating(t *testing.T) {
	for text, want := range map[string]Rating{
		"5": {5, ""}, " 4 ": {4, ""}, "nota 3": {3, ""}, "2/5": {2, ""}, "⭐⭐⭐⭐": {4, ""}, "5 estrelas!": {5, ""},
		"nota 4, demorou mas resolveu":          {4, "demorou mas resolveu"},
		"4 - atendimento bom, só demorou":       {4, "atendimento bom, só demorou"},
		"5 estrelas, a Júlia foi ótima":         {5, "a Júlia foi ótima"},
		"⭐⭐⭐ rápido mas não resolveu tudo":      {3, "rápido mas não resolveu tudo"},
		"dou nota 2 porque ninguém respondeu":   {2, "dou nota 2 porque ninguém respondeu"},
		"Minha nota é 5!":                       {5, ""},
		"cinco":                                 {5, ""},
		"3. Resolveram, mas tive que insistir.": {3, "Resolveram, mas tive que insistir"},
	} {
		if got, ok := ParseRating(text); !ok || got != want {
			t.Errorf("%q: %+v %v, want %+v", text, got, ok, want)
		}
	}
	for _, text := range []string{"6", "0", "pedido 5", "oi", "15", "4 pedidos não chegaram", "o pedido 12345 chegou", "parcelei em 5 vezes"} {
		if r, ok := ParseRating(text); ok {
			t.Errorf("%q is not a score: %+v", text, r)
		}
	}
}

func TestLoginAndSessions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.attendant(t, "Ana@Loja.com", 3)
	if a.Email != "ana@loja.com" {
		t.Fatalf("e-mails are stored lower-case: %s", a.Email)
	}
	if _, err := e.svc.Login(ctx, e.acct, "ana@loja.com", "errada-123"); err != ErrBadLogin {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := e.svc.Login(ctx, e.acct, "ninguem@loja.com", "senha-forte-123"); err != ErrBadLogin {
		t.Fatalf("unknown e-mail: %v", err)
	}
	got, err := e.svc.Login(ctx, e.acct, " ANA@loja.com", "senha-forte-123")
	if err != nil || got.ID != a.ID {
		t.Fatalf("login: %+v %v", got, err)
	}
	token, sess, err := e.svc.StartSession(ctx, e.acct, got)
	if err != nil || len(token) < 40 || sess.CSRF == "" {
		t.Fatalf("session: %v", err)
	}
	back, err := e.svc.Session(ctx, token)
	if err != nil || back.Attendant.ID != a.ID || back.CSRF != sess.CSRF {
		t.Fatalf("session lookup: %+v %v", back, err)
	}
	e.clock = e.clock.Add(13 * time.Hour)
	if _, err := e.svc.Session(ctx, token); err != ErrNoSession {
		t.Fatalf("an expired session: %v", err)
	}
	if _, err := e.svc.PutAttendant(ctx, e.acct, NewAttendant{Email: "x@loja.com", Password: "curta"}); err == nil {
		t.Fatal("a short password must be refused")
	}
}

// A person who answers from the business's own phone (a fromMe message
// Atende did not send) takes the conversation over: a card by "human", the
// first response counted, the bot silent.
func TestAReplyFromTheBusinessPhoneTakesOver(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	contact, conv := e.conversation(t, "600", "vocês têm o modelo azul?")
	ing := channels.NewIngestor(e.pool, e.mem, nil).WithTakeovers(e.svc)
	if _, err := ing.Ingest(ctx, e.ch, channels.Batch{Messages: []channels.Inbound{{ExternalID: "mine-1", Type: "text", Text: "Oi! Temos sim, te mando foto.",
		At: e.clock, FromBusiness: true, From: channels.Sender{Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "600"}}}}}}); err != nil {
		t.Fatal(err)
	}
	list, err := e.svc.List(ctx, e.acct, Filter{ContactID: &contact})
	if err != nil || len(list) != 1 || list[0].Source != "human" || list[0].Reason != "human_takeover" || list[0].FirstResponseAt == nil {
		t.Fatalf("takeover card: %+v %v", list, err)
	}
	c, _ := conversations.NewStore(e.pool).Get(ctx, e.acct, conv)
	if c.Status != "human" {
		t.Fatalf("the conversation is the human's: %s", c.Status)
	}
}
