package offline

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/atende/atende/memory"
)

// noise is how customers really write, for the generated corpus: each
// sentence gets a random few of these, so the router learns "vc qro 2via"
// as well as "Você poderia me enviar a segunda via?". None changes what
// the sentence asks for, so none changes its label.
type noise struct {
	greetings, thanks, emoji, fillers []string
	abbrev                            map[string][]string
	emailOpen, emailClose             []string
}

var noises = map[string]noise{
	"pt": {
		greetings: []string{"oi", "oi,", "olá", "olá!", "bom dia", "bom dia!", "boa tarde", "boa tarde,", "boa noite", "oi, tudo bem?", "opa", "e aí",
			"olá, boa tarde!", "oii", "oi gente", "bom dia, tudo bem?", "oi boa noite", "salve", "oie"},
		thanks:  []string{"obrigado", "obrigada", "obg", "aguardo", "desde já agradeço", "valeu", "grato", "por favor", "pfv", "agradeço", "vlw"},
		emoji:   []string{"🙏", "😊", "😅", "🤔", "👍", "🙂", "😕", "🥲", "😬", "👀"},
		fillers: []string{"então", "é que", "tipo assim", "olha", "seguinte", "ó", "assim", "então é o seguinte"},
		abbrev: map[string][]string{
			"você": {"vc", "voce", "cê"}, "vocês": {"vcs", "voces", "vcss"}, "porque": {"pq", "pq"}, "por que": {"pq"}, "quero": {"qro", "quero"},
			"também": {"tb", "tbm"}, "por favor": {"pfv", "pf", "por fvr"}, "obrigado": {"obg", "obgd"}, "obrigada": {"obg", "obgda"},
			"não": {"nao"}, "está": {"ta", "tá"}, "estou": {"to", "tô"}, "para": {"pra", "p"}, "beleza": {"blz"}, "tudo": {"td"},
			"mesmo": {"msm"}, "hoje": {"hj"}, "aqui": {"aki"}, "que": {"q", "que"}, "depois": {"dps"}, "mensagem": {"msg"}, "ninguém": {"ninguem"},
			"quando": {"qdo", "qnd"}, "agora": {"agr"}, "muito": {"mt", "mto"}, "de novo": {"dnv", "dnovo"}, "certeza": {"ctz"},
			"comigo": {"cmg"}, "contigo": {"ctg"}, "beijos": {"bjs"}, "tudo bem": {"td bem", "tdb"},
			"alguém": {"alguem", "algm"}, "sábado": {"sabado", "sab"}, "número": {"numero", "nº", "n°"}, "segunda via": {"2via", "2ª via", "2a via"},
			"entendi": {"entendii"}, "pagamento": {"pgto", "pagto"}, "whatsapp": {"zap", "wpp", "whats"},
		},
		emailOpen:  []string{"Prezados,", "Olá, equipe,", "Bom dia,", "Boa tarde,", "Prezados, boa tarde.", "A quem possa interessar,", "Olá,"},
		emailClose: []string{"Atenciosamente,", "Att,", "Obrigado,", "Aguardo retorno.", "Grato,", "Abraços,", "Cordialmente,"},
	},
	"en": {
		greetings: []string{"hi", "hello", "hey", "hi there", "good morning", "hello,", "hey there,", "good afternoon"},
		thanks:    []string{"thanks", "thank you", "thx", "pls", "please", "ty", "cheers"},
		emoji:     []string{"🙏", "😊", "🤔", "👍", "🙂"},
		fillers:   []string{"so", "um", "well", "ok so", "like"},
		abbrev: map[string][]string{
			"you": {"u", "ya"}, "your": {"ur", "yr"}, "please": {"pls", "plz"}, "want to": {"wanna"}, "going to": {"gonna"},
			"could you": {"could u", "cud u"}, "can you": {"can u", "cn u"}, "i am": {"im", "i'm"}, "would like": {"'d like", "wanna"},
			"are": {"r"}, "thanks": {"thx"}, "do not": {"dont", "don't"}, "cannot": {"cant", "can't"},
			"help me": {"help me", "hlp me"}, "information": {"info"},
		},
		emailOpen:  []string{"Hello,", "Dear team,", "Hi,", "Good morning,"},
		emailClose: []string{"Regards,", "Thanks,", "Best,", "Kind regards,"},
	},
}

// noiseNames sign the e-mails the noise writes.
var noiseNames = []string{"Carla", "Marcos", "Juliana", "Rafael", "Patrícia", "Diego", "Fernanda", "Lucas", "Sandra", "Thiago"}

