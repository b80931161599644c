package media_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atende/atende/internal/fakes"
	"github.com/atende/atende/media"
)

const voiceMIME = "audio/ogg; codecs=opus"

func voiceNote(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed)}))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestTranscribeSendsTheFileAndFields(t *testing.T) {
	cases := []struct {
		name                     string
		cfg                      media.TranscriberConfig
		fileName, mime           string
		wantModel, wantLanguage  string
		wantFileName, wantAuth   string
		wantFormat, wantFileType string
	}{
		{
			name:     "defaults",
			fileName: "voice.ogg", mime: voiceMIME,
			wantModel: "whisper-1", wantLanguage: "pt", wantFormat: "verbose_json",
			wantFileName: "voice.ogg", wantFileType: voiceMIME,
		},
		{
			name:     "configured, base with a trailing slash",
			cfg:      media.TranscriberConfig{Model: "whisper-large-v3", Language: "es", APIKey: "sk-test-123"},
			fileName: "nota.mp3", mime: "audio/mpeg",
			wantModel: "whisper-large-v3", wantLanguage: "es", wantFormat: "verbose_json",
			wantFileName: "nota.mp3", wantFileType: "audio/mpeg", wantAuth: "Bearer sk-test-123",
		},
		{
			name:     "a voice note without a name is named by its type",
			fileName: "", mime: voiceMIME,
			wantModel: "whisper-1", wantLanguage: "pt", wantFormat: "verbose_json",
			wantFileName: "audio.ogg", wantFileType: voiceMIME,
		},
		{
			name:     "a name without an extension gets the type's",
			fileName: "PTT-20240611-WA0007", mime: "audio/mp4",
			wantModel: "whisper-1", wantLanguage: "pt", wantFormat: "verbose_json",
			wantFileName: "PTT-20240611-WA0007.m4a", wantFileType: "audio/mp4",
		},
		{
			name:     "an Ogg typed by a sniffer (application/ogg) is still an .ogg",
			fileName: "", mime: "application/ogg",
			wantModel: "whisper-1", wantLanguage: "pt", wantFormat: "verbose_json",
			wantFileName: "audio.ogg", wantFileType: "application/ogg",
		},
		{
			name:     "a gpt-4o model is asked for json, which it only speaks",
			cfg:      media.TranscriberConfig{Model: "gpt-4o-mini-transcribe"},
			fileName: "voice.ogg", mime: voiceMIME,
			wantModel: "gpt-4o-mini-transcribe", wantLanguage: "pt", wantFormat: "json",
			wantFileName: "voice.ogg", wantFileType: voiceMIME,
		},
		{
			name:     "no type at all",
			fileName: "", mime: "",
			wantModel: "whisper-1", wantLanguage: "pt", wantFormat: "verbose_json",
			wantFileName: "audio", wantFileType: "application/octet-stream",
		},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := fakes.NewTranscriber(t)
			cfg := c.cfg
			cfg.BaseURL = fake.BaseURL()
			if i == 1 {
				cfg.BaseURL += "/"
			}
			tr := media.NewTranscriber(cfg, nil)
			audio := voiceNote(10_000+i, uint64(i))
			if _, err := tr.Transcribe(context.Background(), bytes.NewReader(audio), c.fileName, c.mime); err != nil {
				t.Fatal(err)
			}
			reqs := fake.Requests()
			if len(reqs) != 1 {
				t.Fatalf("requests = %d, want 1", len(reqs))
			}
			got := reqs[0]
			if !bytes.Equal(got.File, audio) {
				t.Errorf("file: %d bytes arrived, %d sent, or they differ", len(got.File), len(audio))
			}
			for _, f := range []struct{ field, got, want string }{
				{"model", got.Model, c.wantModel},
				{"language", got.Language, c.wantLanguage},
				{"response_format", got.ResponseFormat, c.wantFormat},
				{"file name", got.FileName, c.wantFileName},
				{"file content type", got.ContentType, c.wantFileType},
				{"authorization", got.Authorization, c.wantAuth},
			} {
				if f.got != f.want {
					t.Errorf("%s = %q, want %q", f.field, f.got, f.want)
				}
			}
			if tr.Model() != c.wantModel {
				t.Errorf("Model() = %q, want %q", tr.Model(), c.wantModel)
			}
		})
	}
}

