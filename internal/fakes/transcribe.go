package fakes

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// FaultRefuse answers a transcription with a 400 about the file, as a
// provider does with audio it cannot decode (Transcriber.Fault).
const FaultRefuse = "400"

// TranscriptionRequest is what the fake recorded of one transcription request.
type TranscriptionRequest struct {
	Model          string
	Language       string
	ResponseFormat string
	// FileName and ContentType are the file part's, as the client labelled it.
	FileName    string
	ContentType string
	File        []byte
	// Authorization is the header as sent ("Bearer sk-…", or "").
	Authorization string
}

// Transcriber is a local OpenAI-compatible speech-to-text server
// (POST /v1/audio/transcriptions, multipart/form-data). It parses the form as
// the real one does, refusing a request without a file or a model; it answers
// with Text, or else the next of the texts given to Say, or else "ok"; and it
// answers json, verbose_json (with Language and Duration) or text, as asked
// (json only for a gpt-4o model, as OpenAI).
// Fault plays Fault500, FaultHang, FaultRefuse or FaultGarbage instead.
type Transcriber struct {
	*httptest.Server
	Fault string
	// Text, when set, makes the transcript from the file's bytes (a test
	// that sends several files tells them apart by content, in any order).
	Text func(file []byte) string
	// Language is what verbose_json says the speech is in; empty is the
	// request's language named as OpenAI names it ("pt" is "portuguese").
	Language string
	// Duration is what verbose_json says the audio lasts; zero is one second
	// per 2 000 bytes (a voice note at 16 kbit/s).
	Duration time.Duration
	// APIKey, when set, is the only key accepted; another gets a 401 that
	// repeats the key it was sent, unmasked, as some servers do, so a test
	// sees the client keep it out of its errors.
	APIKey string

	done      chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	script   []string
	requests []TranscriptionRequest
}

// NewTranscriber starts the server; it stops with the test.
func NewTranscriber(t testing.TB) *Transcriber {
	s := &Transcriber{done: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// BaseURL is the address a client is configured with (the server's, with /v1).
func (s *Transcriber) BaseURL() string { return s.URL + "/v1" }

// Say queues texts: request n is answered with the nth (once Text is unset).
func (s *Transcriber) Say(texts ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, texts...)
}

// Requests returns what the server was sent so far, in arrival order.
func (s *Transcriber) Requests() []TranscriptionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]TranscriptionRequest(nil), s.requests...)
}

// Close releases hanging requests, then stops the server.
func (s *Transcriber) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	s.Server.Close()
}

// languageNames are how OpenAI's verbose_json names the languages it hears.
var languageNames = map[string]string{"pt": "portuguese", "en": "english", "es": "spanish"}

func (s *Transcriber) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/audio/transcriptions" {
		transcribeError(w, http.StatusNotFound, "invalid_request_error", "Invalid URL ("+r.Method+" "+r.URL.Path+")")
		return
	}
	if r.Method != http.MethodPost {
		transcribeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "Method not allowed")
		return
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		transcribeError(w, http.StatusBadRequest, "invalid_request_error", "Could not parse multipart form: "+err.Error())
		return
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	req := TranscriptionRequest{
		Model:          r.FormValue("model"),
		Language:       r.FormValue("language"),
		ResponseFormat: r.FormValue("response_format"),
		Authorization:  r.Header.Get("Authorization"),
	}
	if files := r.MultipartForm.File["file"]; len(files) > 0 {
		req.FileName = files[0].Filename
		req.ContentType = files[0].Header.Get("Content-Type")
		f, err := files[0].Open()
		if err == nil {
			req.File, err = io.ReadAll(f)
			_ = f.Close()
		}
		if err != nil {
			transcribeError(w, http.StatusInternalServerError, "server_error", "reading the file: "+err.Error())
			return
		}
	}

	s.mu.Lock()
	s.requests = append(s.requests, req)
	n := len(s.requests)
	fault, textOf, language, duration, key := s.Fault, s.Text, s.Language, s.Duration, s.APIKey
	text := "ok"
	if n <= len(s.script) {
		text = s.script[n-1]
	}
	s.mu.Unlock()

	switch {
	case key != "" && req.Authorization != "Bearer "+key:
		transcribeError(w, http.StatusUnauthorized, "invalid_request_error", "Incorrect API key provided: "+strings.TrimPrefix(req.Authorization, "Bearer ")+".")
		return
	case req.FileName == "":
		transcribeError(w, http.StatusBadRequest, "invalid_request_error", "you must provide a file")
		return
	case req.Model == "":
		transcribeError(w, http.StatusBadRequest, "invalid_request_error", "you must provide a model parameter")
		return
	case strings.HasPrefix(req.Model, "gpt-4o") && req.ResponseFormat != "" && req.ResponseFormat != "json":
		// OpenAI's gpt-4o transcription models answer json only.
		transcribeError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("response_format '%s' is not compatible with model '%s'. Use 'json' instead.", req.ResponseFormat, req.Model))
		return
	}
	switch fault {
	case Fault500:
		transcribeError(w, http.StatusInternalServerError, "server_error", "The server had an error while processing your request.")
		return
	case FaultRefuse:
		transcribeError(w, http.StatusBadRequest, "invalid_request_error", "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']")
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
		fmt.Fprint(w, `{"text":"olá, tud`)
		return
	}

	if textOf != nil {
		text = textOf(req.File)
	}
	switch req.ResponseFormat {
	case "", "json":
		writeJSON(w, map[string]any{"text": text})
	case "verbose_json":
		if language == "" {
			language = req.Language
			if name, ok := languageNames[language]; ok {
				language = name
			}
		}
		if duration == 0 {
			duration = time.Duration(len(req.File)) * time.Second / 2000
		}
		writeJSON(w, map[string]any{
			"task":     "transcribe",
			"language": language,
			"duration": duration.Seconds(),
			"text":     text,
			"segments": []map[string]any{{"id": 0, "start": 0.0, "end": duration.Seconds(), "text": text}},
		})
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, text)
	default:
		transcribeError(w, http.StatusBadRequest, "invalid_request_error", "response_format "+req.ResponseFormat+" is not supported by this server")
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// transcribeError answers as OpenAI does: {"error":{"message","type",…}}.
func transcribeError(w http.ResponseWriter, status int, kind, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": message, "type": kind, "param": nil, "code": nil,
	}})
}
