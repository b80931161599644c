package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atende/atende/internal/fakes"
	"github.com/atende/atende/internal/testdb"
)

// soakFaultCustomers is 3 customers per channel: enough to overlap the fault.
const soakFaultCustomers = 21

// soakFaultDeadline is generous for 21 customers (they take under 30s).
const soakFaultDeadline = 2 * time.Minute

// freeAddr is a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// faultOf is the report's record of a fault of kind, failing the test without one.
func faultOf(t *testing.T, rep SoakReport, kind string) SoakFault {
	t.Helper()
	for _, f := range rep.Faults {
		if f.Kind == kind {
			return f
		}
	}
	t.Fatalf("no %s fault in the report: %+v", kind, rep.Faults)
	return SoakFault{}
}

// TestSoakServeChild is not a test of its own: it is `atende serve` in a
// child process (ATENDE_SOAK_SERVE_CHILD=1), which TestSoakKillServe kills.
func TestSoakServeChild(t *testing.T) {
	if os.Getenv("ATENDE_SOAK_SERVE_CHILD") != "1" {
		t.Skip("the server process of TestSoakKillServe")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), nil); err != nil {
		t.Fatal(err)
	}
}

// serveChild starts serve in a child process with the test's environment,
// its output in dir, and waits for /readyz. It calls no t.Fatal: the
// restart runs it off the test's goroutine.
func serveChild(dir, base string) (*exec.Cmd, error) {
	out, err := os.CreateTemp(dir, "serve-*.log")
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSoakServeChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ATENDE_SOAK_SERVE_CHILD=1")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the serve child: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, nil
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			log, _ := os.ReadFile(out.Name())
			return nil, fmt.Errorf("the serve child never became ready:\n%s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stopChild ends a serve child: SIGTERM, then SIGKILL after 25s.
func stopChild(t *testing.T, cmd *exec.Cmd, exited <-chan struct{}) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(25 * time.Second):
		t.Error("the serve child did not stop on SIGTERM")
		_ = cmd.Process.Kill()
		<-exited
	}
}

// SIGKILL of serve mid-run, restarted on the same database and address as
// soon as it is gone: what was acked is stored and every message answered
// once (webhooks that failed meanwhile are retried, as platforms do).
func TestSoakKillServe(t *testing.T) {
	_, dbURL := testdb.New(t)
	addr := freeAddr(t)
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("ATENDE_ADDR", addr)
	t.Setenv("ATENDE_TURN_DEBOUNCE", "2s")
	t.Setenv("ATENDE_OUTBOUND_ALLOW", testRigAllow)
	t.Setenv("ATENDE_SECRET_KEY", testdb.SecretKey(t)) // the serve children inherit it
	key := "atd_soak_kill_key_0123456789"
	if err := seed(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), []string{"-api-key", key}); err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr
	dir := t.TempDir()
	first, err := serveChild(dir, base)
	if err != nil {
		t.Fatal(err)
	}

	// The restart waits on the first process's end, not on a guess of when;
	// it holds mu until the second is ready (or failed), so the cleanup
	// never misses it.
	var mu sync.Mutex
	stopping := false
	var second *exec.Cmd
	var firstErr, restartErr error
	firstExited, secondExited := make(chan struct{}), make(chan struct{})
	go func() {
		err := first.Wait()
		mu.Lock()
		defer mu.Unlock()
		firstErr = err
		close(firstExited)
		if stopping {
			return
		}
		if second, restartErr = serveChild(dir, base); restartErr == nil {
			go func() { _ = second.Wait(); close(secondExited) }()
		}
	}()
	t.Cleanup(func() {
		select {
		case <-firstExited:
		default:
			mu.Lock()
			stopping = true
			mu.Unlock()
			stopChild(t, first, firstExited)
		}
		mu.Lock()
		stopping = true
		s := second
		mu.Unlock()
		if s != nil {
			stopChild(t, s, secondExited)
		}
	})

	cfg := soakConfig{Server: base, Key: key, Customers: soakFaultCustomers, Messages: 2, Kinds: platformKinds,
		// A turn killed with the process is rescued 75 s after it started, and
		// River's rescuer looks every 30 s: up to ~2 minutes for that customer.
		Deadline: 4 * time.Minute, Settle: 3 * time.Second, Verify: time.Minute, KillPID: first.Process.Pid}
	rep := runSoakTest(t, cfg)
	if f := faultOf(t, rep, "kill-serve"); f.DownMS == 0 || strings.Contains(f.Detail, "never") {
		t.Fatalf("kill-serve: %+v", f)
	}
	<-firstExited
	mu.Lock()
	defer mu.Unlock()
	if restartErr != nil {
		t.Fatal(restartErr)
	}
	var exit *exec.ExitError
	if !errors.As(firstErr, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the first serve should have died of SIGKILL: %v", firstErr)
	}
}

// The database refuses connections for 5s mid-run (and every backend on it
// is terminated): serve recovers, nothing acked is lost, all is answered once.
func TestSoakDBOutage(t *testing.T) {
	srv := startServerWith(t, "atd_soak_db_key_0123456789", 1, map[string]string{"ATENDE_TURN_DEBOUNCE": "2s"})
	cfg := soakTestConfig(srv)
	cfg.Customers, cfg.Deadline, cfg.DBOutage, cfg.DatabaseURL = soakFaultCustomers, soakFaultDeadline, 5*time.Second, srv.dbURL
	rep := runSoakTest(t, cfg)
	if f := faultOf(t, rep, "db-outage"); f.DownMS < 5000 || strings.Contains(f.Detail, ";") {
		t.Fatalf("db-outage: %+v", f)
	}
}

// An LLM that hangs, answers 500 or answers garbage: the offline engine
// answers every turn, once.
func TestSoakLLMFault(t *testing.T) {
	llmAddr := freeAddr(t)
	srv := startServerWith(t, "atd_soak_llm_key_0123456789", 1, map[string]string{"ATENDE_TURN_DEBOUNCE": "2s",
		"ATENDE_LLM_PROVIDER": "openai", "ATENDE_LLM_BASE_URL": "http://" + llmAddr + "/v1", "ATENDE_LLM_API_KEY": "sk-test",
		"ATENDE_LLM_MODEL": "gpt-test", "ATENDE_LLM_TIMEOUT": "2s"})
	for _, mode := range []string{fakes.FaultHang, fakes.Fault500, fakes.FaultGarbage} {
		t.Run(mode, func(t *testing.T) {
			cfg := soakTestConfig(srv)
			cfg.Customers, cfg.Messages, cfg.Deadline, cfg.LLMFault, cfg.LLMAddr = 14, 1, 90*time.Second, mode, llmAddr
			if rep := runSoakTest(t, cfg); rep.LLMRequests == 0 {
				t.Fatal("the server never called the fake LLM: is it configured?")
			}
		})
	}
}
