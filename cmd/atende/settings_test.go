package main

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/atende/atende/agents"
)

func envOf(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestSettingsDefaults(t *testing.T) {
	s, err := loadSettings(envOf(map[string]string{"DATABASE_URL": "postgres://x"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr != "127.0.0.1:8080" || s.LLMTimeout != 20*time.Second || s.Capacity.Debounce != 2*time.Second ||
		s.Capacity.Workers[agents.TurnQueueName] != 64 || s.Capacity.DBMaxConns != s.Capacity.PoolSize() {
		t.Fatalf("defaults: %+v", s)
	}
	if s.Outbound.AllowsAddr(netip.MustParseAddr("127.0.0.1")) {
		t.Fatal("loopback is allowed by default")
	}
}

func TestSettingsReadTheProvidersKeys(t *testing.T) {
	s, err := loadSettings(envOf(map[string]string{"ATENDE_LLM_PROVIDER": "Anthropic", "ANTHROPIC_API_KEY": "sk-ant-env",
		"ATENDE_EMBEDDINGS_PROVIDER": "openai", "OPENAI_API_KEY": "sk-openai", "ATENDE_OUTBOUND_ALLOW": "10.0.0.0/8"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.LLM.Provider != "anthropic" || s.LLM.APIKey != "sk-ant-env" || s.Embedder.APIKey != "sk-openai" ||
		!s.Outbound.AllowsAddr(netip.MustParseAddr("10.1.2.3")) {
		t.Fatalf("%+v", s)
	}
}

// Every bad variable is named at once, with what is wrong with it.
func TestSettingsNameEveryBadVariable(t *testing.T) {
	_, err := loadSettings(envOf(map[string]string{
		"ATENDE_ADDR":                "8080",
		"ATENDE_TURN_WORKERS":        "zero",
		"ATENDE_DB_MAX_CONNS":        "1",
		"ATENDE_TURN_DEBOUNCE":       "2 seconds",
		"ATENDE_LLM_TIMEOUT":         "-5s",
		"ATENDE_LLM_PROVIDER":        "watson",
		"ATENDE_EMBEDDINGS_PROVIDER": "word2vec",
		"ATENDE_OUTBOUND_ALLOW":      "10.0.0.0/99x",
		"ATENDE_LLM_PRICES":          "gpt=cheap",
		"ATENDE_PUBLIC_URL":          "atende.example.com",
		"ATENDE_PPROF_ADDR":          "0.0.0.0:6060",
		"ATENDE_SECRET_KEY":          "not-a-key",
	}))
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, name := range []string{"ATENDE_ADDR", "ATENDE_TURN_WORKERS", "ATENDE_DB_MAX_CONNS", "ATENDE_TURN_DEBOUNCE", "ATENDE_LLM_TIMEOUT",
		"ATENDE_LLM_PROVIDER", "ATENDE_EMBEDDINGS_PROVIDER", "ATENDE_OUTBOUND_ALLOW", "ATENDE_LLM_PRICES", "ATENDE_PUBLIC_URL", "ATENDE_PPROF_ADDR",
		"ATENDE_SECRET_KEY"} {
		if !strings.Contains(err.Error(), name+":") {
			t.Errorf("%s is not named in:\n%v", name, err)
		}
	}
}
