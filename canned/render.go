package canned

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/memory"
)

// A response's text names contact data as {{variable}}: the Portuguese
// names below, or any key of the field registry (memory.Registry:
// {{order_number}}, {{need}}, ...). Filling never blanks a variable: one the
// contact has no value for stays as written and is reported as missing, so
// the attendant fills it; a name that is no variable stays too and is
// reported as unknown.

// aliases are the Portuguese variables and the field each one reads.
var aliases = map[string]string{
	"nome":          memory.FieldName,
	"primeiro_nome": memory.FieldName,
	"email":         memory.FieldEmail,
	"telefone":      memory.FieldPhone,
	"pedido":        memory.FieldOrderNumber,
	"cpf":           memory.FieldCPF,
}

// Variable is one name a response may use.
type Variable struct {
	Name  string `json:"name"`
	Field string `json:"field"`
	Label string `json:"label"`
}

// Variables lists the names a response may use: the Portuguese ones, then
// every registry key.
func Variables() []Variable {
	out := []Variable{}
	for _, n := range []string{"nome", "primeiro_nome", "email", "telefone", "pedido", "cpf"} {
		f, _ := memory.Field(aliases[n])
		label := f.Label
		if n == "primeiro_nome" {
			label = "Primeiro nome"
		}
		out = append(out, Variable{Name: n, Field: aliases[n], Label: label})
	}
	for _, f := range memory.Registry() {
		out = append(out, Variable{Name: f.Key, Field: f.Key, Label: f.Label})
	}
	return out
}

var variablePattern = regexp.MustCompile(`\{\{\s*([^{}\s]+)\s*\}\}`)

// fieldOf is the registry field a variable name reads, and whether it names one.
func fieldOf(name string) (string, bool) {
	if f, ok := aliases[name]; ok {
		return f, true
	}
	if _, ok := memory.Field(name); ok {
		return name, true
	}
	return "", false
}

// valueOf is the contact's value of a variable ("" when it has none).
func valueOf(name, field string, c memory.Contact) string {
	v := ""
	if raw, ok := c.Fields.Get(field); ok {
		switch x := raw.(type) {
		case string:
			v = x
		case nil:
		case float64, bool, int, int64:
			v = fmt.Sprint(x)
		default:
			if b, err := json.Marshal(x); err == nil {
				v = string(b)
			}
		}
	}
	if field == memory.FieldName && strings.TrimSpace(v) == "" {
		v = c.DisplayName
	}
	v = strings.TrimSpace(v)
	if name == "primeiro_nome" {
		if words := strings.Fields(v); len(words) > 0 {
			v = words[0]
		}
	}
	return v
}

// Filled is a response's text for one contact, still canonical Markdown.
type Filled struct {
	Text string `json:"text"`
	// Missing are the variables the contact has no value for, in order of
	// appearance; they stay in Text as {{name}} for the attendant to fill.
	Missing []string `json:"missing"`
	// Unknown are the names in {{ }} that are no variable; they stay as written.
	Unknown []string `json:"unknown"`
}

// Fill puts the contact's data in the text's variables (names are read
// without regard to case and surrounding spaces: {{ Nome }} is {{nome}}).
func Fill(text string, c memory.Contact) Filled {
	out := Filled{Missing: []string{}, Unknown: []string{}}
	seen := map[string]bool{}
	note := func(list *[]string, name string) {
		if !seen[name] {
			seen[name] = true
			*list = append(*list, name)
		}
	}
	out.Text = variablePattern.ReplaceAllStringFunc(text, func(m string) string {
		name := strings.ToLower(variablePattern.FindStringSubmatch(m)[1])
		field, ok := fieldOf(name)
		if !ok {
			note(&out.Unknown, name)
			return m
		}
		v := valueOf(name, field, c)
		if v == "" {
			note(&out.Missing, name)
			return "{{" + name + "}}"
		}
		return v
	})
	return out
}

// Rendered is a response filled for a contact and rendered for a channel.
type Rendered struct {
	// Text is the message in the channel's dialect (WhatsApp's *bold*,
	// Telegram's HTML, plain text for Instagram and e-mail's text part);
	// parts longer than the channel allows are joined by a blank line.
	Text string `json:"text"`
	// HTML is e-mail's HTML part.
	HTML string `json:"html,omitempty"`
	// Parts are the messages the channel gets (one unless the text is
	// longer than the channel's limit).
	Parts []channels.Rendered `json:"parts"`
	// Canonical is the filled text before rendering: what a reply box
	// takes (the outbox renders replies per channel when it sends them).
	Canonical string   `json:"canonical"`
	Missing   []string `json:"missing"`
	Unknown   []string `json:"unknown"`
}

// Render fills the text for the contact and renders it under the channel's rules.
func Render(rules channels.Rules, text string, c memory.Contact) Rendered {
	f := Fill(text, c)
	parts := channels.Render(rules, f.Text)
	out := Rendered{Parts: parts, Canonical: f.Text, Missing: f.Missing, Unknown: f.Unknown}
	texts := make([]string, 0, len(parts))
	var html []string
	for _, p := range parts {
		texts = append(texts, p.Text)
		if p.HTML != "" {
			html = append(html, p.HTML)
		}
	}
	out.Text = strings.Join(texts, "\n\n")
	out.HTML = strings.Join(html, "")
	return out
}
