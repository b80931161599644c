package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atende/atende/internal/fakes"
)

// soakConfig is what one soak run does.
type soakConfig struct {
	Server, Key string
	Customers   int
	Messages    int
	Burst       bool
	Kinds       []string
	Deadline    time.Duration // for every customer's every turn to be answered
	Settle      time.Duration // watched after the last answer, for late duplicates
	Verify      time.Duration // for the REST check of what was stored
	KillPID     int
	DBOutage    time.Duration
	DatabaseURL string
	LLMFault    string
	LLMAddr     string
}

const soakUsage = `usage: atende soak -server URL -key APIKEY [-customers 200] [-messages 2] [-burst]
       [-channels all|whatsapp,evolution,instagram,telegram,webchat,email,chatwoot] [-deadline 5m] [-settle 5s]
       [-verify-timeout 2m] [-json]
       [-kill-serve PID] [-db-outage 10s -database-url URL] [-llm-fault hang|500|garbage -llm-addr 127.0.0.1:PORT]

Drives a running server (on this machine) as the world does: N customers at
once, spread over the channels, each sending -messages requests (the next
after the reply to the previous; with -burst all at once, to be answered as
one turn). Its channels are created through the API, pointed at a sink the
soak runs on 127.0.0.1 that records every reply; webchat replies are read
from the visitor's stream. After the last answer it watches -settle more for
late duplicates, then checks every contact's timeline through the API.
Webhooks that fail (network, timeout, 429, 5xx) are retried as platforms do,
with backoff, up to 12 attempts. Exit status 1 when a message was lost,
answered twice, left unanswered at the deadline or could not be checked.

Faults, each after a third of the customers had their first message acked:
  -kill-serve PID   SIGKILL that process, then wait for /readyz (something
                    else must restart the server on the same address)
  -db-outage D      ALTER DATABASE ... ALLOW_CONNECTIONS false and terminate
                    its backends, for D, then allow again; -database-url is
                    the server's database with a superuser role

With -llm-fault the soak serves a fake OpenAI-compatible API on -llm-addr;
the server must have been started with
  ATENDE_LLM_PROVIDER=openai ATENDE_LLM_BASE_URL=http://127.0.0.1:PORT/v1
`

// soakCmd is `atende soak`.
func soakCmd(ctx context.Context, _ *slog.Logger, args []string) error {
	cfg, asJSON, err := parseSoakFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	rep, err := runSoak(ctx, cfg)
	if err != nil {
		return err
	}
	if err := rep.write(os.Stdout, asJSON); err != nil {
		return err
	}
	return rep.verdict()
}

func parseSoakFlags(args []string) (soakConfig, bool, error) {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), soakUsage+"\nflags:\n")
		fs.PrintDefaults()
	}
	var cfg soakConfig
	fs.StringVar(&cfg.Server, "server", "http://127.0.0.1:8080", "the running server's base URL (on this machine)")
	fs.StringVar(&cfg.Key, "key", os.Getenv("ATENDE_DEMO_API_KEY"), "an API key of the account to soak (default $ATENDE_DEMO_API_KEY)")
	fs.IntVar(&cfg.Customers, "customers", 200, "customers, all at once")
	fs.IntVar(&cfg.Messages, "messages", 2, "messages per customer")
	fs.BoolVar(&cfg.Burst, "burst", false, "send each customer's messages back to back, to be answered as one turn")
	channels := fs.String("channels", "all", "channel kinds to spread customers over: all, or a comma-separated list")
	fs.DurationVar(&cfg.Deadline, "deadline", 5*time.Minute, "for every message to be answered")
	fs.DurationVar(&cfg.Settle, "settle", 5*time.Second, "watch for late duplicate replies this long after the last answer")
	fs.DurationVar(&cfg.Verify, "verify-timeout", 2*time.Minute, "for the REST check of what was stored")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	fs.IntVar(&cfg.KillPID, "kill-serve", 0, "SIGKILL this PID after a third of the customers were acked, then wait for /readyz")
	fs.DurationVar(&cfg.DBOutage, "db-outage", 0, "close the server's database this long mid-run (needs -database-url)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", "", "the server's database, with a superuser role (for -db-outage)")
	fs.StringVar(&cfg.LLMFault, "llm-fault", "", "serve a fake LLM that hangs, answers 500 or answers garbage (needs -llm-addr)")
	fs.StringVar(&cfg.LLMAddr, "llm-addr", "", "where the fake LLM listens, 127.0.0.1:PORT")
	if err := fs.Parse(args); err != nil {
		return cfg, false, err
	}
	kinds, err := soakKinds(*channels)
	if err != nil {
		return cfg, false, err
	}
	cfg.Kinds = kinds
	return cfg, *asJSON, cfg.validate()
}

