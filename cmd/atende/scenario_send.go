package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// scenarioClient talks to a running Atende as the platforms and an attendant would.
type scenarioClient struct {
	base, key string
	http      *http.Client
	channels  map[string]evalChannel
	attendant string
	sink      *http.Server
	sinkURL   string
	seq       int
	// webchatTokens are the session tokens of the visitors this client
	// played, by visitor id: a browser keeps its token, and the server
	// resumes a visitor only with it.
	webchatTokens map[string]string
	tokensMu      sync.Mutex // the soak opens sessions from many goroutines
}

type evalChannel struct {
	ID, Secret, PlatformID string
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// api calls the REST API with the key; out receives the JSON answer.
func (c *scenarioClient) api(ctx context.Context, method, path string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// setup starts a local sink standing in for every platform's send API and
// creates one channel per kind pointed at it, and the attendant who resolves.
func (c *scenarioClient) setup(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start the platform sink: %w", err)
	}
	c.sinkURL = "http://" + ln.Addr().String()
	var sent atomic.Int64
	c.sink = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		writePlatformAnswer(w, sent.Add(1))
	})}
	go func() { _ = c.sink.Serve(ln) }()
	c.channels, err = c.createChannels(ctx, channelPlan{Kinds: []string{"whatsapp", "instagram", "telegram", "webchat", "email"},
		SinkURL: c.sinkURL, Name: "eval"})
	if err != nil {
		return err
	}
	// An admin: the harness answers and resolves cards the account's own
	// attendants were given, which only an admin may do.
	c.attendant = "avaliacao-" + randomHex(3) + "@atende.dev"
	_, err = c.api(ctx, "PUT", "/api/v1/attendants", map[string]any{"email": c.attendant, "name": "Avaliação", "password": randomHex(12), "role": "admin"}, nil)
	return err
}

func (c *scenarioClient) close() {
	if c.sink != nil {
		_ = c.sink.Close()
	}
}

// send delivers a customer step as its platform would, stamped at.
func (c *scenarioClient) send(ctx context.Context, sc Scenario, n int, st ScenarioStep, at time.Time) error {
	ch, ok := c.channels[st.Channel]
	if !ok {
		return fmt.Errorf("step %d: unknown channel %q", n, st.Channel)
	}
	c.seq++
	id := fmt.Sprintf("%s-%d-%s", sc.ID, n, randomHex(3))
	token := ""
	if st.Channel == "webchat" {
		var err error
		var visitor string
		if visitor, token, err = c.webchatSession(ctx, ch, st); err != nil {
			return err
		}
		if asked := fromString(st.From, "webchat_id"); asked != "" && visitor != asked {
			// The scenario's expectations name the id it asked for.
			return fmt.Errorf("step %d: webchat visitor %q came back as %q (the id is taken and this run has not its token)", n, asked, visitor)
		}
	}
	wh, err := webhookFor(ch, st, id, c.seq, at, token)
	if err != nil {
		return fmt.Errorf("step %d: %w", n, err)
	}
	return c.deliver(ctx, wh)
}
