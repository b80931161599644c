// Package offline is the deterministic engine that answers with no LLM: a
// trained text classifier for sector and handoff, handoff rules, and (as it
// grows) field extractors and knowledge answers. It is the default with no LLM
// configured and the fallback when one fails.
package offline

import (
	"hash/fnv"
	"math"
	"sort"
	"strings"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"

	"github.com/atende/atende/memory"
)

// featureDims is the size of the hashed feature space; collisions at this
// size cost nothing measurable on sets of thousands of sentences.
const featureDims = 1 << 18

// feature is one hashed feature and its weight in a sentence.
type feature struct {
	index int
	value float64
}

// features turns a message into hashed, L2-normalised features: accent-folded
// words stemmed for Portuguese and English, word bigrams, character
// trigrams to 5-grams inside words (robust to typos and inflection), and the
// concepts of the handoff rules (a person, a department, a request verb…)
// alone and in pairs, so a role word the examples never used still counts.
func features(text string) []feature {
	counts := map[int]float64{}
	add := func(s string, w float64) {
		h := fnv.New32a()
		_, _ = h.Write([]byte(s))
		counts[int(h.Sum32()%featureDims)] += w
	}
	words := memory.Words(text)
	prev := "<s>"
	var present concept
	for _, w := range words {
		if c := conceptsOf(w); c != 0 {
			present |= c
			for k := concept(1); k <= cOutrage; k <<= 1 {
				if c&k != 0 {
					add("k:"+k.String(), 0.5)
				}
			}
		}
		pt := memory.Stem(w)
		add("w:"+pt, 1)
		if en := stemEnglish(w); en != pt {
			add("e:"+en, 0.5)
		}
		add("b:"+prev+"_"+pt, 0.7)
		prev = pt
		padded := []rune("^" + w + "$")
		for n := 3; n <= 5; n++ {
			for i := 0; i+n <= len(padded); i++ {
				add("c:"+string(padded[i:i+n]), 0.25)
			}
		}
	}
	add("b:"+prev+"_</s>", 0.7)
	// pairs of concepts anywhere in the message ("want" and "person",
	// "contact" and "department"): what the handoff rules read, as evidence
	// the classifier weighs instead of a yes/no
	for a := concept(1); a <= cOutrage; a <<= 1 {
		for b := a << 1; b <= cOutrage; b <<= 1 {
			if present&a != 0 && present&b != 0 {
				add("kk:"+a.String()+"_"+b.String(), 0.5)
			}
		}
	}
	if len(words) == 0 {
		add("<empty>", 1)
	}
	if shouting(text) {
		add("<caps>", 1)
	}
	add("<bias>", 1)
	// A fixed order makes float sums, and so training, exactly repeatable:
	// the norm too is summed in index order, not in map order.
	out := make([]feature, 0, len(counts))
	for i, v := range counts {
		out = append(out, feature{index: i, value: v})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].index < out[b].index })
	var norm float64
	for _, f := range out {
		norm += f.value * f.value
	}
	norm = math.Sqrt(norm)
	for i := range out {
		out[i].value /= norm
	}
	return out
}

func stemEnglish(w string) string {
	if len(w) < 4 {
		return w
	}
	env := snowballstem.NewEnv(w)
	english.Stem(env)
	return env.Current()
}

// shouting reports a message written mostly in capitals (frustration).
func shouting(text string) bool {
	upper, letters := 0, 0
	for _, r := range text {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127 && strings.ToUpper(string(r)) != strings.ToLower(string(r)) {
			letters++
			if strings.ToUpper(string(r)) == string(r) {
				upper++
			}
		}
	}
	return letters >= 8 && float64(upper) >= 0.7*float64(letters)
}