func soakKinds(list string) ([]string, error) {
	if list == "" || list == "all" {
		return platformKinds, nil
	}
	var out []string
	for _, k := range strings.Split(list, ",") {
		k = strings.TrimSpace(k)
		known := false
		for _, p := range platformKinds {
			known = known || p == k
		}
		if !known {
			return nil, fmt.Errorf("soak: -channels: %q is not one of %s", k, strings.Join(platformKinds, ","))
		}
		out = append(out, k)
	}
	return out, nil
}

func (cfg soakConfig) validate() error {
	switch {
	case cfg.Key == "":
		return errors.New("soak: -key is required (an API key of the account to soak)")
	case cfg.Customers < 1 || cfg.Customers > soakMaxCustomers:
		return fmt.Errorf("soak: -customers must be 1 to %d", soakMaxCustomers)
	case cfg.Messages < 1 || cfg.Messages > len(soakRequests):
		return fmt.Errorf("soak: -messages must be 1 to %d", len(soakRequests))
	case cfg.Deadline <= 0:
		return errors.New("soak: -deadline must be positive")
	case cfg.DBOutage > 0 && cfg.DatabaseURL == "":
		return errors.New("soak: -db-outage needs -database-url")
	case (cfg.LLMFault == "") != (cfg.LLMAddr == ""):
		return errors.New("soak: -llm-fault and -llm-addr go together")
	}
	u, err := url.Parse(cfg.Server)
	if err != nil || u.Host == "" {
		return fmt.Errorf("soak: -server %q is not a URL", cfg.Server)
	}
	if err := requireLoopback(u.Host); err != nil {
		return fmt.Errorf("soak: -server: %w", err)
	}
	if cfg.DatabaseURL != "" {
		d, err := url.Parse(cfg.DatabaseURL)
		if err != nil {
			return fmt.Errorf("soak: -database-url: %w", err)
		}
		if err := requireLoopback(hostWithPort(d.Host)); err != nil {
			return fmt.Errorf("soak: -database-url: %w", err)
		}
	}
	return nil
}

func hostWithPort(h string) string {
	if strings.Contains(h, ":") {
		return h
	}
	return h + ":5432"
}

// soak is one run: its customers, the sink they are answered at, and what it saw.
type soak struct {
	cfg      soakConfig
	api      *scenarioClient
	stream   *http.Client
	sink     *soakSink
	channels map[string]evalChannel
	start    time.Time
	seq      atomic.Int64

	// streamCtx lives until the settle ends: webchat streams read until then.
	streamCtx context.Context
	streams   sync.WaitGroup

	acked     atomic.Int64
	third     chan struct{}
	thirdOnce sync.Once

	mu     sync.Mutex
	errors map[string]int
	faults []SoakFault
}

func (s *soak) countError(kind string) {
	s.mu.Lock()
	s.errors[kind]++
	s.mu.Unlock()
}

// customerAcked counts a customer whose first message was acked; at a third
// of them the mid-run faults start.
func (s *soak) customerAcked() {
	if n := s.acked.Add(1); n >= int64((s.cfg.Customers+2)/3) {
		s.thirdOnce.Do(func() { close(s.third) })
	}
}

