package memory

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func cosine(a, b []float32) float64 {
	var dot float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
	}
	return dot
}

func TestHashEmbedderIsDeterministicNormalisedAndLexical(t *testing.T) {
	h := NewHashEmbedder(DefaultHashDims)
	a := h.Embed("Meu pedido chegou QUEBRADO")
	if !reflectEqual(a, h.Embed("Meu pedido chegou QUEBRADO")) {
		t.Fatal("not deterministic")
	}
	var norm float64
	for _, v := range a {
		norm += float64(v) * float64(v)
	}
	if math.Abs(norm-1) > 1e-5 {
		t.Fatalf("norm = %f", norm)
	}
	near := cosine(a, h.Embed("o pedido que chegou quebrado?"))
	accents := cosine(h.Embed("não recebi a cobrança"), h.Embed("nao recebi a cobranca"))
	far := cosine(a, h.Embed("qual o horário de funcionamento da loja"))
	if near <= far || accents < 0.99 {
		t.Fatalf("near %.3f far %.3f accents %.3f", near, far, accents)
	}
	if len(h.Embed("")) != DefaultHashDims {
		t.Fatal("empty text must still embed")
	}
}

func reflectEqual(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// fakeOpenAI speaks the OpenAI embeddings protocol: POST /embeddings with
// {"model", "input": [...]}, answering one vector per input.
func fakeOpenAI(t *testing.T, dims int) (*httptest.Server, *[]string) {
	var models []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/embeddings" || r.Header.Get("Authorization") != "Bearer sk-test" {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		models = append(models, req.Model)
		h := NewHashEmbedder(dims)
		data := make([]map[string]any, len(req.Input))
		for i, in := range req.Input {
			data[i] = map[string]any{"object": "embedding", "index": i, "embedding": h.Embed(in)}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "model": req.Model, "data": data,
			"usage": map[string]int{"prompt_tokens": 1, "total_tokens": 1}})
	}))
	t.Cleanup(srv.Close)
	return srv, &models
}

func TestOpenAICompatibleEmbedderAndModelsNeverMix(t *testing.T) {
	srv, models := fakeOpenAI(t, 64)
	remote, err := NewEmbedder(EmbedderConfig{Provider: "openai", Model: "text-embedding-3-small", BaseURL: srv.URL + "/v1", APIKey: "sk-test"})
	if err != nil {
		t.Fatal(err)
	}
	if remote.Model() != "openai:text-embedding-3-small" {
		t.Fatalf("model id = %q", remote.Model())
	}
	s, acct := newTestStore(t)
	ctx := context.Background()
	c := mustResolve(t, s, acct, KindWhatsApp, "5511987654321", "Maria")
	mustAppend(t, s, acct, inbound(c.ID, "whatsapp", "a geladeira chegou amassada", "", fixedTime))
	if _, err := s.ChunkContact(ctx, acct, c.ID); err != nil { // built-in model
		t.Fatal(err)
	}
	withRemote := NewStore(s.pool, nil, remote, s.log)
	if hits, err := withRemote.SearchHistory(ctx, acct, c.ID, "geladeira amassada", 5); err != nil || len(hits) != 0 {
		t.Fatalf("a search with another model must not see built-in vectors: %v %v", hits, err)
	}
	if len(*models) == 0 || (*models)[0] != "text-embedding-3-small" {
		t.Fatalf("the fake server was not asked with the configured model: %v", *models)
	}
	if _, err := NewEmbedder(EmbedderConfig{Provider: "openai"}); err == nil || !strings.Contains(err.Error(), "API_KEY") {
		t.Fatalf("missing key must say which variable: %v", err)
	}
	if _, err := NewEmbedder(EmbedderConfig{Provider: "word2vec"}); err == nil {
		t.Fatal("unknown provider accepted")
	}
}
