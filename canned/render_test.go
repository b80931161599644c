package canned

import (
	"reflect"
	"strings"
	"testing"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/memory"
)

func rui() memory.Contact {
	return memory.Contact{DisplayName: "rui_telegram", Fields: memory.Fields{Name: "Rui Costa", Email: "rui@exemplo.com.br",
		Phone: "+5511987654321", CPF: "52998224725", Need: "troca do fone", Custom: map[string]any{memory.FieldOrderNumber: "48213"}}}
}

// Every variable is filled from the contact: the Portuguese names, any
// registry key, in any case and with spaces inside the braces.
func TestFillPutsTheContactsData(t *testing.T) {
	got := Fill("Olá, {{primeiro_nome}}! {{ Nome }} · {{email}} · {{telefone}} · {{cpf}} · pedido {{pedido}} ({{order_number}}) · {{need}}", rui())
	want := "Olá, Rui! Rui Costa · rui@exemplo.com.br · +5511987654321 · 52998224725 · pedido 48213 (48213) · troca do fone"
	if got.Text != want || len(got.Missing) != 0 || len(got.Unknown) != 0 {
		t.Fatalf("Fill = %+v\nwant %q", got, want)
	}
}

// An unknown name stays as written and is reported; a known variable the
// contact has no value for stays visible and is reported as missing, never
// blanked; each is reported once.
func TestFillReportsUnknownAndMissing(t *testing.T) {
	c := memory.Contact{Fields: memory.Fields{Name: "Ana"}}
	got := Fill("Oi {{nome}}, seu pedido {{pedido}} sai com {{transportadora}}. Pedido {{pedido}}, CPF {{cpf}}.", c)
	if got.Text != "Oi Ana, seu pedido {{pedido}} sai com {{transportadora}}. Pedido {{pedido}}, CPF {{cpf}}." {
		t.Fatalf("text: %q", got.Text)
	}
	if !reflect.DeepEqual(got.Missing, []string{"pedido", "cpf"}) || !reflect.DeepEqual(got.Unknown, []string{"transportadora"}) {
		t.Fatalf("missing %q unknown %q", got.Missing, got.Unknown)
	}
	// A contact with no name at all: the name is missing, not blank.
	got = Fill("Olá, {{primeiro_nome}}!", memory.Contact{})
	if got.Text != "Olá, {{primeiro_nome}}!" || !reflect.DeepEqual(got.Missing, []string{"primeiro_nome"}) {
		t.Fatalf("no name: %+v", got)
	}
	// Blank values are missing too; the channel's display name stands in for
	// an unset name field.
	got = Fill("{{nome}} {{email}}", memory.Contact{DisplayName: "Rui Costa", Fields: memory.Fields{Custom: map[string]any{"x": 1}}})
	if got.Text != "Rui Costa {{email}}" || !reflect.DeepEqual(got.Missing, []string{"email"}) {
		t.Fatalf("display name: %+v", got)
	}
	if got := Fill("sem variáveis", memory.Contact{}); got.Missing == nil || got.Unknown == nil {
		t.Fatal("the lists are empty, not null, in JSON")
	}
}

// The filled text is rendered in each channel's dialect, like any reply.
func TestRenderPerChannel(t *testing.T) {
	text := "# Segunda via\nOlá, **{{primeiro_nome}}**! O boleto do pedido {{pedido}}: [baixar](https://loja.example/b/48213)\n- vence em 3 dias"
	cases := map[channels.Kind]string{
		channels.KindWhatsApp:  "*Segunda via*\nOlá, *Rui*! O boleto do pedido 48213: baixar (https://loja.example/b/48213)\n• vence em 3 dias",
		channels.KindTelegram:  "<b>Segunda via</b>\nOlá, <b>Rui</b>! O boleto do pedido 48213: <a href=\"https://loja.example/b/48213\">baixar</a>\n• vence em 3 dias",
		channels.KindInstagram: "Segunda via\nOlá, Rui! O boleto do pedido 48213: baixar: https://loja.example/b/48213\n• vence em 3 dias",
	}
	for kind, want := range cases {
		got := Render(channels.DefaultRules(kind), text, rui())
		if got.Text != want {
			t.Errorf("%s:\n got %q\nwant %q", kind, got.Text, want)
		}
		if !strings.HasPrefix(got.Canonical, "# Segunda via\nOlá, **Rui**!") || len(got.Parts) != 1 {
			t.Errorf("%s: canonical %q parts %d", kind, got.Canonical, len(got.Parts))
		}
	}
	mail := Render(channels.DefaultRules(channels.KindEmail), text, rui())
	if !strings.Contains(mail.HTML, "<h3>Segunda via</h3>") || !strings.Contains(mail.HTML, "<b>Rui</b>") || strings.Contains(mail.Text, "**") {
		t.Errorf("e-mail: %+v", mail)
	}
	// Variables left in place survive the dialect, and are still reported.
	got := Render(channels.DefaultRules(channels.KindWhatsApp), "Pedido *{{pedido}}*, {{x_y}}", memory.Contact{})
	if got.Text != "Pedido _{{pedido}}_, {{x_y}}" || !reflect.DeepEqual(got.Missing, []string{"pedido"}) || !reflect.DeepEqual(got.Unknown, []string{"x_y"}) {
		t.Errorf("left variables: %+v", got)
	}
	// Longer than the channel allows: split like any reply.
	rules := channels.DefaultRules(channels.KindWhatsApp)
	rules.MaxLength = 20
	long := Render(rules, "Olá, {{primeiro_nome}}. Seu pedido {{pedido}} saiu hoje.", rui())
	if len(long.Parts) < 2 || !strings.Contains(long.Text, "\n\n") {
		t.Errorf("split: %+v", long)
	}
}

func TestVariablesListTheRegistry(t *testing.T) {
	names := map[string]bool{}
	for _, v := range Variables() {
		names[v.Name] = true
	}
	for _, want := range []string{"nome", "primeiro_nome", "email", "telefone", "pedido", "cpf", memory.FieldOrderNumber, memory.FieldProductInterest} {
		if !names[want] {
			t.Errorf("Variables lacks %s", want)
		}
	}
	for _, f := range memory.Registry() {
		if _, ok := fieldOf(f.Key); !ok {
			t.Errorf("registry key %s is no variable", f.Key)
		}
	}
}
