package handoff

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/memory"
)

// cardMessages is how many of the conversation's latest messages the card reads.
const cardMessages = 60

// card is what a person needs to start without asking again.
type card struct {
	summary    string
	nextAction string
	fields     map[string]any
}

// buildCard writes the card offline, extractively: the need in the
// customer's words, the facts collected, what the bot already tried and the
// last customer message. An LLM summary or next action, when given, wins.
func (s *Service) buildCard(ctx context.Context, tx pgx.Tx, r Request) (card, error) {
	c, err := s.memory.ContactTx(ctx, tx, r.AccountID, r.ContactID)
	if err != nil {
		return card{}, err
	}
	msgs, err := s.memory.ConversationMessagesTx(ctx, tx, r.AccountID, r.ConversationID, cardMessages)
	if err != nil {
		return card{}, err
	}
	var said, bot []string
	unheard := 0
	for _, m := range msgs {
		if m.Direction == memory.DirectionIn {
			unheard += m.Unheard()
		}
		text := strings.Join(strings.Fields(m.Said()), " ")
		if text == "" || strings.HasPrefix(text, "[") {
			continue
		}
		switch {
		case m.Direction == memory.DirectionIn:
			said = append(said, text)
		case m.Author == memory.AuthorAI:
			bot = append(bot, text)
		}
	}
	out := card{fields: cardFields(c)}
	need := statedNeed(said)
	if need == "" {
		need = longest(said)
	}
	var b strings.Builder
	if need != "" {
		fmt.Fprintf(&b, "Pedido do cliente: «%s».", clip(need, 400))
	}
	var also []string
	for _, s := range keySentences(said, 4) {
		if s != need {
			also = append(also, "«"+clip(s, 300)+"»")
		}
	}
	if len(also) > 0 {
		fmt.Fprintf(&b, " Também disse: %s.", strings.Join(also[:min(3, len(also))], " "))
	}
	if facts := factLine(out.fields); facts != "" {
		fmt.Fprintf(&b, " Dados já informados: %s.", facts)
	}
	if len(bot) > 0 {
		fmt.Fprintf(&b, " O assistente respondeu %d vez(es); a última: «%s».", len(bot), clip(bot[len(bot)-1], 200))
	}
	if len(said) > 0 {
		fmt.Fprintf(&b, " Última mensagem do cliente: «%s».", clip(said[len(said)-1], 300))
	}
	if unheard > 0 {
		// nobody knows what it says: a person listens before answering
		fmt.Fprintf(&b, " O cliente enviou %d áudio(s) sem transcrição: ouça no histórico.", unheard)
	}
	fmt.Fprintf(&b, " Motivo da transferência: %s.", reasonPhrase(r.Reason))
	out.summary = strings.TrimSpace(b.String())
	if r.Summary != "" {
		out.summary = r.Summary
	}
	out.nextAction = r.NextAction
	if out.nextAction == "" {
		out.nextAction = nextAction(r, need, said)
	}
	return out, nil
}

// cardFields are the filled fields a person sees first: name, identifiers,
// collected data, origin and stage. An invalid CPF never got stored, so it
// never shows.
func cardFields(c memory.Contact) map[string]any {
	out := map[string]any{}
	for k, v := range c.Fields.Map() {
		out[k] = v
	}
	if _, ok := out["name"]; !ok && c.DisplayName != "" {
		out["name"] = c.DisplayName
	}
	for _, id := range c.Identities {
		key := string(id.Kind)
		switch id.Kind {
		case memory.KindPhone, memory.KindEmail, memory.KindCPF:
		default:
			key = "id_" + key
		}
		if _, ok := out[key]; !ok {
			out[key] = id.Value
		}
	}
	if c.FirstContact.Channel != "" {
		out["origin"] = c.FirstContact.Channel
	}
	if c.Stage != "" {
		out["stage"] = c.Stage
	}
	return out
}

func factLine(fields map[string]any) string {
	var parts []string
	for _, f := range memory.Registry() {
		if v, ok := fields[f.Key]; ok && f.Fact != "" && fmt.Sprint(v) != "" {
			parts = append(parts, fmt.Sprintf("%s %v", f.Fact, v))
		}
	}
	return strings.Join(parts, ", ")
}

var reasons = map[string]string{
	"asked_for_person":    "o cliente pediu para falar com uma pessoa",
	"threat_or_complaint": "reclamação ou ameaça (Procon, Reclame Aqui, processo)",
	"frustration":         "cliente irritado",
	"classifier":          "o cliente parece querer uma pessoa",
	"low_confidence":      "o assistente não entendeu o assunto",
	"failed_answers":      "o assistente não conseguiu responder",
	"sector_policy":       "política do setor",
	"human_takeover":      "uma pessoa assumiu a conversa",
	"payment_proof":       "comprovante de pagamento para conferir",
}

func reasonPhrase(reason string) string {
	if p, ok := reasons[reason]; ok {
		return p
	}
	return reason
}

func longest(texts []string) string {
	best := ""
	for _, t := range texts {
		if len([]rune(t)) > len([]rune(best)) {
			best = t
		}
	}
	return best
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// timelineLink is where the card's contact history is read.
func timelineLink(contactID uuid.UUID) string {
	return "/api/v1/contacts/" + contactID.String() + "/timeline"
}
