package handoff

import (
	"regexp"
	"strings"

	"github.com/atende/atende/memory"
)

// remedy is the first step an experienced attendant takes for one kind of
// problem, recognised in the customer's folded words.
type remedy struct {
	cue    *regexp.Regexp
	action string
}

// remedies are in the order an attendant would act: the item or the
// appointment before the money, the money before a generic fix. The first
// two that match make the next action ("oferecer troca ou reenvio…;
// confirmar o reembolso…"), so a damaged delivery that was also charged
// twice says both.
var remedies = []remedy{
	{regexp.MustCompile(`\b(quebrad|amassad|rasgad|danificad|avariad|trincad|riscad|defeit|estragad|veio vencid|produto vencid|molhad|violad|lacre|veio errad|veio outr|cor errada|tamanho errado|modelo errado|faltando|faltou (um|uma|o|a|item|peca|produto)|incomplet|veio aberto|chegou aberto)`),
		"oferecer troca, reenvio ou reembolso do item (pedir foto se preciso)"},
	{regexp.MustCompile(`\b(remarc|reagend|adiar|mudar a data|trocar a data|mudar o dia|trocar o dia|outra data|outro horario|mudar o horario|desmarc)`),
		"remarcar a data ou o horário com o cliente"},
	{regexp.MustCompile(`\b(nao chegou|nao chegaram|nao recebi (o|a|meu|minha) (pedido|encomenda|produto|compra)|ainda nao veio|(pedido|entrega|encomenda|produto) (esta |ta |veio |chegou )?atrasad|atraso (na|da) entrega|rastreio|rastreamento|extraviad|nao foi entregue|nao entregaram|cade (o|meu|a|minha) (pedido|encomenda|entrega|produto))`),
		"verificar a entrega com a transportadora e dar um prazo ao cliente"},
	{regexp.MustCompile(`\b(senha|login|logar|acesso|acessar|bloquead|codigo de verificacao|nao consigo entrar)`),
		"restabelecer o acesso do cliente"},
	{regexp.MustCompile(`\b(cobrad[oa]s? (2|duas|2x)|cobrado duas|cobraram duas|cobranca duplicada|duplicidade|duas vezes no cartao|cobranca indevida|nao reconheco|cobraram errado|valor errado|veio (mais alto|errad))`),
		"conferir a cobrança e estornar o que foi cobrado a mais"},
	{regexp.MustCompile(`\b(reembols|estorn|devolucao do dinheiro|devolver (o|meu) dinheiro|dinheiro de volta|chargeback)`),
		"confirmar o reembolso ou estorno e informar o prazo"},
	{regexp.MustCompile(`\b(recusad|nao (foi )?aprovad|pix nao (caiu|confirm)|paguei mas|consta em aberto|aparece em aberto|ainda em aberto)`),
		"localizar o pagamento e dar baixa"},
	{regexp.MustCompile(`(2a via|2ª via|\bsegunda via|\bboleto|\bfatura|\bnota fiscal|\bcomprovante|\brecibo)`),
		"enviar a segunda via ou o documento pedido"},
	{regexp.MustCompile(`\b(renegoci|parcelar a divida|fazer um acordo|propor um acordo|proposta de acordo|divida|em atraso|atrasad[ao]s? (a|o) (fatura|boleto|parcela|mensalidade)|(fatura|boleto|parcela|mensalidade) (esta |ta )?atrasad)`),
		"propor uma renegociação"},
	{regexp.MustCompile(`\b(erro|parou|nao funciona|nao liga|nao imprime|travou|trava|nao abre|nao carrega|fora do ar|(sistema|site|app|aplicativo|internet|sinal) caiu|caiu (o|a) (sistema|site|app|internet|sinal)|bug|nao esta funcionando)`),
		"diagnosticar o problema com o cliente (suporte técnico, acesso remoto se preciso)"},
	{regexp.MustCompile(`\b(cancelar|cancelamento)`),
		"tratar o cancelamento (confirmar o que cancelar e oferecer alternativa)"},
	{regexp.MustCompile(`\b(orcamento|cotacao|proposta|quanto custa|quanto fica|quanto sai|preco|valores|planos?\b|contratar|comprar|fechar)`),
		"enviar o orçamento ou a proposta"},
}

// bySector is the step when nothing the customer said names a problem.
var bySector = map[string]string{
	"billing": "verificar a cobrança — estorno, 2ª via ou negociação conforme o caso",
	"sales":   "enviar a proposta ou o orçamento",
	"support": "resolver o problema relatado",
}

// nextAction is a concrete first step for the person: call back if the
// customer asked for it, the remedies of what they said, and their need in
// their own words.
func nextAction(r Request, need string, said []string) string {
	var steps []string
	folded := memory.Fold(need + " " + strings.Join(said, " "))
	for _, m := range remedies {
		if len(steps) == 2 {
			break
		}
		if m.cue.MatchString(folded) {
			steps = append(steps, m.action)
		}
	}
	if len(steps) == 0 {
		step, ok := bySector[r.Like]
		if !ok {
			step = "verificar o pedido"
		}
		steps = append(steps, step)
	}
	b := "Retornar o contato"
	if callBack.MatchString(folded) && !noCall.MatchString(folded) {
		b = "Ligar para o cliente"
	}
	b += " e " + strings.Join(steps, "; ")
	if need != "" {
		b += ": «" + clip(need, 200) + "»"
	}
	return b
}

// callBack is a customer asking to be called.
var callBack = regexp.MustCompile(`\b(me liga|me ligue|me liguem|me ligar|ligar pra mim|ligar para mim|retornar a ligacao|por ligacao|call me)\b`)

// noCall is a customer saying not to call.
var noCall = regexp.MustCompile(`\b(nao|nem|sem) (precisa )?(me )?(liga|ligue|liguem|ligar|ligacao)\b|\bdon'?t call\b`)
