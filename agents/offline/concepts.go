package offline

import (
	"regexp"
	"strings"

	"github.com/atende/atende/memory"
)

// Handoff by concepts, not phrasings. A list of phrasings misses every one it
// lacks (issue 11: half of the plain requests for a person in Portuguese
// nobody here had written). Here words are accent-folded and matched by stem
// into a few concepts — a person or role, a verb of being put through, a
// verb of being contacted, wanting, a negation, a complaint about the bot,
// repetition, outrage — and the rules are over concepts: "being put through
// + a person", "a person + contacting me", "a call-back + a phone number", "a
// person or role as the whole message", "a complaint about the bot". Each
// lexicon is a closed class of the language (roles, verbs in any person and
// voice by stem), not lines of a data set.

// concept is one class of words.
type concept int

const (
	cPerson   concept = 1 << iota // atendente, pessoa, humano, gerente, consultor, agent, someone…
	cDept                         // financeiro, comercial, jurídico, cobrança, suporte técnico…
	cTalk                         // falar, conversar, transferir, passar, encaminhar, ser atendido, speak…
	cContact                      // ligar, retornar, contatar, chamar, call, contact…
	cWant                         // quero, gostaria, preciso, solicito, want, need, would like…
	cNegation                     // não, nem, sem, dispenso, no, don't…
	cBot                          // robô, bot, máquina, automático, pronta, gravação…
	cOutrage                      // descaso, absurdo, vergonha, ridículo, revoltado…
	// cRole is a business's own role (síndico, corretora, professora, dono):
	// a person only as the one to talk to or be called by ("quero falar com
	// o síndico"), never alone ("tem dentista sábado?", "o dono do cartão").
	cRole
)

var conceptNames = map[concept]string{cPerson: "person", cDept: "dept", cTalk: "talk", cContact: "contact", cWant: "want",
	cNegation: "negation", cBot: "bot", cOutrage: "outrage", cRole: "role"}

// String names a concept, for features and tests.
func (c concept) String() string { return conceptNames[c] }

// stems are matched as word prefixes (accent-folded, lower case); a stem
// ending in "$" must be the whole word.
var stems = []struct {
	c     concept
	words []string
}{
	{cPerson, []string{"atendent", "atendend", "atentend", "humano", "humana", "umano", "umana", "pessoa", "alguem$", "algm$", "gerente", "supervisor",
		"responsavel", "consultor", "vendedor", "representante", "operador", "especialista", "funcionari", "colaborador",
		"agente", "moca$", "rapaz$", "executiv", "assessor", "analista", "equipe$", "gente$", "atendimento$",
		"human$", "humans$", "person$", "people$", "agent$", "agents$", "representative", "rep$", "someone$", "somebody$", "manager$", "operator$",
		"staff$", "employee", "specialist", "advisor", "consultant", "assistant$", "persona$", "asesor"}},
	{cRole, []string{"tecnico$", "tecnica$", "sindico$", "sindica$", "corretor$", "corretora$", "coordenador$", "coordenadora$", "diretor$", "diretora$", "professor$", "professora$",
		"instrutor$", "instrutora$", "cerimonialista$", "dentista$", "doutor$", "doutora$", "enfermeiro$", "enfermeira$", "veterinario$", "veterinaria$",
		"nutricionista$", "recepcionista$", "secretario$", "proprietario$", "proprietaria$", "dono$", "dona$", "chefe$", "encarregado$", "encarregada$",
		"eletricista$", "instalador$", "coordenacao$", "diretoria$", "gerencia$"}},
	{cDept, []string{"financeiro", "comercial", "juridico", "cobranca", "faturamento", "contas$", "rh$", "ouvidoria", "sac$", "suporte$", "setor$", "departamento",
		"billing$", "sales$", "support$"}},
	{cTalk, []string{"falar$", "fala$", "falo$", "flar$", "conversar", "converso", "tratar$", "negociar", "transfer", "passa$", "passe$", "passar$", "passem$",
		"encaminh", "direcion", "conect", "atendid", "atender$", "atende$", "atenda$", "redirecion",
		"talk", "speak", "chat$", "chatt", "connect", "escalat", "hablar", "comunicar"}},
	{cContact, []string{"ligar$", "liga$", "ligue$", "liguem$", "ligacao", "ligacoes", "retornar", "retorne", "retornem", "retorno$", "retorna$", "retornam$", "retornarem$", "contat", "contact", "chamar$",
		"chama$", "chame$", "chamem$", "telefonar", "telefonem", "call$", "callback", "ring$", "reach$", "llamar", "llamen"}},
	{cWant, []string{"quero$", "queria$", "qro$", "kero$", "keria$", "qria$", "gostaria", "preciso$", "precisava", "precisamos", "necessito", "exijo$", "desejo$",
		"solicit", "peco$", "pedir$", "quer$", "want", "need", "would$", "d$", "like$", "request", "quiero", "necesito"}},
	{cNegation, []string{"nao$", "n$", "nem$", "sem$", "nunca$", "dispenso", "no$", "not$", "dont$", "don$", "never$", "without$"}},
	{cBot, []string{"robo$", "robos$", "robozinho", "robot", "bot$", "bots$", "chatbot", "maquina$", "automatic", "automated", "pronta$", "prontas$", "pronto$",
		"gravacao", "gravada", "canned$", "ia$"}},
	{cOutrage, []string{"descaso", "desrespeit", "absurd", "vergonh", "palhacada", "ridicul", "revoltad", "indignad", "inadmissivel", "inaceitavel",
		"pessim", "horrivel", "porcaria", "humilhad", "desaforo", "sacanagem", "ladroes", "ladrao",
		"outrageous", "disgusting", "unacceptable", "ridiculous", "pathetic", "worst$", "terrible", "appalling"}},
}

