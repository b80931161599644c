package channels

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"time"

	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/memory"
)

// SendError is a platform's refusal. Retryable ones (5xx, 429, network) are
// tried again, after RetryAfter when the platform says; the rest are final.
type SendError struct {
	Status     int
	Retryable  bool
	RetryAfter time.Duration
	Reason     string
}

// Error says what the platform refused, with its HTTP status when it answered.
func (e *SendError) Error() string {
	if e.Status == 0 {
		return "send failed: " + e.Reason
	}
	return fmt.Sprintf("send failed with HTTP %d: %s", e.Status, e.Reason)
}

// PlatformMessage is one rendered message for one recipient.
type PlatformMessage struct {
	To       string
	Text     string
	HTML     string
	Media    *memory.Media
	Template *Template
	Tag      string // Instagram's HUMAN_AGENT
	ReplyTo  string // platform id of the message answered
	Subject  string // e-mail
	Thread   *EmailThread
}

// Template is an approved WhatsApp template with its body parameters.
type Template struct {
	Name     string   `json:"name"`
	Language string   `json:"language"`
	Params   []string `json:"params,omitempty"`
}

// Transport delivers a message on one platform and returns the platform's id for it.
type Transport interface {
	Send(ctx context.Context, ch Channel, m PlatformMessage) (string, error)
}

// Platforms is the Transport of the platforms' own APIs: each kind's Adapter
// sends, through the plumbing Platforms holds (the HTTP client under the
// outbound policy, the MailSender, the WebchatNotifier).
type Platforms struct {
	adapters *Registry
	client   *http.Client
	mail     MailSender
	webchat  WebchatNotifier
}

// WebchatNotifier wakes the streams of a notify topic on every replica
// (notify.Hub); the webchat sends by waking its visitor's WebchatTopic.
type WebchatNotifier interface {
	Notify(ctx context.Context, topic string) error
}

// MailSender sends an e-mail reply on an e-mail channel.
type MailSender interface {
	SendMail(ctx context.Context, ch Channel, m PlatformMessage) (string, error)
}

// NewPlatforms returns the transport; mail sends e-mail (SMTP in production)
// and webchat wakes webchat streams. Either may be nil when not served. A
// channel's base_url is the tenant's to set, so every request is dialed
// under the outbound policy (the zero Policy: public addresses only).
func NewPlatforms(policy outbound.Policy, mail MailSender, webchat WebchatNotifier) *Platforms {
	return &Platforms{adapters: builtin, client: policy.Client(30 * time.Second), mail: mail, webchat: webchat}
}

// mediaDownloadTimeout bounds one file download, body included: a 25 MB
// video from a slow CDN needs more than a message's 30 seconds (the media
// job's own timeout is 70).
const mediaDownloadTimeout = 65 * time.Second

// NewMediaPlatforms is NewPlatforms for the media job: the same policy, a
// client whose timeout fits a whole file.
func NewMediaPlatforms(policy outbound.Policy) *Platforms {
	return &Platforms{adapters: builtin, client: policy.Client(mediaDownloadTimeout)}
}

// Send hands the message to the adapter of the channel's kind.
func (h *Platforms) Send(ctx context.Context, ch Channel, m PlatformMessage) (string, error) {
	a, ok := h.adapters.Adapter(ch.Kind)
	if !ok {
		return "", &SendError{Reason: fmt.Sprintf("%s channels are not sent over HTTP", ch.Kind)}
	}
	return a.Send(ctx, h, ch, m)
}

func baseURL(ch Channel, def string) string {
	if u := ch.Settings["base_url"]; u != "" {
		return strings.TrimRight(u, "/")
	}
	return def
}

// withoutPath says what went wrong with a request without its URL's path and
// query: Telegram puts the bot token in the path, and this text reaches the
// log, River's job errors and the timeline.
func withoutPath(err error) string {
	var ue *neturl.Error
	if !errors.As(err, &ue) {
		return err.Error()
	}
	where := "the platform"
	if u, perr := neturl.Parse(ue.URL); perr == nil && u.Host != "" {
		where = u.Scheme + "://" + u.Host
	}
	return fmt.Sprintf("%s %s: %v", ue.Op, where, ue.Err)
}

