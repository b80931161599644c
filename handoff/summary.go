package handoff

import (
	"regexp"
	"sort"
	"strings"

	"github.com/atende/atende/memory"
)

// The card's summary is extractive: the customer's sentences ranked by how
// much they say about the problem, repeats dropped, the best few in the order
// they were said. The need is the best one. Before, the need was the first
// message of five words or more, so "Oi, bom dia! Vocês parcelam em quantas
// vezes?" became the need of a billing complaint that came next (issue 11).

// sentenceBreak splits a message into sentences.
var sentenceBreak = regexp.MustCompile(`[.!?\n]+`)

// problemCues are stems of what a problem is said with: something wrong,
// missing, charged, broken, late, wanted back.
var problemCues = []string{"nao", "erro", "errad", "cobr", "debit", "duplic", "dobr", "estorn", "reembols", "devol", "cancel", "defeit", "quebr",
	"atras", "chegou", "receb", "funcion", "consig", "trav", "bloque", "problem", "sumiu", "falt", "venc", "multa", "juros", "golpe",
	"wrong", "charg", "broken", "late", "refund", "cancel", "never", "missing", "error", "not"}

// fillers are words that carry no problem: greetings, thanks, courtesy, and
// the request for a person itself (the card already says why it exists).
var fillers = map[string]bool{"oi": true, "ola": true, "bom": true, "boa": true, "dia": true, "tarde": true, "noite": true, "tudo": true,
	"bem": true, "obrigado": true, "obrigada": true, "por": true, "favor": true, "pf": true, "pfv": true, "hello": true, "hi": true,
	"thanks": true, "please": true, "atendente": true, "pessoa": true, "humano": true, "alguem": true, "falar": true, "quero": true,
	"com": true, "um": true, "uma": true, "o": true, "a": true, "de": true, "do": true, "da": true, "e": true, "que": true, "me": true,
	"meu": true, "minha": true, "vc": true, "voce": true, "voces": true, "vcs": true, "pra": true, "para": true, "no": true, "na": true,
	"em": true, "eu": true, "ja": true, "isso": true, "esse": true, "essa": true, "aqui": true, "ai": true, "the": true, "to": true, "i": true}

// scoredSentence is one sentence of the customer and what it says.
type scoredSentence struct {
	text  string
	order int
	score float64
	words map[string]bool
}

// rankSentences scores the customer's sentences: content words, problem
// cues (three times), numbers (an order, a value, a date), and the latest a
// little more (what made the card); near repeats keep the first.
func rankSentences(said []string) []scoredSentence {
	var out []scoredSentence
	n := 0
	for _, msg := range said {
		for _, raw := range sentenceBreak.Split(msg, -1) {
			text := strings.TrimSpace(raw)
			if text == "" {
				continue
			}
			n++
			s := scoredSentence{text: text, order: n, words: map[string]bool{}}
			for _, w := range memory.Words(text) {
				if fillers[w] {
					continue
				}
				s.words[memory.Stem(w)] = true
				s.score++
				if w[0] >= '0' && w[0] <= '9' {
					s.score++
				}
				for _, cue := range problemCues {
					if strings.HasPrefix(w, cue) {
						s.score += 3
						break
					}
				}
			}
			if aboutTheBot(text) {
				s.score *= 0.3 // "esse chat não serve pra nada" is why the card exists, not the need
			}
			out = append(out, s)
		}
	}
	for i := range out {
		out[i].score += 0.5 * float64(out[i].order) / float64(n) // later, a little more
	}
	// Drop near repeats ("já mandei o comprovante" three times), keeping the first.
	var kept []scoredSentence
	for _, s := range out {
		dup := false
		for _, k := range kept {
			if overlap(s.words, k.words) >= 0.6 {
				dup = true
				break
			}
		}
		if !dup && s.score >= 1 {
			kept = append(kept, s)
		}
	}
	return kept
}

// botWords mark a sentence about the conversation itself rather than the
// customer's problem: the bot, the chat, its canned answers.
var botWords = regexp.MustCompile(`\b(robo|robos|bot|bots|chatbot|assistente virtual)\b|\b(chat|atendimento) (automatico|virtual|de voces|de vcs)\b|\brespostas? (pronta|prontas|automatica|automaticas)\b|\b(falar|conversar|falando|conversando) com (uma |a |essa )?maquina\b|\b(talking|speaking|chatting) to a (machine|bot)\b`)

func aboutTheBot(sentence string) bool { return botWords.MatchString(memory.Fold(sentence)) }

func overlap(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	inter := 0
	for w := range a {
		if b[w] {
			inter++
		}
	}
	return float64(inter) / float64(min(len(a), len(b)))
}

// statedNeed is the sentence that states the problem best; "" when the
// customer said nothing of substance.
func statedNeed(said []string) string {
	best := scoredSentence{}
	for _, s := range rankSentences(said) {
		if s.score > best.score {
			best = s
		}
	}
	return best.text
}

// keySentences are the n sentences that say most, in the order they were said.
func keySentences(said []string, n int) []string {
	ranked := rankSentences(said)
	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].score > ranked[j].score })
	ranked = ranked[:min(n, len(ranked))]
	sort.Slice(ranked, func(i, j int) bool { return ranked[i].order < ranked[j].order })
	out := make([]string, len(ranked))
	for i, s := range ranked {
		out[i] = s.text
	}
	return out
}
