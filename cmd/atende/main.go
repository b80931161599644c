// Command atende is the one Atende binary: serve the API and workers, apply
// migrations, seed the demo account, and the tools around them.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `usage: atende <command> [flags]

commands:
  serve       apply migrations, then serve the API, the inbox (/inbox) and run the background workers
  migrate     apply Atende's and River's migrations (a no-op when up to date)
  seed [-demo-month]
              create the demo account, its API key and a demo contact (idempotent); -demo-month also
              generates a month of traffic for the reports (/inbox/relatorios), once
  accounts create SLUG [-name NAME] [-no-key] | accounts list
              create a tenant (and issue it an API key, printed once); list the tenants
              (-slug SLUG still names it; accounts key -slug SLUG is keys create)
  keys create -account SLUG [-name LABEL] | keys list -account SLUG | keys revoke -account SLUG ID|PREFIX
              issue an API key (printed once, stored hashed); list keys (id, prefix, label, created,
              last used, revoked; never the key); revoke one (refused on its next request)
  channels telegram set-webhook -channel ID -public-url URL
              register a Telegram channel's webhook (with its secret token) with Telegram
  secrets rotate [-batch 100]
              re-seal every stored secret (channels, webhook subscriptions, tools) with the first key of
              ATENDE_SECRET_KEY; idempotent; then the other keys can be removed from it
  load-webhooks -url URL -secret S [-n N -c C]
              post signed WhatsApp webhooks concurrently to a running server; compare with raw commits
  soak -server URL -key KEY [-customers 200] [-messages 2] [-burst] [-channels all|KIND,...] [-deadline 5m] [-json]
       [-kill-serve PID] [-db-outage 10s -database-url URL] [-llm-fault hang|500|garbage -llm-addr 127.0.0.1:PORT]
              drive a running local server with many concurrent customers on every channel, answered at a local
              sink; report acked, stored, answered, answered twice, lost; exit 1 on any loss or double answer.
              -llm-fault needs the server started with ATENDE_LLM_PROVIDER=openai ATENDE_LLM_BASE_URL=http://ADDR/v1
              (atende soak -h for more)
  eval [-folds 5] [-json] FILE.jsonl...
              score the offline router (sector, handoff) on routing sets with cross-validation
  eval [-json] [-server URL] [-key KEY] SCENARIO.json|DIR...
              send cross-channel scenarios through a running server's webhooks and check what it ends with
  train [-account demo] [-folds 5] [-json]
              fit the account's router on the built-in examples, its sectors' examples and
              people's corrections; report it by cross-validation and make it active
  replay CONTACT_ID [--prompt-version NAME@HASH]... [-account demo] [-json]
              re-run a contact's stored turns with other prompt versions; show what changes
  bench-seed  fill a database with synthetic contacts and history chunks (COPY) for benchmarks
  bench-retrieval  time contact-scoped hybrid retrieval against langchaingo's pgvector store

environment:
  DATABASE_URL                 PostgreSQL with pgvector (make run sets it)
  ATENDE_SECRET_KEY            encrypts the stored secrets: base64 of 32 bytes (openssl rand -base64 32; make run makes
                               one); comma-separated to rotate: the first seals, all open (then atende secrets rotate)
  ATENDE_ADDR                  listen address (default 127.0.0.1:8080)
  ATENDE_LOG_LEVEL             debug, info (default), warn, error
  ATENDE_DEMO_API_KEY          the demo account's API key, for seed
  ATENDE_PUBLIC_URL            the public https URL platforms reach this server at
  ATENDE_TURN_DEBOUNCE         wait before answering, so a burst of messages is one turn (default 2s)
  ATENDE_CONFIG                the business file (YAML): accounts, channels, sectors, tools; secrets as ${ENV_VAR}
  ATENDE_PROMPTS_DIR           a directory of prompt files that override the built-in ones (same layout as prompts/)
  ATENDE_LLM_PROVIDER          openai, ollama, anthropic, google (unset: the offline engine answers)
  ATENDE_LLM_MODEL, ATENDE_LLM_BASE_URL, ATENDE_LLM_API_KEY (or OPENAI_API_KEY / ANTHROPIC_API_KEY / GEMINI_API_KEY)
  ATENDE_LLM_TIMEOUT           per turn (default 20s); on timeout the offline engine answers
  ATENDE_LLM_PRICES            model=input/output USD per million tokens, comma-separated, for cost per turn
  ATENDE_EMBEDDINGS_PROVIDER   builtin (default), openai, ollama
  ATENDE_EMBEDDINGS_MODEL, ATENDE_EMBEDDINGS_BASE_URL, ATENDE_EMBEDDINGS_API_KEY (or OPENAI_API_KEY)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := newLogger(os.Stderr, os.Getenv("ATENDE_LOG_LEVEL"))
	// Atende's own code logs through log, passed explicitly; this catches
	// what a dependency writes to slog's or the log package's default, so
	// it too is a JSON line on the same stream rather than loose text.
	slog.SetDefault(log)
	commands := map[string]func(context.Context, *slog.Logger, []string) error{
		"serve":           serve,
		"migrate":         migrate,
		"seed":            seed,
		"bench-seed":      benchSeed,
		"bench-retrieval": benchRetrieval,
		"channels":        channelsCmd,
		"accounts":        accountsCmd,
		"keys":            keysCmd,
		"load-webhooks":   loadWebhooks,
		"soak":            soakCmd,
		"eval":            evalCmd,
		"train":           trainCmd,
		"replay":          replayCmd,
		"secrets":         secretsCmd,
	}
	run, ok := commands[os.Args[1]]
	if !ok {
		if os.Args[1] != "help" && os.Args[1] != "-h" && os.Args[1] != "--help" {
			fmt.Fprintf(os.Stderr, "atende: unknown command %q\n\n", os.Args[1])
		}
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err := run(ctx, log, os.Args[2:]); err != nil {
		log.Error(os.Args[1]+" failed", "error", err)
		os.Exit(1)
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// databaseURL is DATABASE_URL, for the commands that need only the
// database; the settings are validated all the same.
func databaseURL() (string, error) {
	s, err := serverSettings()
	return s.DatabaseURL, err
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
