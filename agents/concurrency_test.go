package agents

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/atende/atende/agents/llm"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/conversations"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/fakes"
	"github.com/atende/atende/internal/testdb"
	"github.com/atende/atende/memory"
)

// newEnvOnPool is newEnv whose every part — orchestrator, handoffs, outbox,
// ingestion — runs on a pool of maxConns connections.
func newEnvOnPool(t *testing.T, maxConns int32) *env {
	t.Helper()
	_, url := testdb.New(t)
	pool, err := database.Open(context.Background(), url, maxConns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return newEnvOn(t, pool, true)
}

// customer stores a message from the Telegram user id and returns the turn
// that answers it.
func (e *env) customer(t *testing.T, id, text string) TurnArgs {
	t.Helper()
	res, err := e.ing.Ingest(context.Background(), e.ch, channels.Batch{Messages: []channels.Inbound{{ExternalID: uuid.NewString(), Type: "text",
		Text: text, At: time.Now(), From: channels.Sender{Name: "Cliente " + id, Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: id}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := e.mem.Event(context.Background(), e.acct, res.EventIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	return TurnArgs{AccountID: e.acct, ConversationID: *ev.ConversationID, ContactID: ev.ContactID, EventID: ev.ID}
}

// replies are the messages the bot queued for a contact.
func (e *env) replies(t *testing.T, contact uuid.UUID) []string {
	t.Helper()
	page, err := e.mem.Timeline(context.Background(), e.acct, contact, nil, 500)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range page.Events {
		if ev.Kind == memory.EventMessage && ev.Direction == memory.DirectionOut {
			out = append(out, ev.Text)
		}
	}
	return out
}

// On a pool of ONE connection, many conversations' turns at once — replies,
// clarifying questions, handoff cards — all finish: no code path holds a
// connection while it waits for another, so no pool size can wedge the
// server (issue 9: four connections, eight workers, every turn stuck).
func TestTurnsOnAMinimalPool(t *testing.T) {
	e := newEnvOnPool(t, 1)
	texts := []string{"quanto custa a jarra de vidro?", "fui cobrado duas vezes no cartão", "quero falar com um atendente",
		"meu pedido chegou quebrado", "oi", "preciso da segunda via do boleto"}
	const n = 24
	turns := make([]TurnArgs, n)
	for i := range n {
		turns[i] = e.customer(t, fmt.Sprint(7000+i), texts[i%len(texts)])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, turn := range turns {
		wg.Go(func() { errs[i] = e.orch.Turn(ctx, turn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("turn %d (%q) on a one-connection pool: %v", i, texts[i%len(texts)], err)
		}
		if got := e.replies(t, turns[i].ContactID); len(got) != 1 {
			t.Fatalf("customer %d gets exactly one reply, got %q", i, got)
		}
	}
}

// Two turns of one conversation at once (two workers, two replicas): one
// answers, the other finds the conversation held and is retried later — then
// finds nothing left to answer. The customer gets one reply.
func TestConcurrentTurnsOfOneConversationAnswerOnce(t *testing.T) {
	e := newEnv(t)
	turn := e.customer(t, "55", "quanto custa a jarra de vidro?")
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() { errs[i] = e.orch.Turn(context.Background(), turn) })
	}
	wg.Wait()
	busy := 0
	for _, err := range errs {
		var held conversations.ErrBusy
		switch {
		case err == nil:
		case errors.As(err, &held):
			busy++
		default:
			t.Fatal(err)
		}
	}
	if err := e.orch.Turn(context.Background(), turn); err != nil { // the retry of a busy one
		t.Fatal(err)
	}
	if got := e.replies(t, turn.ContactID); len(got) != 1 {
		t.Fatalf("one reply for one message, got %q (%d turns found it busy)", got, busy)
	}
}

// A message that arrives while a turn is deciding (here: while the LLM
// thinks) is not taken as answered by that turn's reply, whose id is larger:
// the same turn answers it next.
func TestAMessageWhileTheTurnDecidesIsAnsweredToo(t *testing.T) {
	e := newEnv(t)
	ai := fakes.NewOpenAI(t, fakes.Reply("A jarra de vidro custa R$ 89,90."), fakes.Reply("Entregamos em Porto Alegre, sim."))
	var second TurnArgs
	ai.OnRequest = func(n int) {
		if n == 1 {
			second = e.customer(t, "56", "e vocês entregam em porto alegre?")
		}
	}
	useLLM(t, e, ai)
	first := e.customer(t, "56", "quanto custa a jarra de vidro?")
	if err := e.orch.Turn(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	got := e.replies(t, first.ContactID)
	if len(got) != 2 || got[1] != "Entregamos em Porto Alegre, sim." {
		t.Fatalf("both messages answered, in order: %q", got)
	}
	// The second message's own turn finds nothing left.
	if err := e.orch.Turn(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	if again := e.replies(t, first.ContactID); len(again) != 2 {
		t.Fatalf("nothing is answered twice: %q", again)
	}
}

// When the LLM's update_fields reveals an e-mail another (older) contact has,
// the contacts merge during the turn: the reply goes to the surviving
// contact's timeline and contact.merged is emitted (before: the reply was
// appended to the merged-away contact, failed with ErrConflict on every retry
// and the customer got nothing).
func TestAMergeDuringTheTurnStillAnswers(t *testing.T) {
	e := newEnv(t)
	var merged int
	e.orch.events = eventFunc(func(event string) {
		if event == "contact.merged" {
			merged++
		}
	})
	older, err := e.mem.CreateContact(context.Background(), e.acct, memory.NewContact{Name: "Ana Souza",
		Identities: []memory.Identity{{Kind: memory.KindEmail, Value: "ana@exemplo.com.br"}}})
	if err != nil {
		t.Fatal(err)
	}
	ai := fakes.NewOpenAI(t, fakes.ToolCall("c1", "update_fields", `{"email":"ana@exemplo.com.br"}`), fakes.Reply("Obrigada, Ana! Já achei seu cadastro."))
	useLLM(t, e, ai)
	turn := e.customer(t, "57", "quanto custa a jarra? meu email é ana@exemplo.com.br")
	if err := e.orch.Turn(context.Background(), turn); err != nil {
		t.Fatal(err)
	}
	got := e.replies(t, older.Contact.ID)
	if len(got) != 1 || got[0] != "Obrigada, Ana! Já achei seu cadastro." {
		t.Fatalf("the survivor's timeline has the reply: %q", got)
	}
	if merged != 1 {
		t.Fatalf("contact.merged emitted %d times", merged)
	}
}

// useLLM answers the env's turns through a local OpenAI-compatible server.
func useLLM(t *testing.T, e *env, ai *fakes.OpenAI) {
	t.Helper()
	model, err := llm.NewModel(llm.Config{Provider: "openai", Model: "gpt-test", BaseURL: ai.URL + "/v1", APIKey: "sk"})
	if err != nil {
		t.Fatal(err)
	}
	e.orch.llm = llm.NewEngine(model, 4, 10*time.Second, llm.WithModelName("gpt-test"))
	tokens, err := memory.NewTokenCounter()
	if err != nil {
		t.Fatal(err)
	}
	e.orch.viewer = memory.NewViewer(e.mem, e.orch.knowledge, tokens, nil)
	e.orch.metrics = NewMetrics(prometheus.NewRegistry())
}

// A platform may stamp a later message earlier (a retry, an outage): the
// turn answers both, and records the higher id as answered, so the next turn
// does not answer the later one again.
func TestAMessageStampedEarlierIsAnsweredOnce(t *testing.T) {
	e := newEnv(t)
	first := e.customer(t, "58", "quanto custa a jarra de vidro?")
	late := channels.Inbound{ExternalID: uuid.NewString(), Type: "text", Text: "e vocês entregam em porto alegre?", At: time.Now().Add(-time.Hour),
		From: channels.Sender{Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "58"}}}}
	if _, err := e.ing.Ingest(context.Background(), e.ch, channels.Batch{Messages: []channels.Inbound{late}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.orch.Turn(context.Background(), first); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.replies(t, first.ContactID); len(got) != 1 {
		t.Fatalf("two messages, one turn, one reply: %q", got)
	}
}

// A person takes the conversation over (a reply from the business's phone)
// while the LLM is deciding: the bot's answer is not sent over theirs and the
// takeover stands.
func TestATakeoverDuringTheTurnSilencesTheBot(t *testing.T) {
	e := newEnv(t)
	ai := fakes.NewOpenAI(t, fakes.Reply("A jarra custa R$ 89,90."))
	convs := conversations.NewStore(e.pool)
	var turn TurnArgs
	ai.OnRequest = func(int) {
		_ = database.InTx(context.Background(), e.pool, func(tx pgx.Tx) error {
			return convs.SetStatusTx(context.Background(), tx, e.acct, turn.ConversationID, conversations.StatusHuman)
		})
	}
	useLLM(t, e, ai)
	turn = e.customer(t, "59", "quanto custa a jarra de vidro?")
	if err := e.orch.Turn(context.Background(), turn); err != nil {
		t.Fatal(err)
	}
	if got := e.replies(t, turn.ContactID); len(got) != 0 {
		t.Fatalf("the bot must not answer over the person: %q", got)
	}
	if c, _ := convs.Get(context.Background(), e.acct, turn.ConversationID); c.Status != conversations.StatusHuman {
		t.Fatalf("the takeover stands: %s", c.Status)
	}
}
