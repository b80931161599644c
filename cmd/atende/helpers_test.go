package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/agents"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/testdb"
)

// runningServer is what `make run` starts — seed, then serve with its
// workers — on a fresh database, used over HTTP as a client would.
type runningServer struct {
	base      string
	key       string
	dbURL     string
	secretKey string // ATENDE_SECRET_KEY
}

// testRigAllow is ATENDE_OUTBOUND_ALLOW for a server whose platforms are
// this test's fakes on loopback.
const testRigAllow = "127.0.0.0/8"

// startServer seeds (seeds times: seeding is idempotent) and serves until the
// test ends, when it checks that serve shut down cleanly.
func startServer(t *testing.T, key string, seeds int) *runningServer {
	t.Helper()
	return startServerWith(t, key, seeds, nil)
}

// startServerWith is startServer with env set over its defaults (no
// debounce), e.g. ATENDE_TURN_DEBOUNCE or an LLM provider.
func startServerWith(t *testing.T, key string, seeds int, env map[string]string) *runningServer {
	t.Helper()
	_, url := testdb.New(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("ATENDE_TURN_DEBOUNCE", "0s")
	// The tests' fake platforms, tools and subscribers listen on loopback,
	// which the outbound policy refuses unless told (a test wanting the
	// strict policy sets it to "").
	t.Setenv("ATENDE_OUTBOUND_ALLOW", testRigAllow)
	t.Setenv("ATENDE_SECRET_KEY", testdb.SecretKey(t))
	for k, v := range env {
		t.Setenv(k, v)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for range seeds {
		if err := seed(context.Background(), log, []string{"-api-key", key}); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := serveOn(t, url, key)
	return s
}

// serveOn runs `atende serve` on the database at url, on a free loopback
// port, until the test ends or stop is called, and waits until it is ready.
// A second call on the same database is a second replica.
func serveOn(t *testing.T, url, key string) (s *runningServer, stop func()) {
	t.Helper()
	t.Setenv("DATABASE_URL", url)
	if os.Getenv("ATENDE_MEDIA_DIR") == "" {
		// the files customers send in a test stay in the test (replicas of
		// one test share them), never in the source tree
		t.Setenv("ATENDE_MEDIA_DIR", t.TempDir())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("ATENDE_ADDR", addr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), nil) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve ended with %v", err)
				}
			case <-time.After(25 * time.Second):
				t.Error("serve did not shut down")
			}
		})
	}
	t.Cleanup(stop)
	s = &runningServer{base: "http://" + addr, key: key, dbURL: url, secretKey: os.Getenv("ATENDE_SECRET_KEY")}
	deadline := time.Now().Add(20 * time.Second)
	for s.call("GET", "/readyz", nil, nil) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("server never became ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s, stop
}

// call sends a request with the server's key and decodes the JSON answer.
func (s *runningServer) call(method, path string, body, out any) int {
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, s.base+path, r)
	req.Header.Set("Authorization", "Bearer "+s.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// waitTurnsSettled waits until every turn and every delivery the server has
// queued has run (River says so): the real signal that "the bot stayed
// silent" is true and not merely slow.
func waitTurnsSettled(t *testing.T, s *runningServer) {
	t.Helper()
	pool := srvPool(t, s)
	deadline := time.Now().Add(60 * time.Second)
	for {
		var pending int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE queue = ANY($1)
			AND state NOT IN ('completed', 'discarded', 'cancelled')`, []string{agents.TurnQueueName, channels.SendQueue}).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d turns or deliveries still pending after 60s", pending)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// srvPool connects to the running server's database, for what the API does not show.
func srvPool(t *testing.T, s *runningServer) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
