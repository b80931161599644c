package agents

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/atende/atende/agents/offline"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/memory"
)

// fieldQuestion asks for a field in the customer's words (the registry's
// question); a custom field is asked by its key.
func fieldQuestion(field string) string {
	if f, ok := memory.Field(field); ok && f.Question != "" {
		return f.Question
	}
	return strings.ReplaceAll(field, "_", " ")
}

// offlineAnswer composes the offline engine's reply: a correction for an
// invalid identifier, the sector's knowledge when it matches, or the fields
// the sector still needs — asked the channel's way and never one memory
// knows. A knowledge answer says what happens next (the field the sector
// needs to go on, else an offer of more help), and the first reply of a
// conversation greets the customer by name (greet), once. answered is false
// when it had nothing to say but an acknowledgement.
func (o *Orchestrator) offlineAnswer(ctx context.Context, accountID uuid.UUID, sec Sector, text string, c memory.Contact, ex []offline.Extraction, rules channels.Rules, greet bool) (reply string, answered bool, err error) {
	for _, e := range ex {
		if e.Field == "cpf" && !e.Valid {
			return fmt.Sprintf("O CPF %s não confere (os dígitos verificadores não batem). Pode conferir e me mandar de novo?", e.Raw), true, nil
		}
	}
	name := ""
	if first := firstName(c); first != "" {
		name = ", " + first
	}
	reg := registerOf(rules.Kind)
	for _, k := range sec.Knowledge {
		hits, err := o.knowledge.Search(ctx, accountID, k, text, 1)
		if err != nil {
			return "", false, err
		}
		if len(hits) > 0 && hits[0].TextRank > 0 {
			next := reg.moreHelp
			if missing := missingFields(sec.Collect, c); len(missing) > 0 {
				next = collectQuestion(missing, rules)
			}
			body := hits[0].Body
			if first := firstName(c); greet && first != "" {
				body = reg.hello + ", " + first + "! " + body
			}
			return body + "\n\n" + next, true, nil
		}
	}
	if missing := missingFields(sec.Collect, c); len(missing) > 0 {
		return collectQuestion(missing, rules), true, nil
	}
	return fmt.Sprintf(reg.thanks, name), false, nil
}

// missingFields are the fields to collect that memory does not know: a
// contact's identities count (a known e-mail is not asked for).
func missingFields(collect []string, c memory.Contact) []string {
	fields := c.Fields.Map()
	var missing []string
	for _, f := range collect {
		if _, ok := fields[f]; ok {
			continue
		}
		known := false
		for _, id := range c.Identities {
			known = known || string(id.Kind) == f
		}
		if !known {
			missing = append(missing, f)
		}
	}
	return missing
}

// collectQuestion asks for missing fields the channel's way: one short
// question (WhatsApp, Instagram), everything in one message (e-mail,
// Telegram), or a list to fill in (webchat).
func collectQuestion(missing []string, rules channels.Rules) string {
	switch how := rules.Collection; {
	case how == channels.CollectOneQuestion || len(missing) == 1:
		return fmt.Sprintf(registerOf(rules.Kind).askOne, fieldQuestion(missing[0]))
	case how == channels.CollectForm:
		var b strings.Builder
		b.WriteString("Para continuar, preencha por favor:")
		for _, f := range missing {
			b.WriteString("\n- " + fieldQuestion(f) + ":")
		}
		return b.String()
	default:
		qs := make([]string, len(missing))
		for i, f := range missing {
			qs[i] = fieldQuestion(f)
		}
		return "Para darmos andamento, poderia nos informar " + strings.Join(qs[:len(qs)-1], ", ") + " e " + qs[len(qs)-1] + "?"
	}
}
