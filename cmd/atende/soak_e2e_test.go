package main

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// soakDeadline is generous: the soak tests check liveness, not speed, on CI's 2 cores.
const soakDeadline = 3 * time.Minute

// runSoakTest runs the soak against base and fails the test with the whole
// report unless every message was stored and answered exactly once.
func runSoakTest(t *testing.T, cfg soakConfig) SoakReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Deadline+3*time.Minute)
	defer cancel()
	rep, err := runSoak(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	_ = rep.write(&text, false)
	t.Log("\n" + text.String())
	want := cfg.Customers * cfg.Messages
	if rep.Answered != want || rep.AnsweredTwice != 0 || rep.Lost != 0 || rep.Acked != want || rep.Stored != want || !rep.Passed {
		t.Fatalf("want all %d messages acked, stored and answered once: %d acked, %d stored, %d answered, %d answered twice, %d lost",
			want, rep.Acked, rep.Stored, rep.Answered, rep.AnsweredTwice, rep.Lost)
	}
	return rep
}

// soakTestConfig is 60 customers × 2 messages on every channel, all at once.
func soakTestConfig(srv *runningServer) soakConfig {
	return soakConfig{Server: srv.base, Key: srv.key, Customers: 60, Messages: 2, Kinds: platformKinds,
		Deadline: soakDeadline, Settle: 3 * time.Second, Verify: time.Minute}
}

// 60 customers, 2 messages each (the second after the first is answered),
// all at once, against what `make run` runs, with its default debounce:
// every message is answered exactly once and nothing acked is lost.
func TestSoak(t *testing.T) {
	srv := startServerWith(t, "atd_soak_key_0123456789abcdef", 1, map[string]string{"ATENDE_TURN_DEBOUNCE": "2s"})
	runSoakTest(t, soakTestConfig(srv))
}

// Two messages back to back, inside the debounce, are one turn: one reply.
func TestSoakBurst(t *testing.T) {
	srv := startServerWith(t, "atd_soak_burst_key_0123456789", 1, map[string]string{"ATENDE_TURN_DEBOUNCE": "2s"})
	cfg := soakTestConfig(srv)
	cfg.Customers, cfg.Burst = 21, true
	rep := runSoakTest(t, cfg)
	replies := 0
	for _, n := range rep.ReplyKinds {
		replies += n
	}
	if replies != cfg.Customers {
		t.Fatalf("a burst is one turn: %v replies to %d customers", rep.ReplyKinds, cfg.Customers)
	}
}
