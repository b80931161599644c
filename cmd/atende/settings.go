package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/atende/atende/agents"
	"github.com/atende/atende/agents/llm"
	"github.com/atende/atende/api"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/internal/secretbox"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/webhooks"
)

// Settings is everything the server is configured with, read from the
// environment once, here, and passed down: no package below cmd reads the
// environment. Every variable is in the README's settings table.
type Settings struct {
	DatabaseURL string // DATABASE_URL
	Addr        string // ATENDE_ADDR (127.0.0.1:8080)
	PublicURL   string // ATENDE_PUBLIC_URL
	PprofAddr   string // ATENDE_PPROF_ADDR
	ConfigPath  string // ATENDE_CONFIG: the business file
	PromptsDir  string // ATENDE_PROMPTS_DIR
	// MediaDir holds the files customers send, by content (ATENDE_MEDIA_DIR,
	// default .atende/media); MediaMaxBytes is the largest one kept.
	MediaDir      string
	MediaMaxBytes int64
	// Media is the S3 store and the transcription provider (both optional).
	Media    MediaSettings
	Capacity Capacity
	// Outbound is ATENDE_OUTBOUND_ALLOW: what tenant URLs may reach beyond
	// public addresses (nothing by default).
	Outbound   outbound.Policy
	LLM        llm.Config    // ATENDE_LLM_PROVIDER, _MODEL, _BASE_URL, _API_KEY (or the provider's variable)
	LLMTimeout time.Duration // ATENDE_LLM_TIMEOUT (20s)
	LLMPrices  llm.Prices    // ATENDE_LLM_PRICES
	Embedder   memory.EmbedderConfig
	// RateLimits are the public surfaces' limits: ATENDE_RATE_DISABLED,
	// ATENDE_RATE_TRUSTED_PROXIES (see rateLimitsFromEnv).
	RateLimits api.RateLimits
	// Secrets is ATENDE_SECRET_KEY: the keys that seal channel, webhook and
	// tool secrets in the database (nil when unset; SecretBox says so).
	Secrets *secretbox.Box
}

// Getenv is how settings are looked up (os.Getenv; a map in tests).
type Getenv func(string) string

// settingsProblems gathers every bad variable, so an operator fixes them
// all in one go rather than one per restart.
type settingsProblems []error

func (p *settingsProblems) add(name, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

func (p settingsProblems) err() error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("bad settings:\n  %w", errors.Join(p...))
}

// loadSettings reads every setting and validates them; the error names
// each bad variable with what is wrong with it.
func loadSettings(env Getenv) (Settings, error) {
	var bad settingsProblems
	or := func(name, def string) string {
		if v := strings.TrimSpace(env(name)); v != "" {
			return v
		}
		return def
	}
	duration := func(name, def string) time.Duration {
		d, err := time.ParseDuration(or(name, def))
		if err != nil || d < 0 {
			bad.add(name, "want a duration such as %s, got %q", def, env(name))
		}
		return d
	}
	s := Settings{
		DatabaseURL: env("DATABASE_URL"),
		Addr:        or("ATENDE_ADDR", "127.0.0.1:8080"),
		PublicURL:   or("ATENDE_PUBLIC_URL", ""),
		PprofAddr:   or("ATENDE_PPROF_ADDR", ""),
		ConfigPath:  or("ATENDE_CONFIG", ""),
		PromptsDir:  or("ATENDE_PROMPTS_DIR", ""),
		MediaDir:    or("ATENDE_MEDIA_DIR", ".atende/media"),
		// 25 MB: a WhatsApp video or a PDF of a contract fit; a backup does not
		MediaMaxBytes: 25 << 20,
		LLM:           llmConfig(env),
		LLMTimeout:    duration("ATENDE_LLM_TIMEOUT", "20s"),
		Embedder:      embedderConfig(env),
	}
	s.Capacity = capacity(env, &bad, duration)
	s.Media = mediaSettings(env, &bad, duration)
	var err error
	if s.Outbound, err = outbound.Parse(env("ATENDE_OUTBOUND_ALLOW")); err != nil {
		bad = append(bad, err) // Parse names the variable
	}
	if s.LLMPrices, err = llm.ParsePrices(env("ATENDE_LLM_PRICES")); err != nil {
		bad.add("ATENDE_LLM_PRICES", "%v", err)
	}
	if s.RateLimits, err = rateLimitsFromEnv(func(k string) (string, bool) { v := env(k); return v, v != "" }); err != nil {
		bad = append(bad, err) // it names the variable
	}
	if s.Secrets, err = secretKeys(strings.TrimSpace(env(secretKeyEnv))); err != nil {
		bad.add(secretKeyEnv, "%v", err)
	}
	bad = append(bad, s.Validate()...)
	return s, bad.err()
}

