package api

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

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
