package offline

import (
	"regexp"
	"strings"

	"github.com/atende/atende/memory"
)

// HandoffReason says why a message needs a person.
type HandoffReason string

// The handoff rules.
const (
	ReasonAskedForPerson HandoffReason = "asked_for_person"
	ReasonThreat         HandoffReason = "threat_or_complaint"
	ReasonFrustration    HandoffReason = "frustration"
)

// handoffRules match accent-folded, lower-cased text. They are rules, not a
// model, because these are the cases a business must never miss: an explicit
// request for a person (pt, en, es), a consumer-protection threat, anger.
// Swearing is not anger at the business: "porra, esqueci a senha de novo,
// como reseta?" or "I need to change my damn address" want an answer, not a
// person, so profanity alone hands off nobody.
var handoffRules = []struct {
	reason HandoffReason
	re     *regexp.Regexp
}{
	{ReasonAskedForPerson, regexp.MustCompile(`\b(falar|conversar|fala|tratar|negociar|fechar)\b[^.?!]{0,40}\b(atendente|humano|humana|pessoa|alguem|gente|gerente|supervisor|responsavel|consultor[a]?|vendedor[a]?|representante|tecnico|financeiro|comercial)\b` +
		`|\b(me )?(passa|passe|transfere|transfira|encaminha|chama)\b[^.?!]{0,30}\b(atendente|humano|pessoa|alguem|tecnico|gerente|responsavel|financeiro)\b` +
		`|\b(atendimento|atendente) humano\b|\bhumano mesmo\b|\bpessoa de verdade\b|\balguem de verdade\b|\bde carne e osso\b|\bde verdade\b.{0,20}\bme atender\b|\bme atender de verdade\b` +
		`|^\s*(atendente|humano|pessoa)\b|\btem (gente|alguem|algum humano|alguma pessoa|ninguem)( ai| ae| aqui| por ai| on| online)\b|\balguem (ai|ae|me (responde|atende))\b|\b(sai|chega de|para de|larga|fora),? (robo|bot|maquina)\b|\bchega de robo\b|\bcansei desse robo\b|\bnao quero (falar com )?(robo|bot|maquina)\b|\bnao com (robo|bot)\b|\bquero (uma pessoa|um humano|gente)\b|\bpreciso de alguem\b|\buma pessoa veja\b` +
		`|\bme (liga|ligue|liguem|ligar|ligam|telefone|telefonem|telefonar)\b|\b(numero|telefone|whatsapp|contato) (pra|para) (eu )?(ligar|falar com)\b|\btrocar (uma )?ideia com\b|\b(marcar|agendar) (um |uma )?(atendimento|conversa|reuniao|horario)( presencial| online| por video)? com (um|uma|o|a) (consultor|consultora|vendedor|vendedora|atendente|pessoa|gerente|corretor|corretora)\b|\b(marcar|agendar) uma (ligacao|chamada|videochamada)( comigo| pra mim| para mim| com (voces|vcs|alguem|o|a|um|uma)\b| (hoje|amanha|essa semana|esta semana|de manha|a tarde|a noite)\b|\s*[?!.]|\s*$)|\btem (algum|alguma) (atendente|humano|pessoa|consultor[a]?|vendedor[a]?|corretor[a]?|gerente|responsavel|funcionari[oa])\b|\b(pode|podem|podia|consegue|conseguem|da pra|alguem)\b[^.?!]{0,30}\bme ligar\b|\bpor ligacao\b|\bcall me\b|\bentrar em contato comigo\b|\bsolicito contato\b|\bagendar uma reuniao\b` +
		`|\b(talk|speak|chat)\b[^.?!]{0,30}\b(human|person|agent|representative|someone|somebody|manager|operator|assistant)\b|\breal person\b|\blive agent\b|\bcustomer service\b.{0,20}\b(agent|representative|rep)\b|\bhuman agent\b` +
		`|\b(hablar|comunicarme)\b[^.?!]{0,30}\b(persona|agente|humano|asesor|representante)\b|\batencion humana\b`)},
	{ReasonThreat, regexp.MustCompile(`\bprocon\b|\breclame ?aqui\b|\bconsumidor\.gov\b|\badvogad[oa]\b|\bprocessar\b|\bentrar na justica\b|\bjuizado\b|\banatel\b|\bdenunciar\b` +
		`|\bchargeback\b|\b(processo|acao) contra\b|\bacao judicial\b|\bpequenas causas\b|\bcontestar (no cartao|com o banco|junto ao banco|junto a operadora)\b|\bexpor (voces|vcs|a loja|a empresa|o caso|essa situacao)\b|\b(vou|vamos)( ter que| precisar)? (expor|postar|colocar|jogar|publicar|divulgar|espalhar)\b[^.?!]{0,30}\b(insta|instagram|stories|story|redes|rede social|facebook|face|tiktok|twitter|internet)\b|\bvou (expor|postar|publicar|divulgar|espalhar|jogar) (isso|tudo|o caso|essa situacao)\b|\bentrar com (um |uma )?(processo|acao)( contra| judicial| na justica|[,.!?]|\s*$| e )` +
		`|\breclamacao\b|\bcomplaint\b|\bcomplain\b|\bsue you\b|\blawyer\b|\blegal action\b|\bfile a claim\b|\bqueja\b|\breclamo\b` +
		`|\b(lodg|fil|mak|submit|open|rais)(e|es|ed|ing)? (a |an )?(formal |customer |consumer )?(claim|reclamation|grievance)\b|\breclamation\b`)},
	{ReasonFrustration, regexp.MustCompile(`\bpalhacada\b|\bpalhac[oa]\b|\babsurdo\b|\bvergonha\b|\bde brincadeira\b|\bme enrolando\b|\bninguem resolve\b|\bninguem me responde\b` +
		`|\bninguem (me )?(responde|atende|retorna|liga)\b|\bja expliquei\b|\bde novo essa\b|\bresposta automatica\b|\bso manda o mesmo\b|\bnao entende nada\b|\bha \d+ minutos\b|\bnada do meu\b` +
		`|\bridiculous\b|\bunacceptable\b`)},
}

