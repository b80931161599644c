package agents

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

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
	c, _ := e.mem.Conversation(context.Background(), e.acct, *mustConversation(t, e, contact))
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
