// Package fakes holds local servers that speak the real protocols of what
// tests cannot reach (LLM providers): scripted, recording what they were sent.
package fakes

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
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

// OpenAI is a local OpenAI-compatible chat server answering from a script of
// assistant messages (JSON), then "ok". Fail makes every request a 500.
type OpenAI struct {
	*httptest.Server
	Fail bool
	// OnRequest, when set, runs before request n (from 1) is answered: a test
	// does there what happens in the world while the model thinks.
	OnRequest func(n int)

	mu       sync.Mutex
	script   []string
	requests []OpenAIRequest
}

// NewOpenAI starts the server; it stops with the test.
func NewOpenAI(t testing.TB, script ...string) *OpenAI {
	s := &OpenAI{script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
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
	fail := s.Fail
	msg := `{"role":"assistant","content":"ok"}`
	if n <= len(s.script) {
		msg = s.script[n-1]
	}
	hook := s.OnRequest
	s.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	if fail {
		http.Error(w, `{"error":{"message":"overloaded","type":"server_error"}}`, http.StatusInternalServerError)
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
