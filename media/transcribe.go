package media

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path"
	"strings"
	"time"
)

// ErrTranscriptionRefused is a transcription the provider turned down for a
// reason that asking again will not change (a file it cannot read, a model it
// does not have, a wrong key): callers stop retrying when errors.Is says so.
// Overload, timeouts, rate limits and network errors are not wrapped with it.
var ErrTranscriptionRefused = errors.New("transcription refused")

// TranscriberConfig says where and how audio is transcribed.
type TranscriberConfig struct {
	// BaseURL is the API's base including its version, as OpenAI SDKs take
	// it: "https://api.openai.com/v1", "http://127.0.0.1:9000/v1". Requests go
	// to BaseURL + "/audio/transcriptions"; a trailing slash is ignored.
	// Empty is OpenAI's.
	BaseURL string
	// Model is the provider's model name; empty is "whisper-1".
	Model string
	// APIKey is sent as a bearer token when set (local servers need none).
	APIKey string
	// Language is the ISO-639-1 code of the speech; empty is "pt", as the
	// customers are Brazilian and a hint spares the model guessing from a
	// few seconds of audio.
	Language string
	// Timeout bounds one request when NewTranscriber makes the HTTP client;
	// empty is a minute.
	Timeout time.Duration
}

// Transcript is what the provider heard.
type Transcript struct {
	// Text is the speech, trimmed; "" is audio with no words in it (silence,
	// noise), not a failure.
	Text string
	// Language is the language the provider says the speech is in, as it
	// names it (OpenAI says "portuguese", other servers "pt"); when it says
	// nothing, the language that was asked for.
	Language string
	// Duration is the audio's length when the provider reports it, else 0.
	Duration time.Duration
}

// Transcriber turns customers' voice notes into text through an
// OpenAI-compatible speech-to-text API (OpenAI, Groq, a local whisper server),
// so the assistant can read what it cannot hear.
type Transcriber struct {
	endpoint string
	model    string
	apiKey   string
	language string
	client   *http.Client
}

// The provider's limits on what is read back: a verbose answer carries
// segments, so it is larger than the text, but not without bound.
const (
	maxTranscriptAnswer = 8 << 20
	maxErrorAnswer      = 64 << 10
)

// NewTranscriber returns a transcriber for cfg; a nil client is one bounded
// by cfg.Timeout.
func NewTranscriber(cfg TranscriberConfig, client *http.Client) *Transcriber {
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = "https://api.openai.com/v1"
	}
	t := &Transcriber{
		endpoint: base + "/audio/transcriptions",
		model:    cfg.Model,
		apiKey:   cfg.APIKey,
		language: cfg.Language,
		client:   client,
	}
	if t.model == "" {
		t.model = "whisper-1"
	}
	if t.language == "" {
		t.language = "pt"
	}
	if t.client == nil {
		timeout := cfg.Timeout
		if timeout <= 0 {
			timeout = time.Minute
		}
		t.client = &http.Client{Timeout: timeout}
	}
	return t
}

// Model is the model that transcribes, so a transcript can be recorded with
// what made it.
func (t *Transcriber) Model() string { return t.model }

// Transcribe sends audio (fileName, of type mime) to the provider and returns
// what it heard. The file is streamed, never held whole in memory, and is
// read to its end or until the request fails; Transcribe does not return
// while it is still reading. The provider tells the format by the file
// name's extension, so a name without one (WhatsApp voice notes have none)
// gets the extension of mime. Errors wrap ErrTranscriptionRefused when
// retrying cannot help.
func (t *Transcriber) Transcribe(ctx context.Context, audio io.Reader, fileName, mime string) (Transcript, error) {
	if mime == "" {
		mime = "application/octet-stream"
	}
	fileName = audioFileName(fileName, mime)
	pr, pw := io.Pipe()
	form := multipart.NewWriter(pw)
	var writeErr error // the body's own failure, read after written is closed
	written := make(chan struct{})
	go func() {
		defer close(written)
		writeErr = t.writeForm(form, audio, fileName, mime)
		_ = pw.CloseWithError(writeErr)
	}()
	// The body is closed (and the writer stopped) however the request ends,
	// and the audio is no longer read once Transcribe returns.
	defer func() {
		_ = pr.Close()
		<-written
	}()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, pr)
	if err != nil {
		return Transcript{}, fmt.Errorf("transcribe %s: %w", fileName, err)
	}
	req.Header.Set("Content-Type", form.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	if t.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+t.apiKey)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		_ = pr.Close()
		<-written
		if writeErr != nil && !errors.Is(writeErr, io.ErrClosedPipe) && ctx.Err() == nil {
			return Transcript{}, fmt.Errorf("transcribe %s: %w", fileName, writeErr)
		}
		return Transcript{}, fmt.Errorf("transcribe %s: %w", fileName, err)
	}
	defer func() { _ = resp.Body.Close() }()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorAnswer))
		err := fmt.Errorf("HTTP %d: %s", resp.StatusCode, t.providerMessage(body, resp.StatusCode))
		if refused(resp.StatusCode) {
			err = fmt.Errorf("%w: %w", ErrTranscriptionRefused, err)
		}
		return Transcript{}, fmt.Errorf("transcribe %s with %s: %w", fileName, t.model, err)
	}
	var answer struct {
		Text     *string  `json:"text"`
		Language string   `json:"language"`
		Duration *float64 `json:"duration"`
		Usage    struct {
			Type    string  `json:"type"`
			Seconds float64 `json:"seconds"`
		} `json:"usage"`
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTranscriptAnswer+1))
	if err != nil {
		return Transcript{}, fmt.Errorf("transcribe %s: read the answer: %w", fileName, err)
	}
	if len(body) > maxTranscriptAnswer {
		return Transcript{}, fmt.Errorf("transcribe %s: answer over %d bytes", fileName, maxTranscriptAnswer)
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return Transcript{}, fmt.Errorf("transcribe %s: the answer is not a transcription: %w", fileName, err)
	}
	if answer.Text == nil {
		return Transcript{}, fmt.Errorf("transcribe %s: the answer has no text", fileName)
	}
	tr := Transcript{Text: strings.TrimSpace(*answer.Text), Language: answer.Language}
	if tr.Language == "" {
		tr.Language = t.language
	}
	switch {
	case answer.Duration != nil:
		tr.Duration = seconds(*answer.Duration)
	case answer.Usage.Type == "duration":
		tr.Duration = seconds(answer.Usage.Seconds)
	}
	return tr, nil
}

