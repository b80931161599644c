package handoff

import (
	"strings"
	"testing"
)

// The next action names what the attendant does about the problem the
// customer stated, in the words an attendant uses, whatever the sector.
func TestNextActionNamesTheRemedy(t *testing.T) {
	tests := []struct {
		like, need string
		want       []string
	}{
		{"support", "a cadeira chegou com o encosto trincado", []string{"Retornar o contato", "troca", "reenvio"}},
		{"support", "preciso mudar o dia da consulta de quinta, surgiu uma viagem", []string{"remarcar"}},
		{"support", "já faz 12 dias e o pedido não chegou", []string{"transportadora"}},
		{"billing", "fui cobrado duas vezes no cartão pela mensalidade", []string{"estornar"}},
		{"billing", "paguei mas o boleto consta em aberto", []string{"dar baixa"}},
		{"support", "o sistema mostra erro 503 quando emito a nota", []string{"suporte técnico"}},
		{"sales", "quero um orçamento para 40 camisetas, podem me ligar?", []string{"Ligar para o cliente", "orçamento"}},
		{"support", "preciso de ajuda", []string{"resolver o problema relatado"}},
	}
	for _, tt := range tests {
		got := nextAction(Request{Like: tt.like}, tt.need, []string{tt.need})
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%q: next action %q lacks %q", tt.need, got, w)
			}
		}
		if !strings.Contains(got, "«"+tt.need+"»") {
			t.Errorf("%q: the need is not quoted: %q", tt.need, got)
		}
	}
}

// Found in review: billing words the remedies misread, and a customer who
// asked not to be called.
func TestNextActionReviewFindings(t *testing.T) {
	tests := []struct{ need, want, not string }{
		{"meu boleto está vencido", "segunda via", "troca"},
		{"minha fatura está atrasada, quero renegociar", "renegociação", "transportadora"},
		{"de acordo com o site o frete é grátis", "", "renegociação"},
		{"por favor não me liguem, prefiro aqui", "Retornar o contato", "Ligar para o cliente"},
		{"me manda a 2ª via do boleto", "segunda via", ""},
	}
	for _, tt := range tests {
		got := nextAction(Request{Like: "billing"}, tt.need, []string{tt.need})
		if tt.want != "" && !strings.Contains(got, tt.want) || tt.not != "" && strings.Contains(got, tt.not) {
			t.Errorf("%q: next action %q (want %q, not %q)", tt.need, got, tt.want, tt.not)
		}
	}
	if aboutTheBot("quero cancelar o débito automático") || aboutTheBot("a máquina de cartão não liga") {
		t.Error("a need about an automatic debit or a card machine is not about the bot")
	}
	if !aboutTheBot("esse chat automático não serve pra nada") {
		t.Error("a complaint about the chat is about the bot")
	}
}