// negated reports a request that says it does not need a person ("não
// precisa chamar atendente", "no need for an agent").
var negated = regexp.MustCompile(`\bnao (precisa|precisamos|preciso|quero|necessito|carece)( de)?\b[^.?!,;]{0,30}?\b(atendente|atendentes|humano|humana|pessoa|alguem|ninguem|gerente|tecnico|me ligar|me liguem|ligar|ligacao)\b( (me )?(ligar|ligue|liguem|retornar|chamar|passar))?( nenhum| nenhuma| nao)?` +
	`|\bsem (precisar de )?(atendente|humano)\b|\b(no need|don'?t need|do not need)\b([^.?!,;]{0,30}\b(agent|human|person|someone|anyone|representative|operator)s?\b)?`)

// secondRequest is a want verb inside a negated span: "não quero
// robô quero atendente" negates the robot, not the person after the second
// "quero" (WhatsApp writes it without the comma).
var secondRequest = regexp.MustCompile(`\b(quero|queria|qro|preciso|precisava|gostaria|want|need)\b`)

// withoutNegated takes the requests said not to be needed out of folded
// text, each only as far as the next request.
func withoutNegated(folded string) string {
	spans := negated.FindAllStringIndex(folded, -1)
	for k := len(spans) - 1; k >= 0; k-- {
		start, end := spans[k][0], spans[k][1]
		inner := folded[start:end]
		// skip the negated verb itself ("não quero …"), then look for another
		if _, rest, ok := strings.Cut(inner, " "); ok {
			if _, rest2, ok := strings.Cut(rest, " "); ok && secondRequest.MatchString(rest2) {
				continue
			}
		}
		folded = folded[:start] + " " + folded[end:]
	}
	return folded
}

// autoReply is an e-mail autoresponder: "Resposta automática: estou fora do
// escritório", "Out of office".
var autoReply = regexp.MustCompile(`^\s*(resposta automatica|mensagem automatica|auto(matic)?[ -]?reply|out of office|ausencia temporaria)\b|\b(estou|estarei) (fora do escritorio|de ferias|ausente)\b|\bout of (the )?office\b`)

// Angry says a message carries a threat or anger whatever else it asks: a
// customer who asks for a person and is furious is urgent (the card's
// priority), though the reason recorded is the request.
func Angry(text string) bool {
	folded := memory.Fold(text)
	for _, r := range handoffRules {
		if r.reason != ReasonAskedForPerson && r.re.MatchString(folded) {
			return true
		}
	}
	return outraged(text, folded) || shouting(text) && complaining.MatchString(folded)
}

// laughter marks a joke: kkk, haha, rsrs, 😂.
var laughter = regexp.MustCompile(`\bk{3,}\b|\b(ha){2,}\b|\brs(rs)+\b|😂|🤣|😆`)

