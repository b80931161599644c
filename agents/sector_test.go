package agents

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/conversations"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/memory"
)

func (e *env) setSectors(t *testing.T, sectors ...Sector) {
	t.Helper()
	if err := e.orch.sectors.Put(context.Background(), e.acct, sectors, nil); err != nil {
		t.Fatal(err)
	}
}

// decisions are the AI decision events of a contact's timeline, oldest first.
func (e *env) decisions(t *testing.T, contact uuid.UUID) []Decision {
	t.Helper()
	page, err := e.mem.Timeline(context.Background(), e.acct, contact, nil, 500)
	if err != nil {
		t.Fatal(err)
	}
	var out []Decision
	for _, ev := range page.Events {
		if ev.Author != memory.AuthorAI || (ev.Kind != memory.EventAction && ev.Kind != memory.EventHandoff) || !strings.Contains(string(ev.Payload), `"engine"`) {
			continue
		}
		var d Decision
		if err := json.Unmarshal(ev.Payload, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func TestABusinessDefinedSectorRoutesCollectsAndHandsOffToItsTeam(t *testing.T) {
	e := newEnv(t)
	e.setSectors(t,
		Sector{Name: "agendamento", Title: "Agendamento", Team: "recepcao", SLA: Duration(10 * time.Minute), Collect: []string{"name", "email"},
			Examples: []string{"quero marcar uma limpeza", "tem horário com a dentista amanhã?", "preciso remarcar minha consulta",
				"dá pra agendar uma avaliação?", "quero agendar um horário", "tem vaga pra consulta sábado?"}},
		Sector{Name: "financeiro", Title: "Financeiro", Like: "billing"},
		Sector{Name: "juridico", Title: "Jurídico", Handoff: HandoffPolicy{Always: true},
			Examples: []string{"recebi uma notificação extrajudicial", "meu advogado vai entrar em contato", "vou processar a clínica pelo tratamento"}},
	)
	contact, replies := e.say(t, "oi, queria marcar uma consulta de limpeza pra semana que vem")
	d := e.decisions(t, contact)
	if d[0].Sector != "agendamento" {
		t.Fatalf("routed to %s (%s)", d[0].Sector, d[0].Why)
	}
	// Telegram collects inline: every missing field in one message.
	if !strings.Contains(replies[0], "seu nome") || !strings.Contains(replies[0], "seu e-mail") {
		t.Fatalf("the sector's fields, asked Telegram's way: %q", replies[0])
	}
	contact, replies = e.say(t, "Marcos Lima, marcos.lima@exemplo.com.br")
	if strings.Contains(replies[1], "e-mail") {
		t.Fatalf("a known e-mail must not be asked again: %q", replies[1])
	}
	_, _ = contact, replies

	// A sector whose policy is always a person.
	e2 := newEnv(t)
	e2.setSectors(t, Sector{Name: "atendimento", Title: "Atendimento", Like: "support"},
		Sector{Name: "juridico", Title: "Jurídico", Team: "advocacia", SLA: Duration(2 * time.Hour), Handoff: HandoffPolicy{Always: true},
			Examples: []string{"recebi uma notificação extrajudicial", "meu advogado vai entrar em contato", "quero uma cópia do contrato para meu advogado"}})
	before := time.Now()
	contact, replies = e2.say(t, "recebi uma notificação extrajudicial de vocês, o que é isso?")
	d = e2.decisions(t, contact)
	if len(d) != 1 || d[0].Sector != "juridico" || d[0].Handoff != string(ReasonPolicy) || d[0].Team != "advocacia" || d[0].SLADue == nil ||
		d[0].SLADue.Sub(before) < 2*time.Hour-time.Minute || d[0].SLADue.Sub(before) > 2*time.Hour+time.Minute {
		t.Fatalf("policy handoff: %+v", d)
	}
	if !strings.Contains(replies[0], "equipe de jurídico") || !strings.Contains(replies[0], "2 horas") {
		t.Fatalf("the notice names the team's wait: %q", replies[0])
	}
}

func TestUnsureAsksOnceThenHandsOff(t *testing.T) {
	e := newEnv(t)
	// A threshold nothing reaches: every first message is "unsure".
	strict := HandoffPolicy{MinConfidence: 0.99}
	e.setSectors(t, Sector{Name: "sales", Title: "Vendas", Handoff: strict}, Sector{Name: "support", Title: "Suporte", Handoff: strict},
		Sector{Name: "billing", Title: "Financeiro", Handoff: strict})
	contact, replies := e.say(t, "queria ver o valor do meu plano")
	d := e.decisions(t, contact)
	if len(d) != 1 || !d[0].Clarify || !strings.HasPrefix(replies[0], "Para eu te direcionar certo: é sobre ") || !strings.Contains(replies[0], " ou ") {
		t.Fatalf("one short clarifying question: %q %+v", replies, d)
	}
	c, _ := conversations.NewStore(e.pool).Get(context.Background(), e.acct, *mustConversation(t, e, contact))
	if c.Sector != "" || c.Status != "bot" {
		t.Fatalf("a clarifying question picks no sector: %+v", c)
	}
	_, replies = e.say(t, "hmm")
	d = e.decisions(t, contact)
	if len(d) != 2 || d[1].Handoff != string(ReasonLowConfidence) || !strings.Contains(replies[1], "uma pessoa da nossa equipe") {
		t.Fatalf("still unsure after asking: a person takes over: %q %+v", replies, d)
	}
}

func TestTheSameQuestionFailingTwiceHandsOff(t *testing.T) {
	e := newEnv(t)
	e.setSectors(t, Sector{Name: "ouvidoria", Title: "Ouvidoria", Like: "support", Collect: []string{"order_number"}})
	contact, replies := e.say(t, "o produto chegou com defeito")
	if !strings.Contains(replies[0], "número do pedido") {
		t.Fatalf("asks what it needs: %q", replies[0])
	}
	e.say(t, "pedido 48213, a tampa veio rachada")
	// A new question after an unanswered one is not a repeat.
	e.say(t, "e vocês entregam no sábado?")
	_, replies = e.say(t, "entregam no sábado ou não?")
	_, replies = e.say(t, "vocês entregam no sábado??") // with a person now: silence
	d := e.decisions(t, contact)
	if len(d) != 4 || d[1].Answered || d[1].FailedRun != 1 || d[2].FailedRun != 1 || d[2].Handoff != "" {
		t.Fatalf("a new question starts over: %+v", d)
	}
	if d[3].FailedRun != 2 || d[3].Handoff != string(ReasonFailedAnswers) {
		t.Fatalf("the same question unanswered twice hands off: %+v", d[3])
	}
	if !strings.Contains(replies[len(replies)-1], "uma pessoa da nossa equipe") {
		t.Fatalf("handoff notice: %q", replies)
	}
}

func TestStickySectorAndTransfer(t *testing.T) {
	e := newEnv(t)
	contact, _ := e.say(t, "fui cobrado duas vezes no cartão, quero o estorno")
	e.say(t, "ok")
	e.say(t, "outra coisa: esqueci a senha e não consigo entrar no aplicativo")
	d := e.decisions(t, contact)
	if len(d) != 3 || d[0].Sector != "billing" || d[1].Sector != "billing" || d[2].Sector != "support" || d[2].TransferFrom != "billing" {
		t.Fatalf("sticky then transfer: %+v", d)
	}
	if !strings.HasPrefix(d[1].Why, "kept billing") {
		t.Fatalf("why it kept the sector: %q", d[1].Why)
	}
}

// Out of the team's hours the customer is told when they will be answered
// (the channel's away template), and the card's SLA starts when the team does.
func TestHandoffOutOfHoursSaysWhen(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	log := e.orch.log
	svc := handoff.NewService(e.pool, e.mem, e.orch.channels, e.orch.outbox, e.inserter, nil, log)
	e.orch.handoffs = svc
	loc, _ := time.LoadLocation("America/Sao_Paulo")
	now := time.Now().In(loc)
	opens := now.Add(3 * time.Hour)
	day := strings.ToLower(opens.Weekday().String()[:3])
	span := opens.Format("15:04") + "-" + opens.Add(time.Hour).Format("15:04")
	if opens.Add(time.Hour).Day() != opens.Day() {
		span = opens.Format("15:04") + "-23:59"
	}
	if err := svc.PutTeams(ctx, e.acct, []handoff.Team{{Name: "suporte", Timezone: "America/Sao_Paulo", Hours: map[string]string{day: span}}}); err != nil {
		t.Fatal(err)
	}
	contact, replies := e.say(t, "quero falar com um atendente sobre meu pedido")
	if !strings.Contains(replies[0], "fora do horário") || !strings.Contains(replies[0], opens.Format("15:04")) {
		t.Fatalf("the away template with when: %q", replies[0])
	}
	list, _ := svc.List(ctx, e.acct, handoff.Filter{ContactID: &contact})
	if len(list) != 1 || list[0].SLADue.Before(opens.Truncate(time.Minute)) {
		t.Fatalf("the SLA starts when the team opens: %+v", list)
	}
}

// A revealed identifier that merges two contacts emits contact.merged.
func TestMergeByARevealedIdentifierIsAnEvent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.mem.CreateContact(ctx, e.acct, memory.NewContact{Name: "Marcos (e-mail)", Identities: []memory.Identity{{Kind: memory.KindEmail, Value: "marcos@exemplo.com"}}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	e.orch.events = eventFunc(func(event string) { got = append(got, event) })
	e.say(t, "meu email é marcos@exemplo.com")
	if len(got) != 1 || got[0] != "contact.merged" {
		t.Fatalf("events: %v", got)
	}
}

type eventFunc func(string)

func (f eventFunc) Emit(_ context.Context, _ pgx.Tx, _ uuid.UUID, event string, _ any) error {
	f(event)
	return nil
}