// runSoak plays the customers against the server and reports what happened.
func runSoak(ctx context.Context, cfg soakConfig) (SoakReport, error) {
	if err := cfg.validate(); err != nil {
		return SoakReport{}, err
	}
	calls := &http.Transport{MaxIdleConnsPerHost: cfg.Customers + 8}
	defer calls.CloseIdleConnections()
	streams := &http.Transport{MaxIdleConnsPerHost: cfg.Customers, ResponseHeaderTimeout: 20 * time.Second}
	defer streams.CloseIdleConnections()
	s := &soak{cfg: cfg, third: make(chan struct{}), errors: map[string]int{},
		api:    &scenarioClient{base: strings.TrimRight(cfg.Server, "/"), key: cfg.Key, http: &http.Client{Timeout: 20 * time.Second, Transport: calls}},
		stream: &http.Client{Transport: streams}}
	sink, err := startSoakSink(&s.seq)
	if err != nil {
		return SoakReport{}, err
	}
	defer sink.Close()
	s.sink = sink
	setupCtx, cancelSetup := context.WithTimeout(ctx, time.Minute)
	// One reply is one platform message (no channel splits it), so the sink counts replies, not parts.
	s.channels, err = s.api.createChannels(setupCtx, channelPlan{Kinds: cfg.Kinds, SinkURL: sink.URL, kindPaths: true,
		SMTPHost: sink.SMTPHost, SMTPPort: sink.SMTPPort, Settings: map[string]string{"max_length": "100000"}, Name: "soak"})
	cancelSetup()
	if err != nil {
		return SoakReport{}, fmt.Errorf("soak: set up channels on %s: %w", cfg.Server, err)
	}
	var llm *fakes.OpenAI
	if cfg.LLMFault != "" {
		if llm, err = startFakeLLM(cfg.LLMAddr, cfg.LLMFault); err != nil {
			return SoakReport{}, fmt.Errorf("soak: %w", err)
		}
		defer llm.Close()
	}
	customers := planCustomers(cfg.Customers, cfg.Messages, cfg.Kinds, cfg.Burst)

	s.start = time.Now()
	runCtx, cancelRun := context.WithTimeout(ctx, cfg.Deadline)
	defer cancelRun()
	streamCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	s.streamCtx = streamCtx
	probe := &restProbe{client: s.api, interval: time.Second, timeout: 5 * time.Second}
	var side sync.WaitGroup
	side.Add(1)
	go func() { defer side.Done(); probe.run(streamCtx) }()
	if cfg.KillPID > 0 {
		side.Add(1)
		go func() { defer side.Done(); s.killServe(runCtx, cfg.KillPID) }()
	}
	if cfg.DBOutage > 0 {
		side.Add(1)
		go func() { defer side.Done(); s.dbOutage(runCtx, cfg.DatabaseURL, cfg.DBOutage) }()
	}

	var wg sync.WaitGroup
	for _, c := range customers {
		wg.Add(1)
		go func() { defer wg.Done(); s.runCustomer(runCtx, c) }()
	}
	wg.Wait()
	deadlineHit := runCtx.Err() != nil
	if !deadlineHit {
		t := time.NewTimer(cfg.Settle)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	elapsed := time.Since(s.start)
	cancelRun()
	stopStreams()
	side.Wait()
	s.streams.Wait()
	// Answered is judged at the end of the run, not when the check below is done.
	replies, unknown := sink.snapshot()
	s.verifyStored(ctx, customers)
	obs := soakObservations{Errors: s.errors, Probes: probe.result(), Faults: s.faults, UnknownSends: unknown,
		Elapsed: elapsed, DeadlineHit: deadlineHit}
	if llm != nil {
		obs.LLMRequests = len(llm.Requests())
	}
	return buildReport(customers, replies, obs), nil
}

// verifyStored marks each sent message stored or not by the contact's
// timeline, a few customers at a time, within cfg.Verify.
func (s *soak) verifyStored(ctx context.Context, customers []*soakCustomer) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Verify)
	defer cancel()
	work := make(chan *soakCustomer)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				s.verifyCustomer(ctx, c)
			}
		}()
	}
	for _, c := range customers {
		work <- c
	}
	close(work)
	wg.Wait()
}

func (s *soak) verifyCustomer(ctx context.Context, c *soakCustomer) {
	mark := func(st storedState) {
		for _, m := range c.Messages {
			if !m.Started.IsZero() {
				m.Stored = st
			}
		}
	}
	contact, ok, err := s.api.contactBy(ctx, c.Identity)
	if err != nil {
		s.countError("verify_contact")
		return
	}
	if !ok {
		mark(storedNo)
		return
	}
	events, err := s.api.timeline(ctx, contact.ID)
	if err != nil {
		s.countError("verify_timeline")
		return
	}
	for _, m := range c.Messages {
		if m.Started.IsZero() {
			continue
		}
		m.Stored = storedNo
		if inboundFor(events, m.Text) != nil {
			m.Stored = storedYes
		}
	}
}
