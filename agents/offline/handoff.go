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
var handoffRules = []struct {
	reason HandoffReason
	re     *regexp.Regexp
}{
	{ReasonAskedForPerson, regexp.MustCompile(`\b(falar|conversar|fala|tratar|negociar|fechar)\b[^.?!]{0,40}\b(atendente|humano|humana|pessoa|alguem|gente|gerente|supervisor|responsavel|consultor[a]?|vendedor[a]?|representante|tecnico|financeiro|comercial)\b` +
		`|\b(me )?(passa|passe|transfere|transfira|encaminha|chama)\b[^.?!]{0,30}\b(atendente|humano|pessoa|alguem|tecnico|gerente|responsavel|financeiro)\b` +
		`|\b(atendimento|atendente) humano\b|\bhumano mesmo\b|\bpessoa de verdade\b|\balguem de verdade\b|\bde carne e osso\b|\bde verdade\b.{0,20}\bme atender\b|\bme atender de verdade\b` +
		`|^\s*(atendente|humano|pessoa)\b|\bchega de robo\b|\bcansei desse robo\b|\bnao quero (falar com )?(robo|bot|maquina)\b|\bnao com (robo|bot)\b|\bquero (uma pessoa|um humano|gente)\b|\bpreciso de alguem\b|\buma pessoa veja\b` +
		`|\bme (liga|ligue|liguem|ligar|ligam)\b|\b(pode|podem|podia|consegue|conseguem|da pra|alguem)\b[^.?!]{0,30}\bme ligar\b|\bpor ligacao\b|\bcall me\b|\bentrar em contato comigo\b|\bsolicito contato\b|\bagendar uma reuniao\b` +
		`|\b(talk|speak|chat)\b[^.?!]{0,30}\b(human|person|agent|representative|someone|somebody|manager|operator|assistant)\b|\breal person\b|\blive agent\b|\bcustomer service\b.{0,20}\b(agent|representative|rep)\b|\bhuman agent\b` +
		`|\b(hablar|comunicarme)\b[^.?!]{0,30}\b(persona|agente|humano|asesor|representante)\b|\batencion humana\b`)},
	{ReasonThreat, regexp.MustCompile(`\bprocon\b|\breclame ?aqui\b|\bconsumidor\.gov\b|\badvogad[oa]\b|\bprocessar\b|\bentrar na justica\b|\bjuizado\b|\banatel\b|\bdenunciar\b` +
		`|\breclamacao\b|\bcomplaint\b|\bcomplain\b|\bsue you\b|\blawyer\b|\blegal action\b|\bfile a claim\b|\bqueja\b|\breclamo\b` +
		`|\b(lodg|fil|mak|submit|open|rais)(e|es|ed|ing)? (a |an )?(formal |customer |consumer )?(claim|reclamation|grievance)\b|\breclamation\b`)},
	{ReasonFrustration, regexp.MustCompile(`\bpalhacada\b|\bpalhac[oa]\b|\babsurdo\b|\bvergonha\b|\bporra\b|\bmerda\b|\bcaralho\b|\bde brincadeira\b|\bme enrolando\b|\bninguem resolve\b|\bninguem me responde\b` +
		`|\bja expliquei\b|\bde novo essa\b|\bresposta automatica\b|\bso manda o mesmo\b|\bnao entende nada\b|\bha \d+ minutos\b|\bnada do meu\b` +
		`|\bridiculous\b|\bunacceptable\b|\bfuck|\bshit\b|\bdamn\b`)},
}

// negated reports a request that says it does not need a person ("não
// precisa chamar atendente", "no need for an agent").
var negated = regexp.MustCompile(`\bnao (precisa|precisamos|preciso|quero)( de)?( chamar| falar com)? (um |uma )?(atendente|humano|pessoa|alguem)\b|\bsem (precisar de )?(atendente|humano)\b|\bno need\b|\bdon'?t need\b`)

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
	return outraged(text, folded) || shouting(text)
}

// HandoffRule returns the rule a message triggers, if any.
func HandoffRule(text string) (HandoffReason, bool) {
	folded := memory.Fold(text)
	if autoReply.MatchString(folded) {
		return "", false // an out-of-office answer asks for nobody
	}
	if negated.MatchString(folded) && !strings.Contains(folded, "quero falar") {
		return "", false
	}
	for _, r := range handoffRules {
		if r.re.MatchString(folded) {
			return r.reason, true
		}
	}
	if reason, ok := conceptReason(text); ok {
		return reason, true
	}
	if shouting(text) {
		return ReasonFrustration, true
	}
	return "", false
}