// Validate checks what parsing alone does not: addresses, URLs and known
// providers. It returns one error per bad variable.
func (s Settings) Validate() []error {
	var bad settingsProblems
	if _, _, err := net.SplitHostPort(s.Addr); err != nil {
		bad.add("ATENDE_ADDR", "want host:port, got %q", s.Addr)
	}
	if s.PprofAddr != "" {
		if host, _, err := net.SplitHostPort(s.PprofAddr); err != nil || !isLoopback(host) {
			bad.add("ATENDE_PPROF_ADDR", "want a loopback host:port (the profiler is not for the network), got %q", s.PprofAddr)
		}
	}
	if s.PublicURL != "" {
		if u, err := url.Parse(s.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad.add("ATENDE_PUBLIC_URL", "want an http(s) URL, got %q", s.PublicURL)
		}
	}
	switch s.LLM.Provider {
	case "", "openai", "ollama", "anthropic", "google":
	default:
		bad.add("ATENDE_LLM_PROVIDER", "want openai, ollama, anthropic or google, got %q", s.LLM.Provider)
	}
	switch s.Embedder.Provider {
	case "", "builtin", "openai", "ollama":
	default:
		bad.add("ATENDE_EMBEDDINGS_PROVIDER", "want builtin, openai or ollama, got %q", s.Embedder.Provider)
	}
	return bad
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// capacity reads ATENDE_TURN_WORKERS (64), ATENDE_DB_MAX_CONNS (computed)
// and ATENDE_TURN_DEBOUNCE (2s).
func capacity(env Getenv, bad *settingsProblems, duration func(name, def string) time.Duration) Capacity {
	c := Capacity{
		Workers: map[string]int{
			memory.ChunkQueue:    4,
			channels.SendQueue:   8,
			agents.TurnQueueName: 64,
			handoff.SLAQueue:     4,
			webhooks.Queue:       4,
			channels.MediaQueue:  4,
		},
		RescueAfter: agents.DefaultTurnLease,
	}
	if v := strings.TrimSpace(env("ATENDE_TURN_WORKERS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			bad.add("ATENDE_TURN_WORKERS", "want a positive number, got %q", v)
		} else {
			c.Workers[agents.TurnQueueName] = n
		}
	}
	c.DBMaxConns = c.PoolSize()
	if v := strings.TrimSpace(env("ATENDE_DB_MAX_CONNS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= heldConnections {
			bad.add("ATENDE_DB_MAX_CONNS", "want a number above %d (the connections held for good), got %q", heldConnections, v)
		} else {
			c.DBMaxConns = int32(n)
		}
	}
	c.Debounce = duration("ATENDE_TURN_DEBOUNCE", "2s")
	return c
}

// llmConfig reads ATENDE_LLM_PROVIDER, ATENDE_LLM_MODEL, ATENDE_LLM_BASE_URL
// and ATENDE_LLM_API_KEY (or the provider's usual variable: OPENAI_API_KEY,
// ANTHROPIC_API_KEY, GEMINI_API_KEY / GOOGLE_API_KEY).
func llmConfig(env Getenv) llm.Config {
	provider := strings.ToLower(strings.TrimSpace(env("ATENDE_LLM_PROVIDER")))
	key := env("ATENDE_LLM_API_KEY")
	fallbacks := map[string][]string{"openai": {"OPENAI_API_KEY"}, "anthropic": {"ANTHROPIC_API_KEY"}, "google": {"GEMINI_API_KEY", "GOOGLE_API_KEY"}}
	for _, name := range fallbacks[provider] {
		if key == "" {
			key = env(name)
		}
	}
	return llm.Config{Provider: provider, Model: env("ATENDE_LLM_MODEL"), BaseURL: env("ATENDE_LLM_BASE_URL"), APIKey: key}
}

// embedderConfig reads ATENDE_EMBEDDINGS_PROVIDER, ATENDE_EMBEDDINGS_MODEL,
// ATENDE_EMBEDDINGS_BASE_URL and ATENDE_EMBEDDINGS_API_KEY (or OPENAI_API_KEY).
func embedderConfig(env Getenv) memory.EmbedderConfig {
	key := env("ATENDE_EMBEDDINGS_API_KEY")
	if key == "" {
		key = env("OPENAI_API_KEY")
	}
	return memory.EmbedderConfig{
		Provider: strings.ToLower(strings.TrimSpace(env("ATENDE_EMBEDDINGS_PROVIDER"))),
		Model:    env("ATENDE_EMBEDDINGS_MODEL"),
		BaseURL:  env("ATENDE_EMBEDDINGS_BASE_URL"),
		APIKey:   key,
	}
}

// serverSettings are the settings of a command that runs the server's parts
// (serve, seed, the tools): the environment's, with DATABASE_URL required.
func serverSettings() (Settings, error) {
	s, err := loadSettings(os.Getenv)
	if err != nil {
		return s, err
	}
	if s.DatabaseURL == "" {
		return s, errors.New("DATABASE_URL is not set (make run sets it, or point it at PostgreSQL with pgvector)")
	}
	return s, nil
}
