package memory

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"unicode"

	snowball "github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/portuguese"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Embedder turns text into vectors for retrieval. Model is stored with every
// vector, and searches only compare vectors of the same model, so switching
// embedders never mixes incomparable vectors.
type Embedder interface {
	Model() string
	EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error)
	EmbedQuery(ctx context.Context, text string) ([]float32, error)
}

// HashEmbedder is the built-in embedder: deterministic, offline, no model to
// download. It hashes accent-folded, Portuguese-stemmed words, word bigrams and
// character trigrams into a fixed number of signed buckets and L2-normalises
// the sum. It captures lexical and morphological overlap ("quebrado",
// "quebrou"), not meaning, which is why retrieval fuses it with full-text search.
type HashEmbedder struct {
	dims int
}

// DefaultHashDims is the built-in embedder's dimension: small enough for fast
// HNSW builds, large enough that bucket collisions rarely matter for short texts.
const DefaultHashDims = 384

// NewHashEmbedder returns the built-in embedder with dims buckets.
func NewHashEmbedder(dims int) *HashEmbedder {
	if dims <= 0 {
		dims = DefaultHashDims
	}
	return &HashEmbedder{dims: dims}
}

// Model names the embedder and its dimension; a change to the algorithm must change the name.
func (h *HashEmbedder) Model() string { return fmt.Sprintf("atende-hash-v1-%d", h.dims) }

// EmbedDocuments embeds each text.
func (h *HashEmbedder) EmbedDocuments(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = h.Embed(t)
	}
	return out, nil
}

// EmbedQuery embeds one query the same way as documents.
func (h *HashEmbedder) EmbedQuery(_ context.Context, text string) ([]float32, error) {
	return h.Embed(text), nil
}

// Embed computes the vector of one text.
func (h *HashEmbedder) Embed(text string) []float32 {
	vec := make([]float64, h.dims)
	add := func(feature string, weight float64) {
		f := fnv.New64a()
		_, _ = f.Write([]byte(feature))
		sum := f.Sum64()
		sign := 1.0
		if sum&(1<<63) != 0 {
			sign = -1
		}
		vec[sum%uint64(h.dims)] += sign * weight
	}
	words := Words(text)
	prev := ""
	for _, w := range words {
		if stopwords[w] {
			prev = ""
			continue
		}
		stem := Stem(w)
		add("w:"+stem, 1)
		if prev != "" {
			add("b:"+prev+" "+stem, 0.5)
		}
		prev = stem
		padded := []rune("<" + w + ">")
		for i := 0; i+3 <= len(padded); i++ {
			add("c:"+string(padded[i:i+3]), 0.3)
		}
	}
	var norm2 float64
	for _, v := range vec {
		norm2 += v * v
	}
	out := make([]float32, h.dims)
	if norm2 == 0 {
		// An empty or all-stopword text still needs a valid (non-zero) vector for cosine.
		out[0] = 1
		return out
	}
	n := math.Sqrt(norm2)
	for i, v := range vec {
		out[i] = float32(v / n)
	}
	return out
}

// Fold lower-cases and removes accents: "Não" -> "nao".
func Fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	folded, _, err := transform.String(t, s)
	if err != nil {
		folded = s
	}
	return strings.ToLower(folded)
}

// Words splits accent-folded text into words of letters and digits.
func Words(s string) []string {
	return strings.FieldsFunc(Fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// Stem reduces a folded word to its Portuguese stem ("quebrado" -> "quebr").
func Stem(word string) string {
	if len(word) < 4 {
		return word
	}
	env := snowball.NewEnv(word)
	portuguese.Stem(env)
	return env.Current()
}

// stopwords are the most frequent Portuguese and English function words, folded;
// they carry no meaning for retrieval and would dominate every vector.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a o as os um uma uns umas de do da dos das em no na nos nas por para pra pro com sem
		e ou que se nao sim mas como ja eu voce vc tu ele ela nos eles elas me te lhe meu minha seu sua isso isto esse essa
		este esta aquele ao aos foi ser ter tem tive estou esta sou era the an and or of to in on for is are was be it this
		that with i you my your me we our at by from`) {
		m[w] = true
	}
	return m
}()