// conceptsOf is the concepts of one folded word; a long word that is none
// is tried as a one-letter typo of the generic people and talk words
// ("somone", "eprson", "asistant", "atendende") — only those: a typo of a
// role is too often another word ("correto", "direto", "instalado").
func conceptsOf(w string) concept {
	if c := exactConcepts(w); c != 0 || len(w) < 5 {
		return c
	}
	for whole, c := range typoWords {
		if oneEdit(w, whole) {
			return c
		}
	}
	return 0
}

// typoWords are the words a one-letter typo is forgiven in.
var typoWords = map[string]concept{"atendente": cPerson, "pessoa": cPerson, "humano": cPerson, "humana": cPerson, "someone": cPerson,
	"somebody": cPerson, "person": cPerson, "assistant": cPerson, "representative": cPerson, "operator": cPerson, "responsavel": cPerson,
	"supervisor": cPerson, "transferir": cTalk, "conversar": cTalk, "speak": cTalk}

// oneEdit says a and b differ by one insertion, deletion, substitution or
// swap of neighbours.
func oneEdit(a, b string) bool {
	if a == b {
		return false
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > 1 {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	if len(a) == len(b) {
		if a[i+1:] == b[i+1:] {
			return true // substitution
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:] // swap
	}
	return a[i:] == b[i+1:] // one letter more in b
}

func exactConcepts(w string) concept {
	var c concept
	for _, s := range stems {
		for _, stem := range s.words {
			if whole, ok := strings.CutSuffix(stem, "$"); ok {
				if w == whole {
					c |= s.c
				}
			} else if strings.HasPrefix(w, stem) {
				c |= s.c
			}
		}
	}
	return c
}

// clauses splits folded text where a request ends: a person asked for in
// one sentence is not negated by a "não" in the next. A point inside a
// number ("274.619.053-18") ends nothing.
var clauseBreak = regexp.MustCompile(`[!?;\n]+|\.+(\s|$)|,\s*(mas|porem|but)\b`)

var wordPattern = regexp.MustCompile(`[a-z0-9]+`)

// phoneNumber is a Brazilian or international phone number in the raw text:
// "(11) 98765-4321", "11987654321", "+55 11 9 8765 4321".
var phoneNumber = regexp.MustCompile(`(\+?\d{2}[\s.-]?)?\(?\d{2}\)?[\s.-]?9?\s?\d{4}[\s.-]?\d{4}\b`)

// repetition is a customer saying they are asking again: "pela quarta vez",
// "já mandei 3 vezes", "de novo", "for the third time".
// Counting alone is not repetition ("parcelar em 10 vezes", "em quantas
// vezes"): a verb of asking or trying must go with it.
var repetition = regexp.MustCompile(`\bpela (segunda|terceira|quarta|quinta|sexta|setima|enesima|milesima|\d+[ao]?) vez\b` +
	`|\b(mandei|enviei|falei|liguei|pedi|escrevi|reclamei|tentei|expliquei|perguntei|disse|chamei|solicitei|abri)\b[^.?!]{0,25}\b(\d+|duas|tres|quatro|cinco|seis|varias|mil) vezes\b` +
	`|\b(\d+|duas|tres|quatro|cinco|seis|varias|mil) vezes que (eu )?(mando|mandei|falo|falei|ligo|liguei|peco|pedi|escrevo|escrevi|reclamo|reclamei|tento|tentei)\b` +
	`|\bquantas vezes (vou|vai|tenho|preciso|eu|terei)\b|\bmesma resposta\b|\bja expliquei\b` +
	`|\bfor the (second|third|fourth|fifth|\d+(st|nd|rd|th)) time\b|\b(told|asked|called|emailed|written|wrote|sent|tried|contacted|explained)\b[^.?!]{0,25}\b(\d+|two|three|four|five|several|many) times\b|\bhow many times (do|does|will|must|have)\b|\balready (told|explained)\b`)

// outrageEmoji are faces and gestures of anger or disgust.
var outrageEmoji = []string{"🤬", "🤮", "🤢", "💩", "🖕"}

// angryFaces are milder: one beside a question is impatience ("quebrou 😡
// como faço a troca?"), two or more are outrage ("😡😡 até agora nada").
var angryFaces = []string{"😡", "😠", "😤", "👎"}

// tagged is one word and its concepts.
type tagged struct {
	word string
	c    concept
}

func tag(clause string) []tagged {
	ws := wordPattern.FindAllString(clause, -1)
	out := make([]tagged, len(ws))
	for i, w := range ws {
		out[i] = tagged{w, conceptsOf(w)}
	}
	return out
}

// negatedAt says a negation governs the word at i: one of the three words
// before it, or before the verb that leads to it ("não precisa chamar
// atendente", "no need for an agent").
func negatedAt(ts []tagged, i int) bool {
	for j := i - 1; j >= 0 && j >= i-3; j-- {
		if ts[j].c&cNegation != 0 {
			return true
		}
		if ts[j].word == "need" && j > 0 && ts[j-1].word == "no" {
			return true
		}
	}
	return false
}

// conceptReason applies the concept rules to a message.
func conceptReason(text string) (HandoffReason, bool) {
	folded := memory.Fold(text)
	phone := phoneNumber.MatchString(text)
	for _, clause := range clauseBreak.Split(folded, -1) {
		ts := tag(clause)
		if barePerson(ts) {
			// A role or a person as (nearly) the whole sentence: "operador",
			// "atendente por favor", "tem algum atendente?", "humano!!".
			return ReasonAskedForPerson, true
		}
		for i, t := range ts {
			if negatedAt(ts, i) {
				continue
			}
			switch {
			case t.c&cTalk != 0 && withAgentNoun(ts, i):
				// "falar direto com o tatuador", "conversar com a montadora
				// do móvel": a trade the lexicon lacks, named as who to talk to.
				return ReasonAskedForPerson, true
			case t.c&cTalk != 0 && reaches(ts, i, cPerson|cDept|cRole, 5):
				// "falar com um atendente", "transferir para o financeiro",
				// "ser atendida por uma pessoa", "speak to an agent".
				return ReasonAskedForPerson, true
			case t.c&(cPerson|cDept|cRole) != 0 && t.word != "gente" && contactedBy(ts, i, phone || asksBefore(ts, i)):
				// "alguém do financeiro pode me chamar?", "a consultora me liga?"
				return ReasonAskedForPerson, true
			case t.c&cContact != 0 && reaches(ts, i, cPerson|cDept|cRole, 4):
				// "contatar um atendente", "ligar para o suporte",
				// "contact an operator".
				return ReasonAskedForPerson, true
			case t.c&cContact != 0 && ((phone && callBack(t.word)) || contactsMe(ts, i)):
				// "me liga no 11 98765-4321", "podem retornar a ligação?",
				// "call me back".
				return ReasonAskedForPerson, true
			case t.c&cWant != 0 && personDoes(ts, i):
				// "preciso que uma pessoa analise", "gostaria que alguém
				// olhasse", "I need someone to check".
				return ReasonAskedForPerson, true
			case t.c&cWant != 0 && wantsPerson(ts, i):
				// "quero um atendente", "gostaria de uma pessoa", "need a human".
				return ReasonAskedForPerson, true
			}
		}
	}
	if botComplaint(folded) {
		return ReasonAskedForPerson, true
	}
	if outraged(text, folded) {
		return ReasonFrustration, true
	}
	return "", false
}

// outraged is anger without a request: its words, its faces, asking again.
func outraged(text, folded string) bool {
	for _, t := range tag(folded) {
		if t.c&cOutrage != 0 {
			return true
		}
	}
	for _, e := range outrageEmoji {
		if strings.Contains(text, e) {
			return true
		}
	}
	angry := 0
	for _, e := range angryFaces {
		angry += strings.Count(text, e)
	}
	if angry >= 2 {
		return true
	}
	return repetition.MatchString(folded)
}

// barePerson is a sentence of at most four words that names a person or a
// role, not negated: asking for one by name alone.
func barePerson(ts []tagged) bool {
	if len(ts) == 0 || len(ts) > 4 {
		return false
	}
	for i, t := range ts {
		if t.c&cPerson != 0 && t.word != "gente" && t.word != "alguem" && t.word != "equipe" && !negatedAt(ts, i) && !possessed(ts, i) {
			return true
		}
	}
	return false
}

// possessed is a person named as whose something is: "CPF do responsável",
// "nome da atendente", "the agent's" — an attribute, not a request.
func possessed(ts []tagged, i int) bool {
	if i == 0 {
		return false
	}
	switch ts[i-1].word {
	case "do", "da", "dos", "das", "de", "of":
		return true
	}
	return false
}

// reaches says a word of concept c follows the verb at i within n words,
// before the talk turns to a subject ("falar sobre a cobrança" is billing,
// "falar com a cobrança" a person).
func reaches(ts []tagged, i int, c concept, n int) bool {
	for j := i + 1; j < len(ts) && j <= i+n; j++ {
		switch ts[j].word {
		case "sobre", "about", "respeito", "acerca", "quanto":
			return false
		}
		if ts[j].c&c != 0 {
			return true
		}
	}
	return false
}

// contactedBy says the person or role at i is asked to contact the
// customer: a contact verb within five words with the customer as object,
// or with none when the message asks for it plainly (asked: "solicito que um
// responsável entre em contato", or a phone to call given).
func contactedBy(ts []tagged, i int, asked bool) bool {
	window := 5
	if asked {
		window = 8 // "solicito que o gerente responsável pela conta entre em contato"
	}
	for j := i + 1; j < len(ts) && j <= i+window; j++ {
		if ts[j].c&cContact != 0 {
			return asked || contactsMe(ts, j)
		}
	}
	return false
}

// asksBefore says a request verb governs the person at i: "solicito que um
// técnico…", "gostaria que alguém do comercial…", "peço que o gerente…".
func asksBefore(ts []tagged, i int) bool {
	for j := i - 1; j >= 0 && j >= i-5; j-- {
		if ts[j].c&cWant != 0 && !negatedAt(ts, j) {
			return true
		}
	}
	return false
}

// callBack are the contact verbs that, with a phone number in the message,
// ask for a call ("liga no 11 9…"); "contato: (11) 3333-4444" in a
// signature is not one.
func callBack(w string) bool {
	for _, p := range []string{"lig", "retorn", "telefon", "call", "ring", "llam"} {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	return false
}

// contactsMe says the contact verb at i has the customer as its object:
// "me liga", "ligar pra mim", "retornar a ligação", "call me".
func contactsMe(ts []tagged, i int) bool {
	w := ts[i].word
	if i > 0 && (ts[i-1].word == "me" || ts[i-1].word == "nos") {
		return true
	}
	for j := i + 1; j < len(ts) && j <= i+3; j++ {
		switch ts[j].word {
		case "me", "mim", "comigo", "back", "meu", "nos":
			return true
		case "ligacao": // "retornar a ligação"
			return strings.HasPrefix(w, "retorn")
		}
	}
	return false
}

// withAgentNoun is a talk verb followed by "com", an article and a noun
// of the kinds that name people by trade (-dor, -tor, -ista, -eiro…).
func withAgentNoun(ts []tagged, i int) bool {
	j := i + 1
	if j < len(ts) && (ts[j].word == "direto" || ts[j].word == "diretamente") {
		j++
	}
	if j+2 >= len(ts) || ts[j].word != "com" {
		return false
	}
	switch ts[j+1].word {
	case "o", "a", "um", "uma", "seu", "sua", "meu", "minha":
	default:
		return false
	}
	w := ts[j+2].word
	for _, suffix := range []string{"dor", "dora", "tor", "tora", "sor", "sora", "ista", "eiro", "eira"} {
		if len(w) > len(suffix)+2 && strings.HasSuffix(w, suffix) {
			return true
		}
	}
	return false
}

// personDoes is a want followed by "que" and a person of any kind who is to
// do something: "preciso que uma pessoa analise", "gostaria que alguém
// olhasse". A role there is a service asked for ("preciso que o técnico
// venha amanhã"), not a person to talk to.
func personDoes(ts []tagged, i int) bool {
	if i+2 >= len(ts) || ts[i+1].word != "que" {
		return false
	}
	for j := i + 2; j < len(ts) && j <= i+4; j++ {
		if genericPerson[ts[j].word] {
			return true
		}
		switch ts[j].word {
		case "um", "uma", "o", "a", "algum", "alguma":
		default:
			return false
		}
	}
	return false
}

// genericPerson are the words for "a person" that name no trade.
var genericPerson = map[string]bool{"pessoa": true, "alguem": true, "algm": true, "humano": true, "humana": true, "atendente": true,
	"funcionario": true, "funcionaria": true}

// wantsPerson tells "quero um atendente" from "quero saber se alguém…":
// the person comes right after the want (an article or "de"/"com"/"a"
// between at most), not as the subject of what follows.
func wantsPerson(ts []tagged, i int) bool {
	for j := i + 1; j < len(ts) && j <= i+3; j++ {
		if ts[j].c&cPerson != 0 {
			switch ts[j].word {
			case "gente", "atendimento", "someone", "somebody", "people":
				return false
			}
			return true
		}
		switch ts[j].word {
		case "um", "uma", "de", "com", "a", "o", "an", "to", "speak", "talk", "falar", "por", "ser", "atendido", "atendida", "like", "real":
		default:
			return false
		}
	}
	return false
}

// botComplaint is the customer complaining about talking to a machine:
// "é um robô?", "só manda resposta pronta", "cansei desse bot", "is this a
// bot". A robot vacuum on sale is not one: the bot word must be about the
// conversation (with a second-person or demonstrative, or "resposta",
// "mensagem", or a rejection).
var botComplaint = func() func(string) bool {
	re := regexp.MustCompile(`\b(com|pra|para|e|eh|sou|falando com|conversando com|voce e|vc e|isso e|to falando com|estou falando com)\s+(um |uma |o |a )?(robo|bot|maquina|chatbot|ia|robozinho)\b` +
		`|\b(esse|essa|este|esta|desse|dessa|deste|teu)\s+(robo|bot|chatbot|robozinho|maquina)\b` +
		`|\b(resposta|respostas|mensagem|mensagens|texto|textos)\s+(pronta|prontas|automatica|automaticas|padrao|decorada|gravada|copiada)\b` +
		`|\b(nao|chega de|cansei de|odeio|sem)\s+(quero |aguento |suporto )?(mais )?(falar com |conversar com )?(robo|bot|maquina|chatbot|ia)\b` +
		`|\b(resposta|respostas|mensagem|mensagens|texto|textos) (de )?(copia e cola|copiad[ao]s?)\b|\bso (sabe )?(copiar e colar|copia e cola)\b|\b(so|e|eh|uma|essa|esta|outra) gravacao\b|\b(chat|atendimento|sistema|assistente|atendente) (automatico|virtual|eletronico)\b[^.?!]{0,30}\b(nao|nunca|so)\b` +
		`|\b(is this|are you|you are|you're|talking to|speaking to|chatting with) (a |an )?(bot|robot|machine|ai)\b|\b(stupid|useless|dumb) (bot|robot|machine)\b|\b(canned|automated) (reply|replies|response|responses|answer|answers|message|messages)\b|\bno (more )?bots?\b`)
	return re.MatchString
}()
