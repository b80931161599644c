package fakes_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/atende/atende/internal/fakes"
)

// form is a multipart body with the given fields and, when fileName is set, a file.
func form(t *testing.T, fields map[string]string, fileName string, file []byte) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if fileName != "" {
		part, err := w.CreateFormFile("file", fileName)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = part.Write(file)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &b, w.FormDataContentType()
}

func TestTranscriberRefusesMalformedRequests(t *testing.T) {
	cases := []struct {
		name        string
		path        string
		contentType string
		body        func(t *testing.T) (*bytes.Buffer, string)
		status      int
		message     string
	}{
		{
			name: "no file", path: "/v1/audio/transcriptions",
			body: func(t *testing.T) (*bytes.Buffer, string) {
				return form(t, map[string]string{"model": "whisper-1"}, "", nil)
			},
			status: 400, message: "you must provide a file",
		},
		{
			name: "no model", path: "/v1/audio/transcriptions",
			body: func(t *testing.T) (*bytes.Buffer, string) {
				return form(t, nil, "a.ogg", []byte("OggS"))
			},
			status: 400, message: "you must provide a model",
		},
		{
			name: "not a form", path: "/v1/audio/transcriptions",
			body: func(t *testing.T) (*bytes.Buffer, string) {
				return bytes.NewBufferString(`{"model":"whisper-1"}`), "application/json"
			},
			status: 400, message: "multipart",
		},
		{
			name: "verbose_json from a gpt-4o model", path: "/v1/audio/transcriptions",
			body: func(t *testing.T) (*bytes.Buffer, string) {
				return form(t, map[string]string{"model": "gpt-4o-transcribe", "response_format": "verbose_json"}, "a.ogg", []byte("OggS"))
			},
			status: 400, message: "not compatible",
		},
		{
			name: "another path", path: "/audio/transcriptions",
			body: func(t *testing.T) (*bytes.Buffer, string) {
				return form(t, map[string]string{"model": "whisper-1"}, "a.ogg", []byte("OggS"))
			},
			status: 404, message: "Invalid URL",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := fakes.NewTranscriber(t)
			body, ct := c.body(t)
			resp, err := http.Post(s.URL+c.path, ct, body)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			var e struct {
				Error struct {
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatalf("the error is not OpenAI's JSON: %v", err)
			}
			if resp.StatusCode != c.status || !strings.Contains(e.Error.Message, c.message) || e.Error.Type == "" {
				t.Errorf("got %d %+v, want %d with %q", resp.StatusCode, e.Error, c.status, c.message)
			}
		})
	}
}

func TestTranscriberAnswersTextWhenAsked(t *testing.T) {
	s := fakes.NewTranscriber(t)
	s.Say("primeiro", "segundo")
	for _, want := range []string{"primeiro", "segundo", "ok"} {
		body, ct := form(t, map[string]string{"model": "whisper-1", "response_format": "text"}, "a.ogg", []byte("OggS"))
		resp, err := http.Post(s.BaseURL()+"/audio/transcriptions", ct, body)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		_ = resp.Body.Close()
		if got := strings.TrimSpace(b.String()); resp.StatusCode != 200 || got != want {
			t.Errorf("got %d %q, want %q", resp.StatusCode, got, want)
		}
	}
	if n := len(s.Requests()); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
}