// maxPlatformAnswer bounds what is read of a platform's answer to a send.
const maxPlatformAnswer = 1 << 20

// postJSON posts body and decodes a 2xx answer into out; anything else is a *SendError.
func (h *Platforms) postJSON(ctx context.Context, url string, headers map[string]string, body, out any) error {
	return h.postJSONUpTo(ctx, url, headers, body, out, maxPlatformAnswer)
}

// postJSONUpTo is postJSON reading at most limit bytes of the answer; a
// longer 2xx answer is a *SendError saying so (never cut and misread).
func (h *Platforms) postJSONUpTo(ctx context.Context, url string, headers map[string]string, body, out any, limit int64) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return &SendError{Reason: "encode request: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return &SendError{Reason: "build request: the channel's base URL is not a valid URL"}
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := h.client.Do(req)
	if errors.Is(err, outbound.ErrBlocked) {
		// Retrying will not change the policy's mind.
		return &SendError{Reason: withoutPath(err)}
	}
	if err != nil {
		return &SendError{Retryable: true, Reason: withoutPath(err)}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if int64(len(answer)) > limit {
			return &SendError{Status: resp.StatusCode, Reason: fmt.Sprintf("the platform's answer is over %d bytes", limit)}
		}
		if err := json.Unmarshal(answer, out); err != nil {
			return &SendError{Status: resp.StatusCode, Reason: "unreadable answer: " + err.Error()}
		}
		return nil
	}
	se := &SendError{Status: resp.StatusCode, Reason: platformReason(answer),
		Retryable: resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		se.RetryAfter = time.Duration(secs) * time.Second
	}
	var tg struct {
		Parameters struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(answer, &tg) == nil {
		if se.RetryAfter == 0 && tg.Parameters.RetryAfter > 0 {
			se.RetryAfter = time.Duration(tg.Parameters.RetryAfter) * time.Second
		}
		// Graph reports throttling with HTTP 400 and these codes: they pass.
		if tg.Error != nil && graphThrottled[tg.Error.Code] {
			se.Retryable = true
		}
	}
	return se
}

// platformReason says why a platform refused a message without copying its
// answer: whatever a remote server wrote (an internal admin page, once a
// tenant could point base_url anywhere) never reaches the timeline or the
// log. What it keeps is the platform's numeric error code and, for the codes
// an attendant can act on, Atende's own words for them.
func platformReason(body []byte) string {
	var e struct {
		Error     json.RawMessage `json:"error"`
		ErrorCode int             `json:"error_code"` // Telegram
		Desc      string          `json:"description"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "the platform's answer is not JSON"
	}
	var graph struct {
		Code    int `json:"code"`
		Subcode int `json:"error_subcode"`
	}
	if len(e.Error) > 0 && json.Unmarshal(e.Error, &graph) == nil && graph.Code != 0 {
		reason := fmt.Sprintf("platform error code %d", graph.Code)
		if graph.Subcode != 0 {
			reason += fmt.Sprintf(" (subcode %d)", graph.Subcode)
		}
		if meaning := graphMeanings[graph.Code]; meaning != "" {
			reason += ": " + meaning
		}
		return reason
	}
	if e.ErrorCode != 0 {
		reason := fmt.Sprintf("platform error code %d", e.ErrorCode)
		desc := strings.ToLower(e.Desc)
		for _, m := range telegramMeanings {
			if strings.Contains(desc, m.phrase) {
				return reason + ": " + m.meaning
			}
		}
		return reason
	}
	return "no platform error code"
}

func waMediaKind(t string) string {
	switch t {
	case "image", "video", "audio", "document", "sticker":
		return t
	case "voice":
		return "audio"
	}
	return "document"
}

// IsRetryable reports whether an error from Send is worth another try.
func IsRetryable(err error) (bool, time.Duration) {
	var se *SendError
	if errors.As(err, &se) {
		return se.Retryable, se.RetryAfter
	}
	return true, 0
}
