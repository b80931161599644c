package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/internal/fakes"
)

// The faults the soak plays mid-run, each after about a third of the
// customers had their first message acked (s.third).

// addFault records a fault that happened (at is when it began).
func (s *soak) addFault(f SoakFault, at time.Time) {
	f.AtMS = at.Sub(s.start).Milliseconds()
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

// killServe sends SIGKILL to pid, then waits until the server answers
// /readyz again (something else restarts it) and records how long it was down.
func (s *soak) killServe(ctx context.Context, pid int) {
	select {
	case <-ctx.Done():
		return
	case <-s.third:
	}
	at := time.Now()
	p, err := os.FindProcess(pid)
	if err == nil {
		err = p.Kill()
	}
	if err != nil {
		s.addFault(SoakFault{Kind: "kill-serve", Detail: fmt.Sprintf("SIGKILL %d: %v", pid, err)}, at)
		return
	}
	ready := s.waitReady(ctx)
	f := SoakFault{Kind: "kill-serve", Detail: fmt.Sprintf("SIGKILL %d", pid), DownMS: time.Since(at).Milliseconds()}
	if !ready {
		f.Detail += "; /readyz never answered again"
	}
	s.addFault(f, at)
}

// waitReady polls /readyz until it answers 200 or ctx ends.
func (s *soak) waitReady(ctx context.Context) bool {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.api.base+"/readyz", nil)
		if err != nil {
			return false
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// dbOutage closes the server's database for d: no new connections, every
// other backend on it terminated; then opens it again, whatever happened
// to the run meanwhile.
func (s *soak) dbOutage(ctx context.Context, adminURL string, d time.Duration) {
	select {
	case <-ctx.Done():
		return
	case <-s.third:
	}
	at := time.Now()
	terminated, err := closeDatabase(ctx, adminURL, d)
	f := SoakFault{Kind: "db-outage", DownMS: time.Since(at).Milliseconds(), Detail: fmt.Sprintf("%d backends terminated", terminated)}
	if err != nil {
		f.Detail += "; " + err.Error()
	}
	s.addFault(f, at)
}

// closeDatabase does the outage through the maintenance database
// ("postgres") of the cluster adminURL points at, so the connection that
// reopens the database is not one the outage ends.
func closeDatabase(ctx context.Context, adminURL string, d time.Duration) (terminated int, err error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return 0, fmt.Errorf("db outage: parse -database-url: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return 0, errors.New("db outage: -database-url names no database")
	}
	maint := *u
	maint.Path = "/postgres"
	conn, err := pgx.Connect(ctx, maint.String())
	if err != nil {
		return 0, fmt.Errorf("db outage: connect to the maintenance database: %w", err)
	}
	defer conn.Close(context.Background())
	db := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+db+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return 0, fmt.Errorf("db outage: close %s: %w", db, err)
	}
	// Reopened even when the soak is interrupted.
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, rerr := conn.Exec(rctx, "ALTER DATABASE "+db+" WITH ALLOW_CONNECTIONS true"); rerr != nil && err == nil {
			err = fmt.Errorf("db outage: reopen %s: %w", db, rerr)
		}
	}()
	err = conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid()`, name).Scan(&terminated)
	if err != nil {
		return 0, fmt.Errorf("db outage: terminate the backends of %s: %w", db, err)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return terminated, nil
}

// startFakeLLM serves the OpenAI-compatible fake on addr (loopback only),
// playing mode: hang, 500 or garbage.
func startFakeLLM(addr, mode string) (*fakes.OpenAI, error) {
	switch mode {
	case fakes.FaultHang, fakes.Fault500, fakes.FaultGarbage:
	default:
		return nil, fmt.Errorf("-llm-fault %q: want hang, 500 or garbage", mode)
	}
	if err := requireLoopback(addr); err != nil {
		return nil, fmt.Errorf("-llm-addr: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start the fake LLM: %w", err)
	}
	return fakes.ServeOpenAI(ln, mode), nil
}

// requireLoopback refuses a host:port that is not on this machine's loopback.
func requireLoopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("%q: %w", hostport, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address: the soak only drives a server on this machine", hostport)
	}
	return nil
}
