package api

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/atende/atende/memory"
)

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func urlEscape(s string) string { return url.QueryEscape(s) }

var reasonLabels = map[string]string{
	"asked_for_person":    "Pediu uma pessoa",
	"threat_or_complaint": "Reclamação / ameaça",
	"frustration":         "Cliente irritado",
	"classifier":          "Parece querer uma pessoa",
	"low_confidence":      "Assunto não entendido",
	"failed_answers":      "Pergunta sem resposta",
	"sector_policy":       "Política do setor",
	"human_takeover":      "Assumido por pessoa",
	"payment_proof":       "Comprovante para conferir",
	"engine_failed":       "Falha do assistente",
}

func reasonLabel(r string) string {
	if l, ok := reasonLabels[r]; ok {
		return l
	}
	return r
}

func authorLabel(a memory.Author) string {
	return map[memory.Author]string{memory.AuthorContact: "Cliente", memory.AuthorAI: "Assistente", memory.AuthorHuman: "Equipe",
		memory.AuthorSystem: "Sistema", memory.AuthorAPI: "Integração (API)"}[a]
}

func kindLabel(k memory.EventKind) string {
	return map[memory.EventKind]string{memory.EventMessage: "mensagem", memory.EventNote: "nota interna", memory.EventAction: "ação",
		memory.EventHandoff: "transferência", memory.EventAssignment: "atribuição", memory.EventFieldChange: "dado alterado",
		memory.EventCSAT: "avaliação", memory.EventMerge: "contatos unidos", memory.EventStatus: "status", memory.EventAnnotation: "reação ou edição",
		memory.EventTag: "tag"}[k]
}

func channelLabel(kind string) string {
	if l, ok := map[string]string{"whatsapp": "WhatsApp", "evolution": "WhatsApp", "instagram": "Instagram", "telegram": "Telegram",
		"webchat": "Site", "email": "E-mail", "chatwoot": "Chatwoot"}[kind]; ok {
		return l
	}
	return kind
}

// editable are the fields the inbox's panel edits, in the registry's order.
func editable() []string {
	var out []string
	for _, f := range memory.Registry() {
		if f.Editable {
			out = append(out, f.Key)
		}
	}
	return out
}

func fieldLabel(k string) string {
	if f, ok := memory.Field(k); ok {
		return f.Label
	}
	if kind, ok := strings.CutPrefix(k, "id_"); ok {
		return channelLabel(kind) + " (id)"
	}
	return k
}

func statusLabel(s string) string {
	if l, ok := map[string]string{"queued": "na fila", "assigned": "atribuído", "resolved": "resolvido", "returned": "devolvido"}[s]; ok {
		return l
	}
	return s
}

func priorityLabel(p string) string {
	if l, ok := map[string]string{"normal": "prioridade normal", "high": "prioridade alta", "urgent": "urgente"}[p]; ok {
		return l
	}
	return p
}

type fieldRow struct {
	Key, Label, Value string
}

func editableFields(c memory.Contact) []fieldRow {
	m := c.Fields.Map()
	out := make([]fieldRow, 0, len(editable()))
	for _, k := range editable() {
		v := ""
		if x, ok := m[k]; ok {
			v = fmt.Sprint(x)
		}
		if v == "" {
			v = knownElsewhere(c, k) // the card says "Bia": so does the field
		}
		out = append(out, fieldRow{Key: k, Label: fieldLabel(k), Value: v})
	}
	return out
}

// sectorLabel names the built-in sectors as the team says them; a business's
// own sectors keep their names.
func sectorLabel(name string) string {
	switch name {
	case "sales":
		return "Vendas"
	case "support":
		return "Suporte"
	case "billing":
		return "Financeiro"
	case "none":
		return "sem setor"
	}
	return name
}

// knownElsewhere is what the contact already shows for a field left empty:
// the name the channel gave, the phone or e-mail it is known by.
func knownElsewhere(c memory.Contact, field string) string {
	switch field {
	case memory.FieldName:
		return c.DisplayName
	case memory.FieldPhone, memory.FieldEmail:
		kind := memory.KindPhone
		if field == memory.FieldEmail {
			kind = memory.KindEmail
		}
		for _, id := range c.Identities {
			if id.Kind == kind {
				return id.Value
			}
		}
	}
	return ""
}
