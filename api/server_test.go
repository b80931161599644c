package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/conversations"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/memory"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"
)

func TestHealthReadyAndMetrics(t *testing.T) {
	s := newTestServer(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		var body map[string]string
		if code := s.call(t, "", "GET", path, nil, &body); code != 200 {
			t.Fatalf("%s: %d %v", path, code, body)
		}
	}
	s.call(t, s.keyA, "GET", "/api/v1/contacts", nil, nil)
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(raw), `atende_http_requests_total{method="GET",route="/api/v1/contacts",status="200"} 1`) {
		t.Fatalf("metrics lack the request count:\n%s", raw)
	}
}

func TestRequestIDIsEchoedAndKept(t *testing.T) {
	s := newTestServer(t)
	req, _ := http.NewRequest("GET", s.URL+"/healthz", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Request-Id") != "abc-123" {
		t.Fatalf("request id = %q", resp.Header.Get("X-Request-Id"))
	}
}

var param = regexp.MustCompile(`/:([a-z_]+)`)

// Every route the server answers is in the OpenAPI document, with its method,
// and the document names no route the server lacks.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t)
	served := map[string]bool{}
	for _, r := range s.engine.Routes() {
		path := param.ReplaceAllString(r.Path, "/{$1}")
		path = strings.ReplaceAll(path, `\:`, ":")
		served[strings.ToLower(r.Method)+" "+path] = true
		if _, ok := doc.Paths[path][strings.ToLower(r.Method)]; !ok {
			t.Errorf("%s %s is served but not in openapi.yaml", r.Method, path)
		}
	}
	for path, methods := range doc.Paths {
		for method := range methods {
			if method != "parameters" && !served[method+" "+path] {
				t.Errorf("openapi.yaml documents %s %s, which is not served", method, path)
			}
		}
	}
	if len(served) < 12 {
		t.Fatalf("only %d routes found", len(served))
	}
}

// /readyz answers anyone: when the database is away it says so, and the
// cause (addresses, driver messages) goes to the log only.
func TestNotReadyTellsNoInternals(t *testing.T) {
	var logged strings.Builder
	h := NewHandler(Deps{Registry: prometheus.NewRegistry(), Log: slog.New(slog.NewJSONHandler(&logged, nil)),
		Ready: func(context.Context) error {
			return errors.New("database unreachable: dial tcp 10.0.3.7:5432: password authentication failed for user atende_prod")
		}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "not ready") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	for _, secret := range []string{"10.0.3.7", "atende_prod", "password"} {
		if strings.Contains(rec.Body.String(), secret) {
			t.Fatalf("the answer leaks %q: %s", secret, rec.Body)
		}
	}
	if !strings.Contains(logged.String(), "10.0.3.7") {
		t.Fatalf("the cause must be in the log: %s", logged.String())
	}
}

// Ids another account owns are not found, whichever package says so — a
// reply naming another tenant's channel included (it answered 500).
func TestNotFoundFromEveryPackageIs404(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	for _, err := range []error{channels.ErrNotFound, conversations.ErrNotFound, handoff.ErrNotFound, memory.ErrNotFound} {
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Request = httptest.NewRequest("POST", "/api/v1/handoffs/x/reply", nil)
		fail(c, fmt.Errorf("reply through channel 0194: %w", err))
		if rec.Code != http.StatusNotFound {
			t.Errorf("%v: %d", err, rec.Code)
		}
	}
}
