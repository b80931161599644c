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

	"github.com/google/uuid"

	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/memory"
)

// Default platform base URLs; every one is overridable per channel
// (settings.base_url), so tests and users behind proxies point them elsewhere.
const (
	defaultGraphURL     = "https://graph.facebook.com/v21.0"
	defaultInstagramURL = "https://graph.instagram.com/v21.0"
	defaultTelegramURL  = "https://api.telegram.org"
)

// SendError is a platform's refusal. Retryable ones (5xx, 429, network) are
// tried again, after RetryAfter when the platform says; the rest are final.
type SendError struct {
	Status     int
	Retryable  bool
	RetryAfter time.Duration
	Reason     string
}

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

// Platforms is the Transport of the platforms' own APIs: Graph (WhatsApp
// Cloud, Instagram), Evolution, Telegram, and e-mail through MailSender.
type Platforms struct {
	client  *http.Client
	mail    MailSender
	webchat WebchatNotifier
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
	return &Platforms{client: policy.Client(30 * time.Second), mail: mail, webchat: webchat}
}

// Send dispatches on the channel's kind.
func (h *Platforms) Send(ctx context.Context, ch Channel, m PlatformMessage) (string, error) {
	switch ch.Kind {
	case KindWhatsApp:
		return h.sendWhatsApp(ctx, ch, m)
	case KindEvolution:
		return h.sendEvolution(ctx, ch, m)
	case KindInstagram:
		return h.sendInstagram(ctx, ch, m)
	case KindTelegram:
		return h.sendTelegram(ctx, ch, m)
	case KindEmail:
		if h.mail == nil {
			return "", &SendError{Reason: "no mail sender configured"}
		}
		return h.mail.SendMail(ctx, ch, m)
	case KindChatwoot:
		return h.sendChatwoot(ctx, ch, m)
	case KindWebchat:
		if h.webchat == nil {
			return "", &SendError{Reason: "webchat is not served here"}
		}
		if err := h.webchat.Notify(ctx, WebchatTopic(ch.ID, m.To)); err != nil {
			return "", &SendError{Retryable: true, Reason: err.Error()}
		}
		return "webchat:" + uuid.NewString(), nil
	}
	return "", &SendError{Reason: fmt.Sprintf("%s channels are not sent over HTTP", ch.Kind)}
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

// postJSON posts body and decodes a 2xx answer into out; anything else is a *SendError.
func (h *Platforms) postJSON(ctx context.Context, url string, headers map[string]string, body, out any) error {
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
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
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

// graphThrottled are Graph API error codes that mean "not now" rather than
// "never": rate limits, pair rate limit (131056), spam rate limit.
var graphThrottled = map[int]bool{4: true, 80007: true, 130429: true, 131048: true, 131056: true}

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

// graphMeanings are the WhatsApp Cloud and Instagram error codes an attendant
// can do something about, in words of ours.
var graphMeanings = map[int]string{
	4: "rate limited", 80007: "rate limited", 130429: "rate limited", 131048: "rate limited", 131056: "rate limited",
	10:     "the access token lacks a permission",
	100:    "a parameter was refused",
	190:    "the access token is invalid or expired",
	200:    "the access token lacks a permission",
	368:    "the number is temporarily blocked for policy violations",
	551:    "this person cannot be reached now",
	131026: "the message could not be delivered to this number",
	131047: "more than 24 hours since the customer last wrote: only an approved template can be sent",
	131051: "the message type is not supported",
	131052: "the media could not be downloaded",
	131053: "the media could not be uploaded",
	132000: "the template's parameters do not match",
	132001: "the template does not exist in this language",
	133010: "the number is not registered on the Cloud API",
}

// telegramMeanings are Telegram refusals, recognised by a phrase of their
// description, in words of ours (the description itself is not kept).
var telegramMeanings = []struct{ phrase, meaning string }{
	{"bot was blocked by the user", "the customer blocked the bot"},
	{"chat not found", "the chat does not exist or never wrote to the bot"},
	{"user is deactivated", "the customer's account is deactivated"},
	{"unauthorized", "the bot token is invalid"},
	{"too many requests", "rate limited"},
	{"message is too long", "the message is too long"},
}

func (h *Platforms) sendWhatsApp(ctx context.Context, ch Channel, m PlatformMessage) (string, error) {
	body := map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": m.To}
	if isBSUID(m.To) {
		// a username sender without a phone is addressed by its business-scoped id
		delete(body, "to")
		body["recipient"] = m.To
	}
	switch {
	case m.Template != nil:
		params := make([]map[string]string, len(m.Template.Params))
		for i, p := range m.Template.Params {
			params[i] = map[string]string{"type": "text", "text": p}
		}
		tpl := map[string]any{"name": m.Template.Name, "language": map[string]string{"code": m.Template.Language}}
		if len(params) > 0 {
			tpl["components"] = []map[string]any{{"type": "body", "parameters": params}}
		}
		body["type"], body["template"] = "template", tpl
	case m.Media != nil:
		kind := waMediaKind(m.Media.Type)
		media := map[string]string{"link": m.Media.URL}
		if m.Text != "" && kind != "audio" && kind != "sticker" {
			media["caption"] = m.Text
		}
		body["type"], body[kind] = kind, media
	default:
		body["type"], body["text"] = "text", map[string]any{"preview_url": false, "body": m.Text}
	}
	if m.ReplyTo != "" {
		body["context"] = map[string]string{"message_id": m.ReplyTo}
	}
	var out struct {
		Messages []struct{ ID string } `json:"messages"`
	}
	url := baseURL(ch, defaultGraphURL) + "/" + ch.Settings["phone_number_id"] + "/messages"
	if err := h.postJSON(ctx, url, map[string]string{"Authorization": "Bearer " + ch.Secret("access_token")}, body, &out); err != nil {
		return "", err
	}
	if len(out.Messages) == 0 || out.Messages[0].ID == "" {
		return "", &SendError{Reason: "WhatsApp answered without a message id"}
	}
	return out.Messages[0].ID, nil
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

func (h *Platforms) sendEvolution(ctx context.Context, ch Channel, m PlatformMessage) (string, error) {
	base := baseURL(ch, "") + "/message/"
	headers := map[string]string{"apikey": ch.Secret("apikey")}
	var body map[string]any
	var url string
	if m.Media != nil {
		url = base + "sendMedia/" + ch.Settings["instance"]
		body = map[string]any{"number": m.To, "mediatype": waMediaKind(m.Media.Type), "media": m.Media.URL, "caption": m.Text}
	} else {
		url = base + "sendText/" + ch.Settings["instance"]
		body = map[string]any{"number": m.To, "text": m.Text, "linkPreview": false}
	}
	var out struct {
		Key struct{ ID string } `json:"key"`
	}
	if err := h.postJSON(ctx, url, headers, body, &out); err != nil {
		return "", err
	}
	if out.Key.ID == "" {
		return "", &SendError{Reason: "Evolution answered without key.id"}
	}
	return out.Key.ID, nil
}

func (h *Platforms) sendInstagram(ctx context.Context, ch Channel, m PlatformMessage) (string, error) {
	body := map[string]any{"recipient": map[string]string{"id": m.To}}
	if m.Media != nil {
		body["message"] = map[string]any{"attachment": map[string]any{"type": waMediaKind(m.Media.Type), "payload": map[string]string{"url": m.Media.URL}}}
	} else {
		body["message"] = map[string]string{"text": m.Text}
	}
	if m.Tag != "" {
		body["messaging_type"], body["tag"] = "MESSAGE_TAG", m.Tag
	}
	var out struct {
		MessageID string `json:"message_id"`
	}
	url := baseURL(ch, defaultInstagramURL) + "/" + ch.Settings["instagram_id"] + "/messages"
	if err := h.postJSON(ctx, url, map[string]string{"Authorization": "Bearer " + ch.Secret("access_token")}, body, &out); err != nil {
		return "", err
	}
	if out.MessageID == "" {
		return "", &SendError{Reason: "Instagram answered without message_id"}
	}
	return out.MessageID, nil
}

func (h *Platforms) sendTelegram(ctx context.Context, ch Channel, m PlatformMessage) (string, error) {
	chatID, err := strconv.ParseInt(m.To, 10, 64)
	if err != nil {
		return "", &SendError{Reason: fmt.Sprintf("telegram chat id %q is not a number", m.To)}
	}
	method := "sendMessage"
	body := map[string]any{"chat_id": chatID, "parse_mode": "HTML"}
	if m.Media != nil {
		method = map[string]string{"image": "sendPhoto", "video": "sendVideo", "audio": "sendAudio", "voice": "sendVoice"}[m.Media.Type]
		if method == "" {
			method = "sendDocument"
		}
		field := strings.ToLower(strings.TrimPrefix(method, "send"))
		body[field], body["caption"] = m.Media.URL, m.Text
	} else {
		body["text"] = m.Text
	}
	if _, msgID, ok := strings.Cut(m.ReplyTo, ":"); ok {
		if id, err := strconv.ParseInt(msgID, 10, 64); err == nil {
			body["reply_parameters"] = map[string]int64{"message_id": id}
		}
	}
	var out struct {
		OK     bool `json:"ok"`
		Result struct {
			MessageID int64 `json:"message_id"`
			Chat      struct {
				ID int64 `json:"id"`
			} `json:"chat"`
		} `json:"result"`
	}
	url := baseURL(ch, defaultTelegramURL) + "/bot" + ch.Secret("bot_token") + "/" + method
	if err := h.postJSON(ctx, url, nil, body, &out); err != nil {
		return "", err
	}
	if !out.OK || out.Result.MessageID == 0 {
		return "", &SendError{Reason: "Telegram answered without a message"}
	}
	return tgMessageID(chatID, out.Result.MessageID), nil
}

// IsRetryable reports whether an error from Send is worth another try.
func IsRetryable(err error) (bool, time.Duration) {
	var se *SendError
	if errors.As(err, &se) {
		return se.Retryable, se.RetryAfter
	}
	return true, 0
}

// sendChatwoot posts an outgoing message to the Chatwoot conversation (m.To).
func (h *Platforms) sendChatwoot(ctx context.Context, ch Channel, m PlatformMessage) (string, error) {
	body := map[string]any{"content": m.Text, "message_type": "outgoing", "private": false, "content_type": "text", "content_attributes": map[string]any{}}
	var out struct {
		ID int64 `json:"id"`
	}
	url := baseURL(ch, "") + "/api/v1/accounts/" + ch.Settings["account_id"] + "/conversations/" + m.To + "/messages"
	if err := h.postJSON(ctx, url, map[string]string{"api_access_token": ch.Secret("api_access_token")}, body, &out); err != nil {
		return "", err
	}
	if out.ID == 0 {
		return "", &SendError{Reason: "Chatwoot answered without a message id"}
	}
	return strconv.FormatInt(out.ID, 10), nil
}

// isBSUID is a WhatsApp business-scoped user id ("BR.13491208655302741918"):
// two capital letters and a dot, where a phone is digits only.
func isBSUID(s string) bool {
	return len(s) > 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] == '.'
}
