package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/atende/atende/accounts"
)

// brokenAuth is an Authenticator whose database is down, or that panics.
type brokenAuth struct{ panics bool }

func (a brokenAuth) Caller(context.Context, string) (accounts.Caller, error) {
	if a.panics {
		panic("auth exploded")
	}
	return accounts.Caller{}, errors.New("find API key: connect to 127.0.0.1:5432: connection refused")
}

// logLines decodes a JSON log, one object a line.
func logLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func findLine(lines []map[string]any, msg string) map[string]any {
	for _, l := range lines {
		if l["msg"] == msg {
			return l
		}
	}
	return nil
}

// A request that fails on the server, or panics, is answered with a JSON 500
// quoting its request id, and logged with that id through the logger the
// server was given: nothing goes to the process-wide slog or log default,
// nor to gin's writers.
func TestServerErrorsGoToTheConfiguredLogger(t *testing.T) {
	var global, ginOut bytes.Buffer
	prevSlog, prevLogOut, prevLogFlags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&global, nil))) // the log package writes here too
	prevGinOut, prevGinErr := gin.DefaultWriter, gin.DefaultErrorWriter
	gin.DefaultWriter, gin.DefaultErrorWriter = &ginOut, &ginOut
	t.Cleanup(func() {
		slog.SetDefault(prevSlog) // leaves the log package on our buffer: put it back too
		log.SetOutput(prevLogOut)
		log.SetFlags(prevLogFlags)
		gin.DefaultWriter, gin.DefaultErrorWriter = prevGinOut, prevGinErr
	})

	for _, tc := range []struct {
		name   string
		auth   brokenAuth
		logged string // the error line's message
		detail string // the attribute that says what went wrong
		want   string
	}{
		{"failure", brokenAuth{}, "request failed", "error", "connection refused"},
		{"panic", brokenAuth{panics: true}, "panic serving request", "panic", "auth exploded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := NewHandler(Deps{Auth: tc.auth, Log: slog.New(slog.NewJSONHandler(&buf, nil)), Registry: prometheus.NewRegistry()})
			req := httptest.NewRequest(http.MethodGet, "/api/v1/contacts", nil)
			req.Header.Set("Authorization", "Bearer atd_key")
			id := "req-" + tc.name + "-1"
			req.Header.Set(requestIDHeader, id)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req) // every line is written when this returns

			var body errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusInternalServerError ||
				body.Error.Code != "internal" || !strings.Contains(body.Error.Message, id) || strings.Contains(rec.Body.String(), tc.want) {
				t.Fatalf("answer %d %s (%v): want a JSON 500 quoting the request id and hiding the cause", rec.Code, rec.Body.String(), err)
			}
			lines := logLines(t, buf.Bytes())
			line := findLine(lines, tc.logged)
			if line == nil || line["level"] != "ERROR" || line["request_id"] != id || line["route"] != "/api/v1/contacts" ||
				!strings.Contains(line[tc.detail].(string), tc.want) {
				t.Fatalf("no %q line with the request id and the cause in the configured log:\n%s", tc.logged, buf.String())
			}
			if tc.name == "panic" && !strings.Contains(line["stack"].(string), "brokenAuth.Caller") {
				t.Errorf("the panic's stack does not show where it happened: %v", line["stack"])
			}
			// The access line still records the request, as the 500 it was answered with.
			access := findLine(lines, "request")
			if access == nil || access["request_id"] != id || access["status"] != float64(http.StatusInternalServerError) {
				t.Errorf("access line: %v", access)
			}
		})
	}
	if global.Len() != 0 || ginOut.Len() != 0 {
		t.Fatalf("written outside the configured logger:\nslog/log default: %s\ngin: %s", global.String(), ginOut.String())
	}
}
