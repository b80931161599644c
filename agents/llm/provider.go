package llm

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/tmc/langchaingo/llms/openai"
)

// ErrNotConfigured is returned when no LLM provider is configured: the
// offline engine answers alone.
var ErrNotConfigured = errors.New("no LLM configured")

// Config chooses the chat model.
type Config struct {
	Provider string // openai (or any OpenAI-compatible base URL), ollama
	Model    string
	BaseURL  string
	APIKey   string
}

// ConfigFromEnv reads ATENDE_LLM_PROVIDER, ATENDE_LLM_MODEL, ATENDE_LLM_BASE_URL
// and ATENDE_LLM_API_KEY (or OPENAI_API_KEY).
func ConfigFromEnv() Config {
	key := os.Getenv("ATENDE_LLM_API_KEY")
	if key == "" {
		key = os.Getenv("OPENAI_API_KEY")
	}
	return Config{Provider: strings.ToLower(os.Getenv("ATENDE_LLM_PROVIDER")), Model: os.Getenv("ATENDE_LLM_MODEL"),
		BaseURL: os.Getenv("ATENDE_LLM_BASE_URL"), APIKey: key}
}

// NewModel builds the configured model. Ollama is reached through its
// OpenAI-compatible /v1 endpoint: langchaingo's native Ollama client has no tools.
func NewModel(cfg Config) (Model, error) {
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
		if cfg.Model == "" {
			cfg.Model = "llama3.1"
		}
	case "openai":
		if cfg.Model == "" {
			cfg.Model = "gpt-4o-mini"
		}
		if cfg.APIKey == "" {
			return nil, errors.New("ATENDE_LLM_PROVIDER=openai needs ATENDE_LLM_API_KEY or OPENAI_API_KEY")
		}
	default:
		return nil, fmt.Errorf("unknown LLM provider %q (openai, ollama)", cfg.Provider)
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
