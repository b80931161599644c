package offline

import "testing"

// Each class of handoff request the phrasing rules missed (issue 11), in
// wordings of its own, and the look-alikes that must not hand off.
func TestHandoffByConcepts(t *testing.T) {
	tests := []struct {
		class, text string
		want        HandoffReason
	}{
		{"bare role", "operador", ReasonAskedForPerson},
		{"bare role", "Consultor??", ReasonAskedForPerson},
		{"bare role", "tem algum atendente disponível? minha fatura veio dobrada", ReasonAskedForPerson},
		{"polite, passive", "gostaria de ser atendido por um especialista", ReasonAskedForPerson},
		{"polite, passive", "seria possível ser atendida por uma pessoa?", ReasonAskedForPerson},
		{"unlisted verb", "pode me transferir para o setor responsável?", ReasonAskedForPerson},
		{"unlisted verb", "direciona meu caso pra um analista por favor", ReasonAskedForPerson},
		{"department contacts me", "alguém do financeiro pode me chamar?", ReasonAskedForPerson},
		{"department contacts me", "o comercial consegue me ligar amanhã cedo?", ReasonAskedForPerson},
		{"call-back with a phone", "liga no (21) 99876-5432 por favor", ReasonAskedForPerson},
		{"call-back with a phone", "me retornem no 11987654321 depois das 18h", ReasonAskedForPerson},
		{"bot complaint", "isso é um robô? quero resolver meu problema", ReasonAskedForPerson},
		{"bot complaint", "só recebo resposta pronta de vocês", ReasonAskedForPerson},
		{"bot complaint", "cansei de falar com máquina", ReasonAskedForPerson},
		{"repetition", "pela quarta vez: meu pedido não chegou", ReasonFrustration},
		{"repetition", "já mandei umas 3 vezes o comprovante", ReasonFrustration},
		{"outrage", "que descaso com o cliente", ReasonFrustration},
		{"outrage", "😡😡 até agora nada", ReasonFrustration},
		{"B2B", "gostaria de falar com um executivo de contas", ReasonAskedForPerson},
		{"B2B", "solicito contato de um consultor comercial para nossa filial", ReasonAskedForPerson},
		{"typo", "quero falar com um atendende", ReasonAskedForPerson},
		{"english", "can you transfer me to a representative", ReasonAskedForPerson},
		{"english", "I need to contact an operator", ReasonAskedForPerson},
		{"english", "call me back at +1 415 555 0100", ReasonAskedForPerson},
		{"english", "is this a bot?", ReasonAskedForPerson},
		{"english", "I'm trying to reach somone in billing", ReasonAskedForPerson},

		{"negated", "não precisa chamar atendente, já resolvi", ""},
		{"negated", "no need to talk to an agent, thanks", ""},
		{"instalments", "em quantas vezes posso parcelar?", ""},
		{"instalments", "parcelo em 10 vezes sem juros?", ""},
		{"product", "o robô aspirador tem garantia de quanto tempo?", ""},
		{"product", "vocês vendem robô de cozinha?", ""},
		{"subject, not a person", "quero falar sobre a cobrança do mês passado", ""},
		{"a phone given", "meu telefone é (11) 98765-4321", ""},
		{"a signature", "Segue o comprovante.\nAtt., Marcos\nContato: (11) 3333-4444", ""},
		{"someone as subject", "can someone tell me the price of the annual plan?", ""},
		{"auto-reply", "Resposta automática: estou fora do escritório até segunda.", ""},
		{"again, not angry", "o app travou de novo quando abro o extrato", ""},
		{"swearing, not anger", "porra, a senha expirou de novo kkk como troco?", ""},
		{"swearing, not anger", "where the hell do I change my damn shipping address", ""},
		{"negated, then a topic", "não quero falar com atendente, só preciso do boleto", ""},
		{"negated, then a person", "não precisa de atendente não, quero falar com o gerente", ReasonAskedForPerson},
		{"negated in english, then a person", "I don't need a bot, connect me to a human", ReasonAskedForPerson},
		{"anyone there", "tem alguém aí? meu boleto não abre", ReasonAskedForPerson},
		{"a business's own role", "preciso conversar com a professora da turma B", ReasonAskedForPerson},
		{"a business's own role", "quero falar com o dono da loja", ReasonAskedForPerson},
		{"a person to act", "gostaria que uma pessoa olhasse o contrato antes", ReasonAskedForPerson},
		{"a service asked for", "preciso que o técnico venha amanhã às 14h", ""},
		{"a call booked", "dá pra agendar uma ligação amanhã de manhã?", ReasonAskedForPerson},
		{"a role on hand", "tem alguma vendedora que possa me mostrar por vídeo?", ReasonAskedForPerson},
		{"call back", "me retorna nesse número quando der", ReasonAskedForPerson},
		{"going to court", "vou entrar com uma ação contra vocês", ReasonThreat},
		{"a role in a story", "a professora disse que o material chega segunda", ""},
		{"a process, not a lawsuit", "como funciona o processo de troca?", ""},
		{"a place, not a typo of a role", "shipments to Mexico", ""},
		{"negated transfer", "não precisa me passar pra atendente nenhum, só me fala o prazo", ""},
		{"negated call", "não precisa ninguém me ligar não, responde aqui mesmo", ""},
		{"a role as an attribute", "Preciso da 2ª via. CPF do responsável: 123.456.789-09", ""},
		{"anyone there", "ALGUEM ME ATENDE", ReasonAskedForPerson},
		{"dismissing the bot", "sai robô, quero resolver isso hoje", ReasonAskedForPerson},
		{"asked to contact, formal", "Solicito que um analista do setor entre em contato pelo telefone informado.", ReasonAskedForPerson},
		{"exposing the business", "se não resolverem vou expor vocês no instagram", ReasonThreat},
		{"chargeback", "vou pedir chargeback no cartão", ReasonThreat},
		{"a loud question", "VOCES ENTREGAM EM CAMPINAS NO SABADO", ""},
		{"a loud complaint", "O PEDIDO AINDA NAO CHEGOU", ReasonFrustration},
		{"an engraving, not a recording", "vocês fazem gravação do nome na caneca?", ""},
		{"a salutation", "Prezado(a) responsável,\n\nGostaria de saber o prazo de entrega para Curitiba.", ""},
		{"a signature", "Bom dia,\n\nQual o valor do plano anual para 12 usuários?\n\nAtenciosamente,\nCarla Dias\nGerente Comercial", ""},
		{"a request under a salutation", "Prezados,\n\nPeço que o gerente da unidade me ligue hoje.\n\nAtt.,\nLuís", ReasonAskedForPerson},
	}
	for _, tt := range tests {
		got, ok := HandoffRule(tt.text)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: HandoffRule(%q) = %q; want %q", tt.class, tt.text, got, tt.want)
		}
	}
}

