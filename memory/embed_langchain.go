package memory

import (
	"context"
	"errors"
	"fmt"

	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms/openai"
)

// remoteEmbedder adapts a langchaingo embedder to ours, adding the model id
// that is stored with every vector.
type remoteEmbedder struct {
	model string
	inner embeddings.Embedder
}

func (r *remoteEmbedder) Model() string { return r.model }

func (r *remoteEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	vecs, err := r.inner.EmbedDocuments(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("embed %d documents with %s: %w", len(texts), r.model, err)
	}
	return vecs, nil
}

func (r *remoteEmbedder) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	vec, err := r.inner.EmbedQuery(ctx, text)
	if err != nil {
		return nil, fmt.Errorf("embed query with %s: %w", r.model, err)
	}
	return vec, nil
}

// EmbedderConfig chooses the embedder. The zero value is the built-in one.
type EmbedderConfig struct {
	Provider string // "builtin" (default), "openai" (or any OpenAI-compatible URL), "ollama"
	Model    string
	BaseURL  string
	APIKey   string
}

// NewEmbedder builds the configured embedder. Ollama is reached through its
// OpenAI-compatible /v1 endpoint (langchaingo's native Ollama client lacks
// parts we rely on elsewhere, so one client serves both).
func NewEmbedder(cfg EmbedderConfig) (Embedder, error) {
	switch cfg.Provider {
	case "", "builtin", "hash":
		return NewHashEmbedder(DefaultHashDims), nil
	case "openai", "ollama":
	default:
		return nil, fmt.Errorf("unknown embeddings provider %q (builtin, openai, ollama)", cfg.Provider)
	}
	if cfg.Provider == "ollama" {
		if cfg.BaseURL == "" {
			cfg.BaseURL = "http://localhost:11434/v1"
		}
		if cfg.Model == "" {
			cfg.Model = "nomic-embed-text"
		}
		if cfg.APIKey == "" {
			cfg.APIKey = "ollama" // Ollama ignores it; the client insists on one.
		}
	}
	if cfg.Model == "" {
		cfg.Model = "text-embedding-3-small"
	}
	if cfg.APIKey == "" {
		return nil, errors.New("embeddings provider openai needs ATENDE_EMBEDDINGS_API_KEY or OPENAI_API_KEY")
	}
	opts := []openai.Option{openai.WithToken(cfg.APIKey), openai.WithEmbeddingModel(cfg.Model), openai.WithModel(cfg.Model)}
	if cfg.BaseURL != "" {
		opts = append(opts, openai.WithBaseURL(cfg.BaseURL))
	}
	client, err := openai.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("create %s embeddings client: %w", cfg.Provider, err)
	}
	inner, err := embeddings.NewEmbedder(client)
	if err != nil {
		return nil, fmt.Errorf("create %s embedder: %w", cfg.Provider, err)
	}
	return &remoteEmbedder{model: cfg.Provider + ":" + cfg.Model, inner: inner}, nil
}
