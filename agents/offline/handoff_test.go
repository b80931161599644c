package offline

import "testing"

func TestHandoffRules(t *testing.T) {
	tests := []struct {
		text string
		want HandoffReason
	}{
		{"quero falar com um atendente", ReasonAskedForPerson},
		{"me passa pra uma pessoa por favor", ReasonAskedForPerson},
		{"ATENDENTE PFVR", ReasonAskedForPerson},
		{"I want to talk to a real person", ReasonAskedForPerson},
		{"quiero hablar con un asesor", ReasonAskedForPerson},
		{"vou abrir reclamação no procon, 20 dias e nada", ReasonThreat},
		{"to indo no reclame aqui agora", ReasonThreat},
		{"que palhaçada", ReasonFrustration},
		{"COBRARAM 3 VEZES NO MEU CARTÃO!!!", ReasonFrustration},
		{"qual o prazo de entrega pra Campinas?", ""},
		{"não precisa chamar atendente, já resolvi", ""},
		{"o boleto vence amanhã", ""},
	}
	for _, tt := range tests {
		got, ok := HandoffRule(tt.text)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("HandoffRule(%q) = %q, %v; want %q", tt.text, got, ok, tt.want)
		}
	}
}
