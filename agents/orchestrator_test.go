package agents

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/internal/testdb"
	"github.com/atende/atende/knowledge"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/prompts"
)

type env struct {
	pool     *pgxpool.Pool
	inserter *river.Client[pgx.Tx]
	mem      *memory.Store
	orch     *Orchestrator
	ing      *channels.Ingestor
	ch       channels.Channel
	acct     uuid.UUID
}

// newEnv wires the orchestrator on a fresh database; turns are run by hand
// (Turn), and replies are queued, not sent.
func newEnv(t *testing.T) *env { return newEnvTB(t) }

// newEnvTB is newEnv for tests and benchmarks alike.
func newEnvTB(t testing.TB) *env {
	t.Helper()
	pool, _ := testdb.New(t)
	return newEnvOn(t, pool, false)
}

// newEnvOn wires the orchestrator on pool; withHandoffs gives it the handoff
// service, so handoff decisions open cards.
func newEnvOn(t testing.TB, pool *pgxpool.Pool, withHandoffs bool) *env {
	t.Helper()
	return newEnvWith(t, pool, withHandoffs, nil)
}

// newEnvWith is newEnvOn with the orchestrator's dependencies changed by
// change before it is built (transcripts, a listener…).
func newEnvWith(t testing.TB, pool *pgxpool.Pool, withHandoffs bool, change func(*Deps)) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mem := memory.NewStore(pool, nil, memory.NewHashEmbedder(memory.DefaultHashDims), log)
	box := testdb.SecretBox(t)
	chs := channels.NewStore(pool, box)
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	outbox := channels.NewOutbox(pool, mem, chs, channels.NewPlatforms(outbound.TestRig(), nil, nil), inserter, log, nil)
	routers, err := NewRouters(pool)
	if err != nil {
		t.Fatal(err)
	}
	deps := Deps{Pool: pool, Knowledge: knowledge.NewStore(pool, mem.Embedder(), mem), Memory: mem, Channels: chs, Outbox: outbox,
		Sectors: NewSectorStore(pool, box), Routers: routers, Prompts: prompts.NewLibrary(pool, ""), Outbound: outbound.TestRig(), Log: log}
	if withHandoffs {
		deps.Handoffs = handoff.NewService(pool, mem, chs, outbox, inserter, nil, log)
	}
	if change != nil {
		change(&deps)
	}
	orch, err := NewOrchestrator(deps)
	if err != nil {
		t.Fatal(err)
	}
	acct := testdb.NewAccount(t, pool, "loja")
	ch, err := chs.Create(context.Background(), acct, channels.NewChannel{Kind: channels.KindTelegram, Name: "bot",
		Secrets: map[string]string{"bot_token": "1:x"}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{pool: pool, inserter: inserter, mem: mem, orch: orch, ing: channels.NewIngestor(pool, mem, nil), ch: ch, acct: acct}
}

// say stores customer messages as the Telegram webhook would, then runs one turn.
func (e *env) say(t *testing.T, texts ...string) (uuid.UUID, []string) {
	t.Helper()
	var msgs []channels.Inbound
	for _, text := range texts {
		msgs = append(msgs, channels.Inbound{ExternalID: uuid.NewString(), Type: "text", Text: text, At: time.Now(),
			From: channels.Sender{Name: "Marcos Lima", Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "424242"}}}})
	}
	if _, err := e.ing.Ingest(context.Background(), e.ch, channels.Batch{Messages: msgs}); err != nil {
		t.Fatal(err)
	}
	c, err := e.mem.FindByIdentity(context.Background(), e.acct, memory.Identity{Kind: memory.KindTelegram, Value: "424242"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.orch.Turn(context.Background(), TurnArgs{AccountID: e.acct, ConversationID: *mustConversation(t, e, c.ID), ContactID: c.ID}); err != nil {
		t.Fatal(err)
	}
	page, err := e.mem.Timeline(context.Background(), e.acct, c.ID, nil, 500)
	if err != nil {
		t.Fatal(err)
	}
	var replies []string
	for _, ev := range page.Events {
		if ev.Kind == memory.EventMessage && ev.Direction == memory.DirectionOut {
			replies = append(replies, ev.Text)
		}
	}
	return c.ID, replies
}

func mustConversation(t testing.TB, e *env, contact uuid.UUID) *uuid.UUID {
	t.Helper()
	page, err := e.mem.Timeline(context.Background(), e.acct, contact, nil, 500)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(page.Events) - 1; i >= 0; i-- {
		if id := page.Events[i].ConversationID; id != nil {
			return id
		}
	}
	t.Fatal("no conversation")
	return nil
}

func TestABurstOfMessagesIsOneTurn(t *testing.T) {
	e := newEnv(t)
	_, replies := e.say(t, "oi", "fui cobrado duas vezes", "no cartão")
	if len(replies) != 1 {
		t.Fatalf("three messages in a row get one reply, got %q", replies)
	}
	// Running the turn again finds nothing unanswered.
	contact, again := e.say(t)
	if len(again) != 1 {
		t.Fatalf("a turn with nothing new must not reply: %q (%s)", again, contact)
	}
}

func TestNeverAsksWhatMemoryKnows(t *testing.T) {
	e := newEnv(t)
	_, replies := e.say(t, "minha fatura veio com valor errado")
	if !strings.Contains(replies[0], "CPF") {
		t.Fatalf("billing without a CPF asks for it: %q", replies[0])
	}
	_, replies = e.say(t, "cpf 391.781.654-83")
	if !strings.Contains(replies[1], "não confere") {
		t.Fatalf("an invalid CPF is refused with the reason: %q", replies[1])
	}
	contact, replies := e.say(t, "desculpa, é 391.781.645-83. e a fatura de março veio em dobro")
	c, _ := e.mem.Contact(context.Background(), e.acct, contact)
	if c.Fields.CPF != "39178164583" {
		t.Fatalf("the valid CPF is remembered: %+v", c.Fields)
	}
	if strings.Contains(replies[2], "CPF") {
		t.Fatalf("a known CPF must not be asked again: %q", replies[2])
	}
}

func TestHandoffThenSilenceAndTheAIEventSaysWhy(t *testing.T) {
	e := newEnv(t)
	contact, replies := e.say(t, "vou no Procon, ninguém resolve meu problema com a entrega")
	if len(replies) != 1 || !strings.Contains(replies[0], "uma pessoa da nossa equipe") {
		t.Fatalf("handoff notice: %q", replies)
	}
	_, replies = e.say(t, "e aí?")
	if len(replies) != 1 {
		t.Fatalf("the bot stays silent while a person owns the conversation: %q", replies)
	}
	page, _ := e.mem.Timeline(context.Background(), e.acct, contact, nil, 500)
	var handoff memory.Event
	for _, ev := range page.Events {
		if ev.Kind == memory.EventHandoff {
			handoff = ev
		}
	}
	var d Decision
	if err := json.Unmarshal(handoff.Payload, &d); err != nil || d.Handoff != "threat_or_complaint" || d.Engine != "offline" || handoff.PromptVersion != OfflinePromptVersion {
		t.Fatalf("the handoff event must say why: %+v %s", d, handoff.Payload)
	}
}
