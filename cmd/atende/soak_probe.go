package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// probeStats are the REST probe's counts: a GET /api/v1/contacts a second
// while the soak runs, as a dashboard would poll.
type probeStats struct {
	Probes    int
	Failures  int // non-2xx, network errors and timeouts
	Timeouts  int
	Latencies latencies // of the successful ones
}

// restProbe polls until ctx ends, one probe at a time (a slow answer delays
// the next tick rather than piling requests up).
type restProbe struct {
	client   *scenarioClient
	interval time.Duration
	timeout  time.Duration

	mu    sync.Mutex
	stats probeStats
}

func (p *restProbe) run(ctx context.Context) {
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pctx, cancel := context.WithTimeout(ctx, p.timeout)
		t0 := time.Now()
		_, err := p.client.api(pctx, http.MethodGet, "/api/v1/contacts", nil, nil)
		d := time.Since(t0)
		cancel()
		if err != nil && ctx.Err() != nil {
			return // the soak ended mid-probe: not the server's failure
		}
		p.mu.Lock()
		p.stats.Probes++
		switch {
		case err == nil:
			p.stats.Latencies = append(p.stats.Latencies, d)
		case isTimeout(err):
			p.stats.Failures++
			p.stats.Timeouts++
		default:
			p.stats.Failures++
		}
		p.mu.Unlock()
	}
}

func (p *restProbe) result() probeStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Latencies = append(latencies(nil), s.Latencies...)
	return s
}

// isTimeout reports whether err is a deadline or a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
