package api

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/memory"
)

// shown is what the card says of an event, in the team's words: a delivery
// status, a routing decision, a merge or a field edit is stored for machines
// (and in English); a person reads "entregue", "o assistente direcionou para
// Financeiro", "E-mail: a → b". quiet marks the lines a person skims.
func shown(e memory.Event) (text string, quiet bool) {
	switch e.Kind {
	case memory.EventStatus:
		var p struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(e.Payload, &p) == nil && p.Status != "" {
			return deliveryLabel(p.Status, p.Reason), true
		}
	case memory.EventAction:
		if e.Author == memory.AuthorAI {
			if t := decisionWords(e); t != "" {
				return t, true
			}
		}
	case memory.EventFieldChange:
		var ch memory.FieldChange
		if json.Unmarshal(e.Payload, &ch) == nil && ch.Field != "" {
			// who changed it stays on the quiet line: an integration's edit says so
			return fmt.Sprintf("%s: %s → %s · %s", fieldLabel(ch.Field), fieldValue(ch.Old), fieldValue(ch.New), authorLabel(e.Author)), true
		}
	case memory.EventMerge:
		var p struct {
			Action string `json:"action"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(e.Payload, &p) == nil {
			switch p.Action {
			case "merge":
				return "Outro contato foi unido a este (" + mergeReason(p.Reason) + ")", false
			case "unmerge":
				return "União de contatos desfeita", false
			}
		}
	}
	return e.Text, false
}

func fieldValue(v any) string {
	if v == nil || fmt.Sprint(v) == "" {
		return "(vazio)"
	}
	return fmt.Sprint(v)
}

// mergeReason says why contacts were merged: the shared identifier, or who.
func mergeReason(r string) string {
	r = strings.TrimSpace(r)
	for en, pt := range map[string]string{"shared identity": "mesmo identificador", "manual": "unidos à mão", "same ": "mesmo "} {
		r = strings.ReplaceAll(r, en, pt)
	}
	if r == "" {
		return "mesma pessoa"
	}
	return r
}

// decisionWords says a routing decision as a person would: where the
// assistant sent the conversation and how sure it was.
func decisionWords(e memory.Event) string {
	var d struct {
		Sector       string  `json:"sector"`
		Confidence   float64 `json:"confidence"`
		TransferFrom string  `json:"transfer_from"`
		Clarify      bool    `json:"clarify"`
		Engine       string  `json:"engine"`
	}
	if json.Unmarshal(e.Payload, &d) != nil || d.Engine == "" {
		return ""
	}
	sure := ""
	if d.Confidence > 0 {
		sure = fmt.Sprintf(" · confiança %d%%", int(d.Confidence*100+0.5))
	}
	switch {
	case d.Clarify:
		return "O assistente perguntou o assunto" + sure
	case d.TransferFrom != "" && d.TransferFrom != d.Sector:
		return "O assistente transferiu de " + sectorLabel(d.TransferFrom) + " para " + sectorLabel(d.Sector) + sure
	case d.Sector == "" || d.Sector == "none":
		return "O assistente respondeu sem setor" + sure
	}
	return "O assistente direcionou para " + sectorLabel(d.Sector) + sure
}

// deliveryLabel is a delivery status in the team's words, with the reason
// of a failure said plainly where Atende knows it.
func deliveryLabel(status, reason string) string {
	word := map[string]string{"sent": "enviada", "delivered": "entregue", "read": "lida", "played": "ouvida",
		"failed": "não entregue", channels.StatusHeld: "aguardando o cliente responder ao modelo"}[status]
	if word == "" {
		word = status
	}
	if status == channels.StatusHeld || reason == "" {
		return word
	}
	return word + ": " + reasonWords(reason)
}

var (
	outsideWindow = regexp.MustCompile(`the customer's last message was (.+) ago, outside the (.+) window of (\w+)`)
	neverWrote    = regexp.MustCompile(`the customer never wrote on (\w+), so no window is open`)
	noAddress     = regexp.MustCompile(`the contact has no (\w+) address`)
)

// reasonWords translates the reasons Atende itself writes; a platform's
// code stays as it came (an attendant searches for it).
func reasonWords(r string) string {
	r = strings.TrimPrefix(r, "not sent: ")
	if m := outsideWindow.FindStringSubmatch(r); m != nil {
		return "a última mensagem do cliente foi há " + durationWords(m[1]) + ", fora da janela de " + durationWords(m[2]) + " do " + channelLabel(m[3])
	}
	if m := neverWrote.FindStringSubmatch(r); m != nil {
		return "o cliente nunca escreveu pelo " + channelLabel(m[1]) + ", então não há janela aberta"
	}
	if m := noAddress.FindStringSubmatch(r); m != nil {
		return "o contato não tem endereço no " + channelLabel(m[1])
	}
	for en, pt := range map[string]string{
		"the channel no longer exists":       "o canal não existe mais",
		"nothing to send":                    "nada a enviar",
		"no mail sender configured":          "nenhum servidor de e-mail configurado",
		"the message could not be delivered": "a mensagem não pôde ser entregue",
	} {
		r = strings.ReplaceAll(r, en, pt)
	}
	return r
}

// durationWords turns Go's "30h0m0s" into "30 h".
func durationWords(d string) string {
	d = strings.TrimSuffix(strings.TrimSuffix(d, "0s"), "0m")
	d = strings.ReplaceAll(d, "h", " h ")
	d = strings.ReplaceAll(d, "m", " min ")
	return strings.TrimSpace(strings.ReplaceAll(d, "  ", " "))
}