func TestOneEdit(t *testing.T) {
	for a, b := range map[string]string{"somone": "someone", "eprson": "person", "asistant": "assistant", "atendende": "atendente"} {
		if !oneEdit(a, b) {
			t.Errorf("%s ~ %s", a, b)
		}
	}
	for a, b := range map[string]string{"pessoal": "pessoa12", "person": "person", "gerente": "parente"} {
		if oneEdit(a, b) {
			t.Errorf("%s !~ %s", a, b)
		}
	}
}

// Anger counts for the card's priority even when the message also asks for
// a person (the recorded reason is the request).
func TestAngryBesideARequest(t *testing.T) {
	for text, want := range map[string]bool{
		"quero falar com um atendente, que descaso!":    true,
		"ATENDENTE AGORA, ISSO É UM ABSURDO":            true,
		"vou no procon se ninguém me atender":           true,
		"pela terceira vez: quero falar com uma pessoa": true,
		"quero falar com um atendente sobre meu pedido": false,
		"bom dia, gostaria de falar com o financeiro 🙂": false,
	} {
		if got := Angry(text); got != want {
			t.Errorf("Angry(%q) = %v", text, got)
		}
	}
}

// Found in review: everyday words and sentences the new rules must leave
// alone, and requests they must keep.
func TestHandoffReviewFindings(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"está correto?", false},
		{"posso pagar direto?", false},
		{"já está instalado?", false},
		{"secretaria abre sábado?", false},
		{"tem médico hoje?", false},
		{"o dono do cartão", false},
		{"preciso de um eletricista para trocar a tomada", false},
		{"vou expor meu trabalho na feira", false},
		{"vocês podem divulgar no instagram?", false},
		{"como faço para entrar com processo de reembolso do plano?", false},
		{"trabalho na justiça federal, tem desconto?", false},
		{"quero contestar a cobrança", false},
		{"quero marcar uma ligação de fibra", false},
		{"meu plano permite fazer uma ligação internacional?", false},
		{"vocês tem algum especialista em joelho?", false},
		{"alguém me ajuda a escolher um presente?", false},
		{"se a entrega falhar alguém me avisa?", false},
		{"não quero robô quero atendente", true},
		{"nao quero boleto quero falar com alguem", true},
		{"não preciso de desconto preciso falar com o gerente", true},
		{"Recebi o boleto\nObrigada\nquero falar com o gerente sobre o contrato", true},
		{"Bom dia\nAtenciosamente\nPreciso falar com um humano", true},
		{"Oi atendente humano, me ajuda?", true},
		{"vou entrar com processo, o motor fundiu com 2 semanas", true},
		{"quero conversar direto com o instalador antes de fechar", true},
		{"tem um telefone pra eu ligar? quero tirar uma dúvida do orçamento", true},
		{"dá pra trocar uma ideia com o confeiteiro sobre o bolo?", true},
		{"três mensagens e ninguém responde", true},
		{"o salto quebrou 😡 como faço a troca?", false},
		{"quero falar com o pedido 4512", false},
		{"Assunto: Orçamento\n\nPrezado(a) responsável,\n\nSolicito cotação de 40 camisetas.\n\nAtt.,\nAna Reis\nAnalista de Compras", false},
		{"mano que vergonha do meu time ontem kkkk", false},
		{"preciso de um técnico pra instalar o ar, fazem orçamento?", false},
		{"vou postar nos stories se não devolverem meu dinheiro", true},
		{"Peço que a gerente da unidade me telefone hoje.", true},
		{"posso agendar um atendimento com uma consultora?", true},
		{"quero falar com um técnico sobre o erro", true},
	}
	for _, tt := range tests {
		if _, got := HandoffRule(tt.text); got != tt.want {
			t.Errorf("HandoffRule(%q) = %v; want %v", tt.text, got, tt.want)
		}
	}
}
