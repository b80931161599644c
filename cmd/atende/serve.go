package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/agents"
	"github.com/atende/atende/agents/llm"
	"github.com/atende/atende/api"
	"github.com/atende/atende/audit"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/config"
	"github.com/atende/atende/conversations"
	"github.com/atende/atende/erasure"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/notify"
	"github.com/atende/atende/knowledge"
	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/migrations"
	"github.com/atende/atende/prompts"
	"github.com/atende/atende/tags"
	"github.com/atende/atende/webhooks"
)

func migrate(ctx context.Context, log *slog.Logger, _ []string) error {
	s, err := serverSettings()
	if err != nil {
		return err
	}
	if err := database.Migrate(ctx, s.DatabaseURL); err != nil {
		return err
	}
	log.Info("migrations applied")
	return nil
}

// App is the running server's parts, built once and shared by serve and tests.
type App struct {
	Pool      *pgxpool.Pool
	Memory    *memory.Store
	Knowledge *knowledge.Store
	Accounts  *accounts.Store
	Channels  *channels.Store
	Hub       *notify.Hub
	Workers   *river.Client[pgx.Tx]
	Handler   http.Handler
	// The agents' parts, for the train and replay commands.
	Orchestrator *agents.Orchestrator
	Sectors      *agents.SectorStore
	Routers      *agents.Routers
	Prompts      *prompts.Library
	Handoffs     *handoff.Service
}

// newApp migrates, connects and wires every part from the settings. The
// caller starts Workers.
func newApp(ctx context.Context, log *slog.Logger, s Settings) (*App, error) {
	box, err := s.SecretBox()
	if err != nil {
		return nil, err
	}
	if err := database.Migrate(ctx, s.DatabaseURL); err != nil {
		return nil, err
	}
	capacity, policy := s.Capacity, s.Outbound
	pool, err := database.Open(ctx, s.DatabaseURL, capacity.DBMaxConns)
	if err != nil {
		return nil, err
	}
	embedder, err := memory.NewEmbedder(s.Embedder)
	if err != nil {
		pool.Close()
		return nil, err
	}
	// An insert-only client for the memory (jobs enqueued in its transactions)
	// and a working client that runs them; the worker needs the store, so the
	// store cannot wait for the working client.
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: log})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("create job inserter: %w", err)
	}
	store := memory.NewStore(pool, inserter, embedder, log)
	if err := store.PrepareVectorIndexes(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	channelStore := channels.NewStore(pool, box)
	hub := notify.New(pool)
	outbox := channels.NewOutbox(pool, store, channelStore, channels.NewPlatforms(policy, channels.NewSMTPMailer(policy), hub), inserter, log, nil)
	hooks := webhooks.NewStore(pool, box, inserter)
	handoffs := handoff.NewService(pool, store, channelStore, outbox, inserter, hooks, log)
	tagStore := tags.NewStore(pool, store, hooks)
	blobs, err := s.blobStore(ctx)
	if err != nil {
		pool.Close()
		return nil, err
	}
	mediaFiles := media.NewFiles(pool)
	words := media.WordsFor{Transcribe: s.Media.Transcribe != nil, Describe: s.Media.Describe && s.LLM.Provider != ""}
	ingestor := channels.NewIngestor(pool, store, agents.NewTurns(inserter)).WithTakeovers(handoffs).WithEvents(hooks).WithWakes(hub).WithHeldReleases(outbox).
		WithMedia(channels.NewMediaJobs(inserter, mediaFiles, blobs, words))
	engine, err := llmEngine(log, s)
	if err != nil {
		pool.Close()
		return nil, err
	}
	tokens, err := memory.NewTokenCounter()
	if err != nil {
		pool.Close()
		return nil, err
	}
	knowledgeStore := knowledge.NewStore(pool, embedder, store)
	viewer := memory.NewViewer(store, knowledgeStore, tokens, nil)
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	accts := accounts.NewStore(pool)
	sectors := agents.NewSectorStore(pool, box)
	library := prompts.NewLibrary(pool, s.PromptsDir)
	routers, err := agents.NewRouters(pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	routers.Warm()
	var transcripts agents.Transcripts
	if words != (media.WordsFor{}) {
		transcripts = mediaFiles // a turn waits for its voice notes' and images' words
	}
	orchestrator, err := agents.NewOrchestrator(agents.Deps{Pool: pool, Wakes: hub, Knowledge: knowledgeStore, Memory: store, Channels: channelStore, Outbox: outbox,
		Sectors: sectors, Routers: routers, Prompts: library, LLM: engine, Viewer: viewer, Handoffs: handoffs, Tags: tagStore, Events: hooks, Metrics: agents.NewMetrics(registry), Outbound: policy, Businesses: accts, Log: log,
		Transcripts: transcripts, Listener: hub, TranscriptWait: s.Media.TranscriptWait})
	if err != nil {
		pool.Close()
		return nil, err
	}
	workers := river.NewWorkers()
	if words != (media.WordsFor{}) {
		d := media.WordsDeps{Pool: pool, Memory: store, Files: mediaFiles, Blobs: blobs, Wakes: hub, Log: log,
			Also: func(account uuid.UUID) []string { return []string{channels.InboxTopic(account)} }}
		if s.Media.Transcribe != nil {
			d.Speech = media.NewTranscriber(*s.Media.Transcribe, nil)
		}
		if words.Describe && engine != nil {
			d.Sight = agents.NewSight(engine, library)
		}
		river.AddWorker(workers, media.NewWordsWorker(d))
	}
	river.AddWorker(workers, memory.NewChunkWorker(store))
	river.AddWorker(workers, channels.NewSendWorker(outbox))
	river.AddWorker(workers, agents.NewTurnWorker(orchestrator, capacity.Debounce))
	river.AddWorker(workers, handoff.NewSLAWorker(handoffs))
	river.AddWorker(workers, webhooks.NewDeliverWorker(hooks, policy))
	river.AddWorker(workers, channels.NewMediaWorker(pool, store, channelStore, channels.NewMediaPlatforms(policy), mediaFiles, blobs).WithWakes(hub))
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:  capacity.Queues(),
		Workers: workers,
		Logger:  log,
		// River's default is an hour: a turn killed with its process would
		// leave the customer unanswered that long (issue 9: 40 minutes).
		RescueStuckJobsAfter: capacity.RescueAfter,
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("create job workers: %w", err)
	}
	if path := s.ConfigPath; path != "" {
		file, err := config.Load(path, os.LookupEnv)
		if err != nil {
			pool.Close()
			return nil, err
		}
		if err := file.Apply(ctx, config.Stores{Accounts: accts, Channels: channelStore, Sectors: sectors, Prompts: library, Handoffs: handoffs, Outbound: policy}); err != nil {
			pool.Close()
			return nil, fmt.Errorf("apply %s: %w", path, err)
		}
	}
	eraser, err := erasure.New(erasure.Deps{Pool: pool, Memory: store, Files: mediaFiles, Blobs: blobs, Webhooks: hooks, Routers: routers})
	if err != nil {
		pool.Close()
		return nil, err
	}
	handler := api.NewHandler(api.Deps{
		Pool:          pool,
		Conversations: conversations.NewStore(pool),
		Knowledge:     knowledgeStore,
		Auth:          accts,
		Memory:        store,
		Channels:      channelStore,
		Ingestor:      ingestor,
		MediaFiles:    mediaFiles,
		Blobs:         blobs,
		MediaLinks:    media.NewLinks(s.PublicURL, box.Derive(media.LinkPurpose)),
		Audit:         audit.NewStore(pool),
		Erasure:       eraser,
		Outbox:        outbox,
		Webchat:       channels.NewWebchat(pool, store, ingestor),
		Hub:           hub,
		Prompts:       library,
		Agents:        orchestrator,
		Handoffs:      handoffs,
		Webhooks:      hooks,
		Tags:          tagStore,
		Accounts:      accts,
		Outbound:      policy,
		PublicURL:     s.PublicURL,
		RateLimits:    s.RateLimits,
		DemoWebchat: func(ctx context.Context) (uuid.UUID, bool) {
			ch, err := demoWebchat(ctx, accts, channelStore)
			return ch.ID, err == nil
		},
		Viewer: viewer,
		Ready: func(ctx context.Context) error {
			if err := pool.Ping(ctx); err != nil {
				return fmt.Errorf("database unreachable: %w", err)
			}
			return migrations.Check(ctx, pool)
		},
		Log:      log,
		Registry: registry,
	})
	return &App{Pool: pool, Memory: store, Knowledge: knowledgeStore, Accounts: accts, Channels: channelStore, Hub: hub, Workers: client, Handler: handler,
		Orchestrator: orchestrator, Sectors: sectors, Routers: routers, Prompts: library, Handoffs: handoffs}, nil
}

