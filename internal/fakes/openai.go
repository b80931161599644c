// Package fakes holds local servers that speak the real protocols of what
// tests cannot reach (LLM providers): scripted, recording what they were sent.
package fakes

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// OpenAIRequest is what the fake recorded of one chat-completions request.
type OpenAIRequest struct {
	Model     string `json:"model"`
	MaxTokens int    `json:"max_tokens"`
	// MaxCompletionTokens is the newer name of MaxTokens, which langchaingo sends.
	MaxCompletionTokens int      `json:"max_completion_tokens"`
	System              string   `json:"-"`
	Tools               []string `json:"-"`
	Messages            []struct {
		Role    string `json:"role"`
		Content any    `json:"content"`
	} `json:"messages"`
}

// Faults the fake plays instead of answering (OpenAI.Fault).
const (
	// Fault500 answers every request with a 500, as an overloaded provider does.
	Fault500 = "500"
	// FaultHang never answers: the request waits until the client gives up
	// (or the fake closes, or HangLimit passes).
	FaultHang = "hang"
	// FaultGarbage answers 200 with a body that is not a chat completion.
	FaultGarbage = "garbage"
)

// HangLimit bounds how long a FaultHang request is held.
const HangLimit = 10 * time.Minute

// OpenAI is a local OpenAI-compatible chat server answering from a script of
// assistant messages (JSON), then "ok". Fail makes every request a 500;
// Fault plays one of the faults (Fault500, FaultHang, FaultGarbage).
type OpenAI struct {
	*httptest.Server
	Fail  bool
	Fault string
	// OnRequest, when set, runs before request n (from 1) is answered: a test
	// does there what happens in the world while the model thinks.
	OnRequest func(n int)

	done      chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	script   []string
	requests []OpenAIRequest
}

// NewOpenAI starts the server; it stops with the test.
func NewOpenAI(t testing.TB, script ...string) *OpenAI {
	s := &OpenAI{script: script, done: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// ServeOpenAI starts the fake on ln (outside tests: `atende soak -llm-fault`)
// playing fault ("" answers "ok"); Close stops it.
func ServeOpenAI(ln net.Listener, fault string) *OpenAI {
	s := &OpenAI{Fault: fault, done: make(chan struct{})}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	_ = s.Server.Listener.Close()
	s.Server.Listener = ln
	s.Server.Start()
	return s
}

// Close releases hanging requests, then stops the server.
func (s *OpenAI) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	s.Server.Close()
}

func (s *OpenAI) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	var raw struct {
		OpenAIRequest
		Tools []struct {
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		} `json:"tools"`
	}
	_ = json.NewDecoder(r.Body).Decode(&raw)
	req := raw.OpenAIRequest
	for _, t := range raw.Tools {
		req.Tools = append(req.Tools, t.Function.Name)
	}
	if len(req.Messages) > 0 && req.Messages[0].Role == "system" {
		req.System = fmt.Sprint(req.Messages[0].Content)
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	n := len(s.requests)
	fault := s.Fault
	if s.Fail {
		fault = Fault500
	}
	msg := `{"role":"assistant","content":"ok"}`
	if n <= len(s.script) {
		msg = s.script[n-1]
	}
	hook := s.OnRequest
	s.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	switch fault {
	case Fault500:
		http.Error(w, `{"error":{"message":"overloaded","type":"server_error"}}`, http.StatusInternalServerError)
		return
	case FaultHang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		case <-time.After(HangLimit):
		}
		return
	case FaultGarbage:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c%d","object":"chat.completion","choices":[{"index":0,"message":{"role":"assis`, n)
		return
	}
	finish := "stop"
	if strings.Contains(msg, "tool_calls") {
		finish = "tool_calls"
	}
	model := req.Model
	fmt.Fprintf(w, `{"id":"c%d","object":"chat.completion","created":1,"model":%q,"choices":[{"index":0,"message":%s,"finish_reason":%q}],"usage":{"prompt_tokens":50,"completion_tokens":10,"total_tokens":60}}`, n, model, msg, finish)
}

// Requests returns what the server was sent so far.
func (s *OpenAI) Requests() []OpenAIRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]OpenAIRequest(nil), s.requests...)
}

// ToolCall is an assistant message calling one tool.
func ToolCall(id, name, args string) string {
	return fmt.Sprintf(`{"role":"assistant","content":"","tool_calls":[{"id":%q,"type":"function","function":{"name":%q,"arguments":%q}}]}`, id, name, args)
}

// Reply is an assistant message with text.
func Reply(text string) string {
	b, _ := json.Marshal(text)
	return `{"role":"assistant","content":` + string(b) + `}`
}