// addNoise rewrites a clean template sentence the way a customer might type
// it; human marks a sentence that asks for a person (only those may shout).
func addNoise(lang, s string, human bool, rng *rand.Rand) string {
	nz, ok := noises[lang]
	if !ok {
		return s
	}
	p := func(x float64) bool { return rng.Float64() < x }
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	if p(0.35) {
		s = abbreviate(s, nz.abbrev, 0.6, rng)
	}
	if p(0.2) {
		s = typo(s, rng)
	}
	if p(0.08) {
		s = typo(s, rng)
	}
	switch r := rng.Float64(); {
	case r < 0.2:
		s = pick(nz.greetings) + " " + lowerFirst(s)
	case r < 0.27:
		s = pick(nz.fillers) + " " + lowerFirst(s)
	}
	if p(0.12) {
		s = strings.TrimRight(s, ".!") + " " + pick(nz.thanks)
	}
	if p(0.08) {
		s += " " + pick(nz.emoji)
	}
	switch r := rng.Float64(); {
	case r < 0.1:
		s = strings.TrimRight(s, ".!?")
	case r < 0.16 && strings.HasSuffix(s, "?"):
		s += "??"
	}
	if p(0.07) {
		s = runOn(s)
	}
	if p(0.3) {
		s = memory.Fold(s) // accents gone, and lower case
	} else if p(0.35) {
		s = strings.ToLower(s)
	}
	if human && p(0.06) {
		s = strings.ToUpper(s) // capitals on a calm request would read as anger
	}
	if p(0.06) {
		s = pick(nz.emailOpen) + "\n\n" + upperFirst(s) + "\n\n" + pick(nz.emailClose) + "\n" + pick(noiseNames)
	}
	return s
}

// abbreviate swaps words and phrases for the internetês a customer types.
func abbreviate(s string, abbrev map[string][]string, rate float64, rng *rand.Rand) string {
	words := strings.Fields(s)
	var out []string
	for i := 0; i < len(words); i++ {
		// two-word phrases first ("por favor", "de novo")
		if i+1 < len(words) {
			phrase := strings.ToLower(words[i] + " " + strings.TrimRight(words[i+1], ",.!?"))
			if alts, ok := abbrev[phrase]; ok && rng.Float64() < rate {
				out = append(out, alts[rng.IntN(len(alts))]+trailingPunct(words[i+1]))
				i++
				continue
			}
		}
		bare := strings.TrimRight(words[i], ",.!?")
		if alts, ok := abbrev[strings.ToLower(bare)]; ok && rng.Float64() < rate {
			out = append(out, alts[rng.IntN(len(alts))]+words[i][len(bare):])
			continue
		}
		out = append(out, words[i])
	}
	return strings.Join(out, " ")
}

func trailingPunct(w string) string {
	return w[len(strings.TrimRight(w, ",.!?")):]
}

// typo changes one letter of a longer word: swapped, dropped or doubled.
func typo(s string, rng *rand.Rand) string {
	words := strings.Fields(s)
	var long []int
	for i, w := range words {
		if utf8.RuneCountInString(w) >= 5 && !strings.ContainsAny(w, "0123456789@{}") {
			long = append(long, i)
		}
	}
	if len(long) == 0 {
		return s
	}
	i := long[rng.IntN(len(long))]
	r := []rune(words[i])
	j := 1 + rng.IntN(len(r)-2)
	if !unicode.IsLetter(r[j]) || !unicode.IsLetter(r[j+1]) {
		return s
	}
	switch rng.IntN(3) {
	case 0:
		r[j], r[j+1] = r[j+1], r[j]
	case 1:
		r = append(r[:j], r[j+1:]...)
	default:
		r = append(r[:j+1], r[j:]...)
	}
	words[i] = string(r)
	return strings.Join(words, " ")
}

// runOn is a voice note typed by the phone: no punctuation, one breath.
func runOn(s string) string {
	// punctuation goes, but not inside numbers ("R$ 1.250,00", a CPF)
	s = runOnPunct.ReplaceAllString(s, " ")
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

var runOnPunct = regexp.MustCompile(`[,.!?;:]+(\s|$)|[!?;]+`)

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || len(s) > n && unicode.IsUpper(rune(s[n])) {
		return s // an acronym or a shout
	}
	return string(unicode.ToLower(r)) + s[n:]
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