func TestTranscribeAnswers(t *testing.T) {
	// A server answering only {"text": ...} (or a usage block) whatever it is asked.
	plain := func(body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/v1"
	}
	cases := []struct {
		name string
		// setup returns the config's base URL and model.
		setup func(t *testing.T) (base, model string)
		want  media.Transcript
	}{
		{
			name: "verbose_json: text trimmed, language and duration",
			setup: func(t *testing.T) (string, string) {
				fake := fakes.NewTranscriber(t)
				fake.Duration = 3500 * time.Millisecond
				fake.Say("  Oi, tudo bem? Queria saber do meu pedido.\n")
				return fake.BaseURL(), ""
			},
			want: media.Transcript{Text: "Oi, tudo bem? Queria saber do meu pedido.", Language: "portuguese", Duration: 3500 * time.Millisecond},
		},
		{
			name: "json from a gpt-4o model: the language asked for, no duration",
			setup: func(t *testing.T) (string, string) {
				fake := fakes.NewTranscriber(t)
				fake.Say("Bom dia")
				return fake.BaseURL(), "gpt-4o-transcribe"
			},
			want: media.Transcript{Text: "Bom dia", Language: "pt"},
		},
		{
			name: "a server that answers plain json to verbose_json",
			setup: func(t *testing.T) (string, string) {
				return plain(`{"text":" Pode me ligar? "}`), ""
			},
			want: media.Transcript{Text: "Pode me ligar?", Language: "pt"},
		},
		{
			name: "duration from usage when the answer has none",
			setup: func(t *testing.T) (string, string) {
				return plain(`{"text":"Sim","usage":{"type":"duration","seconds":2.5}}`), "gpt-4o-mini-transcribe"
			},
			want: media.Transcript{Text: "Sim", Language: "pt", Duration: 2500 * time.Millisecond},
		},
		{
			name: "silence is an empty transcript, not an error",
			setup: func(t *testing.T) (string, string) {
				fake := fakes.NewTranscriber(t)
				fake.Duration = time.Second
				fake.Say(" \n ")
				return fake.BaseURL(), ""
			},
			want: media.Transcript{Text: "", Language: "portuguese", Duration: time.Second},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base, model := c.setup(t)
			tr := media.NewTranscriber(media.TranscriberConfig{BaseURL: base, Model: model}, nil)
			got, err := tr.Transcribe(context.Background(), bytes.NewReader(voiceNote(4000, 1)), "voice.ogg", voiceMIME)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestTranscribeErrors(t *testing.T) {
	const key = "sk-proj-SECRET-do-not-log-0123456789"
	status := func(code int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(code)
			fmt.Fprint(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/v1"
	}
	fake := func(t *testing.T, fault string) string {
		f := fakes.NewTranscriber(t)
		f.Fault = fault
		f.APIKey = key
		return f.BaseURL()
	}
	cases := []struct {
		name        string
		base        func(t *testing.T) string
		key         string
		refused     bool
		wantInError []string
	}{
		{
			name:        "a file the provider cannot read is refused",
			base:        func(t *testing.T) string { return fake(t, fakes.FaultRefuse) },
			refused:     true,
			wantInError: []string{"400", "Invalid file format", "voice.ogg", "whisper-1"},
		},
		{
			name: "a wrong key is refused, and the key echoed back is not repeated",
			base: func(t *testing.T) string {
				f := fakes.NewTranscriber(t)
				f.APIKey = "sk-the-right-one"
				return f.BaseURL()
			},
			refused:     true,
			wantInError: []string{"401", "Incorrect API key provided"},
		},
		{
			name:        "a wrong base (no /v1) is refused",
			base:        func(t *testing.T) string { return strings.TrimSuffix(fake(t, ""), "/v1") },
			refused:     true,
			wantInError: []string{"404"},
		},
		{
			name:        "an overloaded provider can be retried",
			base:        func(t *testing.T) string { return fake(t, fakes.Fault500) },
			wantInError: []string{"500", "The server had an error"},
		},
		{
			name:        "a rate limit can be retried",
			base:        func(t *testing.T) string { return status(429, `{"error":{"message":"Rate limit reached"}}`) },
			wantInError: []string{"429", "Rate limit reached"},
		},
		{
			name:        "a provider's timeout can be retried",
			base:        func(t *testing.T) string { return status(408, `upstream timed out`) },
			wantInError: []string{"408", "upstream timed out"},
		},
		{
			name:        "a bad gateway page says its status",
			base:        func(t *testing.T) string { return status(502, `{}`) },
			wantInError: []string{"502", "Bad Gateway"},
		},
		{
			name:        "a cut-off answer can be retried",
			base:        func(t *testing.T) string { return fake(t, fakes.FaultGarbage) },
			wantInError: []string{"not a transcription"},
		},
		{
			name: "an unreachable provider can be retried",
			base: func(t *testing.T) string {
				srv := httptest.NewServer(http.NotFoundHandler())
				srv.Close()
				return srv.URL + "/v1"
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := media.NewTranscriber(media.TranscriberConfig{BaseURL: c.base(t), APIKey: key}, nil)
			_, err := tr.Transcribe(context.Background(), bytes.NewReader(voiceNote(3000, 2)), "voice.ogg", voiceMIME)
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			if got := errors.Is(err, media.ErrTranscriptionRefused); got != c.refused {
				t.Errorf("errors.Is(ErrTranscriptionRefused) = %v, want %v: %v", got, c.refused, err)
			}
			if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "SECRET") {
				t.Errorf("the API key is in the error: %v", err)
			}
			for _, s := range c.wantInError {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestTranscribeClipsTheProvidersMessage(t *testing.T) {
	long := strings.Repeat("áudio inválido ", 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":{"message":%q}}`, long)
	}))
	defer srv.Close()
	tr := media.NewTranscriber(media.TranscriberConfig{BaseURL: srv.URL}, nil)
	_, err := tr.Transcribe(context.Background(), strings.NewReader("x"), "a.ogg", voiceMIME)
	if !errors.Is(err, media.ErrTranscriptionRefused) {
		t.Fatalf("err = %v, want refused", err)
	}
	if n := len([]rune(err.Error())); n > 300 {
		t.Errorf("error is %d characters: %v", n, err)
	}
}

func TestTranscribeHangGivesUp(t *testing.T) {
	cases := []struct {
		name string
		run  func(base string) error
	}{
		{"the caller's deadline", func(base string) error {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			tr := media.NewTranscriber(media.TranscriberConfig{BaseURL: base}, nil)
			_, err := tr.Transcribe(ctx, bytes.NewReader(voiceNote(2000, 3)), "voice.ogg", voiceMIME)
			if !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("err = %v, want the deadline", err)
			}
			return err
		}},
		{"the configured timeout", func(base string) error {
			tr := media.NewTranscriber(media.TranscriberConfig{BaseURL: base, Timeout: 200 * time.Millisecond}, nil)
			_, err := tr.Transcribe(context.Background(), bytes.NewReader(voiceNote(2000, 3)), "voice.ogg", voiceMIME)
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := fakes.NewTranscriber(t)
			fake.Fault = fakes.FaultHang
			start := time.Now()
			err := c.run(fake.BaseURL())
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, media.ErrTranscriptionRefused) {
				t.Errorf("a timeout is refused: %v", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("gave up after %v", d)
			}
			if n := len(fake.Requests()); n != 1 {
				t.Errorf("requests = %d, want 1", n)
			}
		})
	}
}

func TestTranscribeStreamsALargeFile(t *testing.T) {
	fake := fakes.NewTranscriber(t)
	fake.Say("Um áudio longo")
	tr := media.NewTranscriber(media.TranscriberConfig{BaseURL: fake.BaseURL()}, nil)
	audio := voiceNote(5<<20, 4)
	// Not a bytes.Reader: the client cannot learn the size and must stream.
	r := struct{ io.Reader }{bytes.NewReader(audio)}
	got, err := tr.Transcribe(context.Background(), r, "longo.ogg", voiceMIME)
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != "Um áudio longo" {
		t.Errorf("text = %q", got.Text)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || !bytes.Equal(reqs[0].File, audio) {
		t.Fatalf("the 5 MB file did not arrive intact")
	}
	if want := time.Duration(len(audio)) * time.Second / 2000; got.Duration != want {
		t.Errorf("duration = %v, want %v", got.Duration, want)
	}
}

type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	n := min(len(p), f.n)
	f.n -= n
	return n, nil
}

func TestTranscribeAudioThatCannotBeRead(t *testing.T) {
	fake := fakes.NewTranscriber(t)
	tr := media.NewTranscriber(media.TranscriberConfig{BaseURL: fake.BaseURL()}, nil)
	broken := errors.New("blob store went away")
	_, err := tr.Transcribe(context.Background(), &failingReader{n: 100_000, err: broken}, "voice.ogg", voiceMIME)
	if !errors.Is(err, broken) {
		t.Fatalf("err = %v, want the reader's error", err)
	}
	if errors.Is(err, media.ErrTranscriptionRefused) {
		t.Errorf("a read failure is refused: %v", err)
	}
	if !strings.Contains(err.Error(), "read the audio") {
		t.Errorf("error %q does not say what failed", err)
	}
}

func TestTranscribeConcurrently(t *testing.T) {
	fake := fakes.NewTranscriber(t)
	fake.Text = func(file []byte) string { return fmt.Sprintf("áudio %d", file[0]) }
	tr := media.NewTranscriber(media.TranscriberConfig{BaseURL: fake.BaseURL()}, nil)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			audio := append([]byte{byte(i)}, voiceNote(50_000, uint64(i))...)
			got, err := tr.Transcribe(context.Background(), bytes.NewReader(audio), "voice.ogg", voiceMIME)
			if err == nil && got.Text != fmt.Sprintf("áudio %d", i) {
				err = fmt.Errorf("request %d heard %q", i, got.Text)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(fake.Requests()); n != len(errs) {
		t.Errorf("requests = %d, want %d", n, len(errs))
	}
}

func TestTranscribeRefusedBeforeTheFileIsSent(t *testing.T) {
	// A provider that refuses a file too large without reading it: the
	// client stops sending and says why, rather than hanging on the pipe.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		fmt.Fprint(w, `{"error":{"message":"Maximum content size limit (26214400) exceeded"}}`)
	}))
	defer srv.Close()
	tr := media.NewTranscriber(media.TranscriberConfig{BaseURL: srv.URL + "/v1", Timeout: 10 * time.Second}, nil)
	start := time.Now()
	_, err := tr.Transcribe(context.Background(), bytes.NewReader(voiceNote(8<<20, 5)), "big.ogg", voiceMIME)
	t.Log(err)
	if err == nil {
		t.Fatal("no error")
	}
	// Usually the 413 itself (refused); the transport may instead report the
	// connection closed under the upload, which is a plain error. Either way
	// it returns rather than waiting out the timeout.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v", d)
	}
}
