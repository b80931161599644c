package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// soakStreamReconnects bounds how often one visitor's stream is reopened.
const soakStreamReconnects = 1000

// followWebchat reads the visitor's SSE stream as the widget does, recording
// every reply at the sink, and reopens it after a drop (a restart of the
// server) from the last event seen, until ctx ends.
func (s *soak) followWebchat(ctx context.Context, ch evalChannel, c *soakCustomer, token string) {
	visitor := fromString(c.Step.From, "webchat_id")
	var after int64
	wait := soakFirstRetry
	for range soakStreamReconnects {
		got, err := s.readStream(ctx, ch, visitor, token, &after, c.Recipient)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			kind, _ := classify(err)
			s.countError("webchat_stream_" + kind)
		}
		if got {
			wait = soakFirstRetry
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, soakMaxBackoff)
	}
}

// readStream reads one connection of the stream; got says whether anything
// (even the opening) came, so the next reconnect starts its backoff afresh.
func (s *soak) readStream(ctx context.Context, ch evalChannel, visitor, token string, after *int64, recipient string) (bool, error) {
	q := url.Values{"visitor_id": {visitor}, "token": {token}, "after": {strconv.FormatInt(*after, 10)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.api.base+"/webchat/"+ch.ID+"/stream?"+q.Encode(), nil)
	if err != nil {
		return false, fmt.Errorf("webchat stream: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := s.stream.Do(req)
	if err != nil {
		return false, fmt.Errorf("webchat stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, &httpStatusError{what: "webchat stream", status: resp.StatusCode}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var id int64
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id:"):
			id, _ = strconv.ParseInt(strings.TrimSpace(line[3:]), 10, 64)
		case strings.HasPrefix(line, "data:"):
			data.WriteString(strings.TrimSpace(line[5:]))
		case line == "":
			if data.Len() > 0 {
				var r struct{ Text string }
				if json.Unmarshal([]byte(data.String()), &r) == nil && id > *after {
					*after = id
					s.sink.record(recipient, r.Text)
				}
				data.Reset()
			}
		}
	}
	if err := sc.Err(); err != nil {
		return true, fmt.Errorf("webchat stream: %w", err)
	}
	return true, nil
}