// complaining are the words that make capitals a complaint: "DE NOVO A
// MESMA RESPOSTA???" is anger, "VCS TEM VAGA SÁBADO" a loud question.
var complaining = regexp.MustCompile(`\b(nao|nada|ninguem|nunca|ainda|cade|de novo|mesma|mesmo problema|problema|erro|errado|quebr\w*|defeito|cobra\w*|atras\w*|demor\w*|esper\w*|pessim\w*|horrivel|lixo|absurd\w*|resolve\w*|devolv\w*|reembols\w*|estorn\w*|cancel\w*|not|never|nothing|still|again|wrong|broken|refund)\b|[!?]{2,}`)

// salutation and signOff frame a letter: "Prezado(a) responsável," is not a
// request for a person, nor "Gerente Comercial" under a signature.
var (
	salutation = regexp.MustCompile(`(?i)^\s*(prezad[oa]s?(\(a\))?|car[oa]s?|ol[aá]|oi|bom dia|boa tarde|boa noite|a quem (possa )?interessar|dear|hello|hi)(\s+[^\s,.!?:;]+){0,3}\s*[,:]`)
	signOff    = regexp.MustCompile(`(?im)^\s*(atenciosamente|att\.?|at\.?te|cordialmente|abra[cç]os?|abs|obrigad[oa]|grat[oa]|sauda[cç][oõ]es|sds|regards|best|kind regards|sincerely|thanks)\b[ ,.!]*$`)
)

// subjectLine is an e-mail's subject written at the top of its body.
var subjectLine = regexp.MustCompile(`(?i)^\s*(assunto|subject|ref|re)\s*:[^\n]*\n`)

// signature says what follows a sign-off is a signature: at most four short
// lines (a name, a title, a company, a phone) that ask for nothing.
func signature(after string) bool {
	lines := strings.Split(strings.TrimSpace(after), "\n")
	if len(lines) > 4 || strings.Contains(after, "?") {
		return false
	}
	for _, line := range lines {
		words := memory.Words(line)
		if len(words) > 6 {
			return false
		}
		for _, w := range words {
			if conceptsOf(w)&(cWant|cTalk|cContact) != 0 {
				return false
			}
		}
	}
	return true
}

// letterBody is a message without its letter's salutation and signature. A
// sign-off counts only near the end with at most a name and a title or two
// after it (a bubble of "Obrigada" between two WhatsApp messages is not
// one); a salutation is only greeting and address ("Prezado(a)
// responsável,", "Oi Ana,"): a verb or a person to talk to in it makes it
// the request ("oi, quero um atendente", "Oi atendente humano, me ajuda?").
func letterBody(text string) string {
	for _, loc := range signOff.FindAllStringIndex(text, -1) {
		if loc[0] == 0 {
			continue
		}
		if signature(text[loc[1]:]) {
			text = text[:loc[0]]
			break
		}
	}
	if loc := subjectLine.FindStringIndex(text); loc != nil {
		text = text[loc[1]:] // "Assunto: …" heads a forwarded or webchat-form e-mail
	}
	loc := salutation.FindStringIndex(text)
	if loc == nil || strings.TrimSpace(text[loc[1]:]) == "" {
		return text
	}
	for _, w := range memory.Words(text[:loc[1]]) {
		if c := conceptsOf(w); c&(cWant|cTalk|cContact|cBot) != 0 || c&cPerson != 0 && w != "responsavel" && w != "equipe" {
			return text
		}
	}
	return text[loc[1]:]
}

// HandoffRule returns the rule a message triggers, if any.
func HandoffRule(text string) (HandoffReason, bool) {
	folded := memory.Fold(text)
	if autoReply.MatchString(folded) {
		return "", false // an out-of-office answer asks for nobody
	}
	// a request said not to be needed is taken out, and what is left is read:
	// "não precisa chamar atendente, só quero a 2ª via" asks for nobody, "não
	// precisa de atendente não, quero falar com o gerente" still does
	text, folded = letterBody(text), letterBody(folded)
	shout := shouting(text) && complaining.MatchString(folded)
	if unnegated := withoutNegated(folded); unnegated != folded {
		folded, text = unnegated, unnegated
	}
	joking := laughter.MatchString(folded) && !complaining.MatchString(folded)
	for _, r := range handoffRules {
		if r.reason == ReasonFrustration && joking {
			continue // "que vergonha do meu time 😂" is a joke, not anger at the business
		}
		if r.re.MatchString(folded) {
			return r.reason, true
		}
	}
	if reason, ok := conceptReason(text); ok && !(joking && reason == ReasonFrustration) {
		return reason, true
	}
	if shout {
		return ReasonFrustration, true
	}
	return "", false
}