// writeForm writes the request's fields, then the file, and closes the form.
func (t *Transcriber) writeForm(form *multipart.Writer, audio io.Reader, fileName, mime string) error {
	fields := [][2]string{
		{"model", t.model},
		{"language", t.language},
		{"response_format", t.responseFormat()},
	}
	for _, f := range fields {
		if err := form.WriteField(f[0], f[1]); err != nil {
			return fmt.Errorf("write the form: %w", err)
		}
	}
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", multipart.FileContentDisposition("file", fileName))
	h.Set("Content-Type", mime)
	part, err := form.CreatePart(h)
	if err != nil {
		return fmt.Errorf("write the form: %w", err)
	}
	if _, err := io.Copy(part, readErr{audio}); err != nil {
		return err
	}
	if err := form.Close(); err != nil {
		return fmt.Errorf("write the form: %w", err)
	}
	return nil
}

// readErr tells a failure to read the audio from a failure to send it.
type readErr struct{ r io.Reader }

func (r readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("read the audio: %w", err)
	}
	return n, err
}

// responseFormat asks for verbose_json, which also says the language and
// duration; OpenAI's gpt-4o transcription models refuse it and answer json.
func (t *Transcriber) responseFormat() string {
	if strings.HasPrefix(t.model, "gpt-") {
		return "json"
	}
	return "verbose_json"
}

// providerMessage is what the provider said went wrong (its error.message,
// or the start of its answer), clipped, and never with the key in it.
func (t *Transcriber) providerMessage(body []byte, status int) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := ""
	if json.Unmarshal(body, &e) == nil {
		msg = e.Error.Message
	}
	if msg == "" && !json.Valid(body) {
		msg = string(body)
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if t.apiKey != "" {
		msg = strings.ReplaceAll(msg, t.apiKey, "[key]")
	}
	if msg == "" {
		return http.StatusText(status)
	}
	return clipMessage(msg, 200)
}

// refused says a status will not change with retrying: the 4xx answers
// except a timeout and a rate limit.
func refused(status int) bool {
	return status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests
}

func clipMessage(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func seconds(s float64) time.Duration {
	if s <= 0 {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}

// audioExtensions are the formats OpenAI-compatible servers take, by the
// types messaging platforms label them with.
var audioExtensions = map[string]string{
	"audio/ogg":    ".ogg",
	"audio/opus":   ".ogg",
	"audio/mpeg":   ".mp3",
	"audio/mp3":    ".mp3",
	"audio/mp4":    ".m4a",
	"audio/m4a":    ".m4a",
	"audio/x-m4a":  ".m4a",
	"audio/wav":    ".wav",
	"audio/x-wav":  ".wav",
	"audio/wave":   ".wav",
	"audio/webm":   ".webm",
	"audio/flac":   ".flac",
	"audio/x-flac": ".flac",
	"video/mp4":    ".mp4",
	"video/webm":   ".webm",

	"application/ogg": ".ogg", // what a type sniffer calls any Ogg file
}

// audioFileName is the name the file is sent under: the one it came with,
// given the extension of its type when it has none.
func audioFileName(name, mime string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "audio"
	}
	if path.Ext(name) != "" {
		return name
	}
	base, _, _ := strings.Cut(mime, ";")
	return name + audioExtensions[strings.ToLower(strings.TrimSpace(base))]
}
