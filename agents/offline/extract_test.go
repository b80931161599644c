package offline

import (
	"fmt"
	"testing"
	"time"
)

func TestExtract(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		text string
		want []string // field=value(valid)
	}{
		{"meu email é Maria.Silva@Exemplo.com.br", []string{"email=maria.silva@exemplo.com.br(true)"}},
		{"CPF 391.781.645-83", []string{"cpf=39178164583(true)"}},
		{"meu cpf é 39178165483", []string{"cpf=39178165483(false)"}},
		{"me liga no (11) 98765-4321", []string{"phone=+5511987654321(true)"}},
		{"meu numero é 21 99654-7788", []string{"phone=+5521996547788(true)"}},
		{"pedido 48213 chegou quebrado", []string{"order_number=48213(true)"}},
		{"order #A-99812 never arrived", []string{"order_number=A-99812(true)"}},
		{"o boleto vence dia 10/12", []string{"date=2026-12-10(true)"}},
		{"paguei em 05/03/2025", []string{"date=2025-03-05(true)"}},
		{"o plano custa R$ 1.188,00 por ano", []string{"money=118800 BRL(true)"}},
		{"it was charged $12.50 twice", []string{"money=1250 USD(true)"}},
		{"paguei 250 reais", []string{"money=25000 BRL(true)"}},
		{"31/02 não existe", nil},
		{"CPF 39178164583 e telefone 11987654321", []string{"cpf=39178164583(true)", "phone=+5511987654321(true)"}},
		{"me liga, 11 98765-4321, email ana@exemplo.com, pedido 4521", []string{"email=ana@exemplo.com(true)", "phone=+5511987654321(true)", "order_number=4521(true)"}},
		{"bom dia, tudo bem?", nil},
		{"quanto custa o plano anual?", []string{"product_interest=plano anual(true)"}},
		{"tenho interesse no liquidificador turbo 900W, entrega em Campinas?", []string{"product_interest=liquidificador turbo 900W(true)"}},
		{"quero contratar o plano família para 4 pessoas", []string{"product_interest=plano família(true)"}},
		{"qual o preço da cadeira gamer no pix", []string{"product_interest=cadeira gamer(true)"}},
		{"quanto custa isso?", nil},
		{"quero comprar", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, e := range Extract(tt.text, now) {
			got = append(got, fmt.Sprintf("%s=%s(%v)", e.Field, e.Value, e.Valid))
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Extract(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
	for _, e := range Extract("meu cpf é 39178165483", now) {
		if e.Reason != "CPF check digits do not match" {
			t.Errorf("an invalid CPF must say why: %+v", e)
		}
	}
}