// llmEngine is the LLM engine of the settings, or nil when none is configured.
func llmEngine(log *slog.Logger, s Settings) (*llm.Engine, error) {
	model, err := llm.NewModel(s.LLM)
	if errors.Is(err, llm.ErrNotConfigured) {
		log.Info("no LLM configured: the offline engine answers")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	name := s.LLM.Model
	if name == "" {
		name = llm.DefaultModel(s.LLM.Provider)
	}
	log.Info("LLM engine", "provider", s.LLM.Provider, "model", name, "priced", len(s.LLMPrices) > 0)
	opts := []llm.EngineOption{llm.WithModelName(name), llm.WithPrices(s.LLMPrices)}
	if s.LLM.Provider == "anthropic" {
		opts = append(opts, llm.WithBinaryImages()) // its API takes image bytes, not image_url
	}
	return llm.NewEngine(model, 5, s.LLMTimeout, opts...), nil
}

// demoWebchat is the demo account's first webchat channel, which /chat shows.
func demoWebchat(ctx context.Context, accts *accounts.Store, chs *channels.Store) (channels.Channel, error) {
	acct, err := accts.BySlug(ctx, DemoAccountSlug)
	if err != nil {
		return channels.Channel{}, err
	}
	list, err := chs.List(ctx, acct.ID)
	if err != nil {
		return channels.Channel{}, err
	}
	for _, ch := range list {
		if ch.Kind == channels.KindWebchat {
			return ch, nil
		}
	}
	return channels.Channel{}, channels.ErrNotFound
}

func serve(ctx context.Context, log *slog.Logger, _ []string) error {
	s, err := serverSettings()
	if err != nil {
		return err
	}
	app, err := newApp(ctx, log, s)
	if err != nil {
		return err
	}
	defer app.Pool.Close()
	if err := app.Workers.Start(ctx); err != nil {
		return fmt.Errorf("start job workers: %w", err)
	}
	go func() { _ = app.Hub.Run(ctx) }()
	if addr := s.PprofAddr; addr != "" {
		if err := servePprof(ctx, log, addr); err != nil {
			return err
		}
	}
	addr := s.Addr
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	// net/http's own errors (TLS handshakes, accept failures) go to the JSON log too, not to stderr.
	srv := &http.Server{Handler: app.Handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}
	errs := make(chan error, 1)
	go func() { errs <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "embedder", app.Memory.Embedder().Model())
	select {
	case err := <-errs:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "error", err)
	}
	if err := app.Workers.Stop(shutdown); err != nil {
		log.Warn("workers shutdown", "error", err)
	}
	return nil
}
