package llm

import (
	"errors"
	"fmt"

	"github.com/tmc/langchaingo/llms/anthropic"
	"github.com/tmc/langchaingo/llms/openai"
)

// ErrNotConfigured is returned when no LLM provider is configured: the
// offline engine answers alone.
var ErrNotConfigured = errors.New("no LLM configured")

// Config chooses the chat model.
type Config struct {
	Provider string // openai (or any OpenAI-compatible base URL), ollama, anthropic, google
	Model    string
	BaseURL  string
	APIKey   string
}

// GoogleOpenAIBaseURL is Gemini's OpenAI-compatible endpoint, which has tool
// calling; it spares Atende Google's SDK and its dependency tree.
const GoogleOpenAIBaseURL = "https://generativelanguage.googleapis.com/v1beta/openai/"

// DefaultModel is the model a provider uses when ATENDE_LLM_MODEL is unset.
func DefaultModel(provider string) string {
	return map[string]string{"openai": "gpt-4o-mini", "ollama": "llama3.1", "anthropic": "claude-3-5-haiku-latest",
		"google": "gemini-2.0-flash"}[provider]
}

// NewModel builds the configured model. Ollama is reached through its
// OpenAI-compatible /v1 endpoint (langchaingo's native Ollama client has no
// tools), Google through Gemini's OpenAI-compatible endpoint, Anthropic
// through langchaingo's Messages API client.
func NewModel(cfg Config) (Model, error) {
	if cfg.Model == "" {
		cfg.Model = DefaultModel(cfg.Provider)
	}
	switch cfg.Provider {
	case "", "none", "offline":
		return nil, ErrNotConfigured
	case "ollama":
		if cfg.BaseURL == "" {
			cfg.BaseURL = "http://localhost:11434/v1"
		}
		if cfg.APIKey == "" {
			cfg.APIKey = "ollama"
		}
	case "google":
		if cfg.BaseURL == "" {
			cfg.BaseURL = GoogleOpenAIBaseURL
		}
		if cfg.APIKey == "" {
			return nil, errors.New("ATENDE_LLM_PROVIDER=google needs ATENDE_LLM_API_KEY, GEMINI_API_KEY or GOOGLE_API_KEY")
		}
	case "anthropic":
		if cfg.APIKey == "" {
			return nil, errors.New("ATENDE_LLM_PROVIDER=anthropic needs ATENDE_LLM_API_KEY or ANTHROPIC_API_KEY")
		}
		opts := []anthropic.Option{anthropic.WithToken(cfg.APIKey), anthropic.WithModel(cfg.Model)}
		if cfg.BaseURL != "" {
			opts = append(opts, anthropic.WithBaseURL(cfg.BaseURL))
		}
		m, err := anthropic.New(opts...)
		if err != nil {
			return nil, fmt.Errorf("create anthropic model: %w", err)
		}
		return m, nil
	case "openai":
		if cfg.APIKey == "" {
			return nil, errors.New("ATENDE_LLM_PROVIDER=openai needs ATENDE_LLM_API_KEY or OPENAI_API_KEY")
		}
	default:
		return nil, fmt.Errorf("unknown LLM provider %q (openai, ollama, anthropic, google)", cfg.Provider)
	}
	opts := []openai.Option{openai.WithToken(cfg.APIKey), openai.WithModel(cfg.Model)}
	if cfg.BaseURL != "" {
		opts = append(opts, openai.WithBaseURL(cfg.BaseURL))
	}
	m, err := openai.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("create %s model: %w", cfg.Provider, err)
	}
	return m, nil
}
