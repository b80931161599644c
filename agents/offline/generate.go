package offline

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strings"
)

// Generate expands every template into its sentences: each sentence picks a
// business that has the slots it needs, one alternative of every choice and
// one value of every slot, then goes through the language's noise. The
// result depends only on the files: the same corpus is the same model.
func (c *Corpus) Generate() []LabelledMessage {
	codes := make([]string, 0, len(c.langs))
	for code := range c.langs {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	var out []LabelledMessage
	seen := map[string]bool{}
	for _, code := range codes {
		l := c.langs[code]
		for _, t := range l.templates {
			for k := range t.n {
				rng := rand.New(rand.NewPCG(seedOf(t.where), uint64(k)))
				text, ok := l.render(t, rng)
				if !ok {
					continue
				}
				text = addNoise(code, text, t.human, rng)
				key := t.sector + "\x00" + strings.ToLower(text)
				if text == "" || seen[key] {
					continue
				}
				seen[key] = true
				out = append(out, LabelledMessage{
					ID:         fmt.Sprintf("corpus-%s-%d", t.where, k),
					Text:       text,
					Sector:     t.sector,
					WantsHuman: t.human,
				})
			}
		}
	}
	return out
}

// Templates counts the templates per language, for the eval's header.
func (c *Corpus) Templates() map[string]int {
	out := map[string]int{}
	for code, l := range c.langs {
		out[code] = len(l.templates)
	}
	return out
}

func seedOf(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// render writes one sentence of t, or false when no business has its slots.
func (l *corpusLang) render(t template, rng *rand.Rand) (string, bool) {
	var fits []int
	for i, b := range l.businesses {
		if l.has(b, t.needs) {
			fits = append(fits, i)
		}
	}
	var b business
	switch {
	case len(fits) > 0:
		b = l.businesses[fits[rng.IntN(len(fits))]]
	case !l.has(business{}, t.needs):
		return "", false
	}
	var sb strings.Builder
	if !l.write(&sb, t.body, b, rng) {
		return "", false
	}
	return tidy(sb.String()), true
}

func (l *corpusLang) has(b business, slots []string) bool {
	for _, s := range slots {
		if len(b.slots[s]) == 0 && len(l.global[s]) == 0 {
			return false
		}
	}
	return true
}

// write renders nodes; a choice takes only alternatives whose slots the
// business has.
func (l *corpusLang) write(sb *strings.Builder, nodes []node, b business, rng *rand.Rand) bool {
	for _, n := range nodes {
		switch {
		case n.slot != "":
			values := b.slots[n.slot]
			if len(values) == 0 {
				values = l.global[n.slot]
			}
			if len(values) == 0 {
				return false
			}
			v := values[rng.IntN(len(values))]
			if n.bare {
				v = withoutArticle(v)
			}
			writeContracted(sb, v)
		case n.choices != nil:
			var usable [][]node
			for _, alt := range n.choices {
				if l.has(b, slotsIn(alt)) {
					usable = append(usable, alt)
				}
			}
			if len(usable) == 0 {
				return false
			}
			if !l.write(sb, usable[rng.IntN(len(usable))], b, rng) {
				return false
			}
		default:
			sb.WriteString(n.text)
		}
	}
	return true
}

// slotsIn are the slots an alternative always uses (its nested choices
// are checked when they are rendered).
func slotsIn(nodes []node) []string {
	var out []string
	for _, n := range nodes {
		if n.slot != "" {
			out = append(out, n.slot)
		}
	}
	return out
}

var articles = []string{"o ", "a ", "os ", "as ", "um ", "uma ", "the ", "a ", "an "}

func withoutArticle(v string) string {
	lower := strings.ToLower(v)
	for _, a := range articles {
		if strings.HasPrefix(lower, a) {
			return v[len(a):]
		}
	}
	return v
}

// contractions join a preposition written just before a slot with the
// value's article: "d" + "o tênis" is "do tênis", "n" + "a loja" "na loja".
var contractions = map[string]string{"d": "de", "n": "em", "pel": "por"}

func writeContracted(sb *strings.Builder, v string) {
	s := sb.String()
	for prefix, full := range contractions {
		if !strings.HasSuffix(s, prefix) {
			continue
		}
		before := s[:len(s)-len(prefix)]
		if before != "" && !strings.HasSuffix(before, " ") && !strings.HasSuffix(before, "(") {
			continue
		}
		art, rest, _ := strings.Cut(v, " ")
		joined := ""
		switch strings.ToLower(art) {
		case "o", "a", "os", "as":
			joined = prefix + art + " " + rest
		}
		if joined == "" {
			joined = full + " " + v
		}
		sb.Reset()
		sb.WriteString(before + joined)
		return
	}
	sb.WriteString(v)
}

// tidy collapses the spaces an empty alternative leaves behind.
func tidy(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for _, p := range []string{" ,", " ?", " .", " !"} {
		s = strings.ReplaceAll(s, p, p[1:])
	}
	return strings.TrimSpace(s)
}
