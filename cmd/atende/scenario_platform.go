package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/atende/atende/internal/sign"
)

// What the platforms look like to a running Atende, shared by the scenario
// harness (atende eval) and the soak (atende soak): the channels they create
// through the REST API, pointed at a local sink, and the webhooks they sign
// as each platform does.

// platformKinds are the channel kinds a harness can drive, in the order soak
// customers are spread over them.
var platformKinds = []string{"whatsapp", "evolution", "instagram", "telegram", "webchat", "email", "chatwoot"}

// channelPlan says where the channels a harness creates send their replies.
type channelPlan struct {
	// Kinds to create, of platformKinds.
	Kinds []string
	// SinkURL is the base URL of the local platform APIs; kindPaths adds
	// "/<kind>" to it per channel, so the sink knows which platform it plays.
	SinkURL   string
	kindPaths bool
	// SMTPHost and SMTPPort, when set, are where e-mail replies go.
	SMTPHost, SMTPPort string
	// Extra settings for every channel (e.g. max_length).
	Settings map[string]string
	// Name prefixes each channel's name ("eval", "soak").
	Name string
}

// createChannels creates one channel per kind of the plan through the API,
// each with fresh secrets, and returns them by kind.
func (c *scenarioClient) createChannels(ctx context.Context, p channelPlan) (map[string]evalChannel, error) {
	run := randomHex(3)
	out := map[string]evalChannel{}
	for _, kind := range p.Kinds {
		base := p.SinkURL
		if p.kindPaths {
			base += "/" + kind
		}
		secret := p.Name + "-" + randomHex(12)
		ch := evalChannel{Secret: secret}
		var settings, secrets map[string]string
		switch kind {
		case "whatsapp":
			settings = map[string]string{"phone_number_id": p.Name + run, "base_url": base}
			secrets = map[string]string{"app_secret": secret, "verify_token": "v", "access_token": "t"}
		case "instagram":
			ch.PlatformID = "17841400" + run
			settings = map[string]string{"instagram_id": ch.PlatformID, "base_url": base}
			secrets = map[string]string{"app_secret": secret, "verify_token": "v", "access_token": "t"}
		case "telegram":
			settings = map[string]string{"base_url": base}
			secrets = map[string]string{"bot_token": "1:" + p.Name, "secret_token": secret}
		case "webchat":
			settings = map[string]string{}
			secrets = map[string]string{}
		case "email":
			settings = map[string]string{"provider": "postmark", "address": "atendimento@" + p.Name + ".atende.dev"}
			if p.SMTPHost != "" {
				settings["smtp_host"], settings["smtp_port"] = p.SMTPHost, p.SMTPPort
			}
			secrets = map[string]string{"inbound_token": secret}
		case "evolution":
			ch.PlatformID = p.Name + "-" + run
			settings = map[string]string{"instance": ch.PlatformID, "base_url": base}
			secrets = map[string]string{"apikey": secret}
		case "chatwoot":
			settings = map[string]string{"base_url": base, "account_id": "1"}
			secrets = map[string]string{"webhook_secret": secret, "api_access_token": "t"}
		default:
			return nil, fmt.Errorf("channel kind %q is not one of %v", kind, platformKinds)
		}
		for k, v := range p.Settings {
			settings[k] = v
		}
		var created struct{ ID string }
		if _, err := c.api(ctx, "POST", "/api/v1/channels", map[string]any{"kind": kind, "name": p.Name + " " + kind + " " + run,
			"settings": settings, "secrets": secrets}, &created); err != nil {
			if strings.Contains(err.Error(), "outbound_refused") {
				// The fake platforms listen on loopback, which a server refuses unless told.
				return nil, fmt.Errorf("create the %s channel: %w\n(this rig's platforms listen on loopback: start the server with ATENDE_OUTBOUND_ALLOW=127.0.0.0/8)", kind, err)
			}
			return nil, fmt.Errorf("create the %s channel: %w", kind, err)
		}
		ch.ID = created.ID
		out[kind] = ch
	}
	return out, nil
}

// writePlatformAnswer answers a send the way every platform's sender
// accepts: WhatsApp Cloud (messages[0].id), Instagram (message_id), Telegram
// (ok, result.message_id), Evolution (key.id) and Chatwoot (id).
func writePlatformAnswer(w http.ResponseWriter, n int64) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.sink%d"}],"recipient_id":"1","message_id":"m_sink%d",`+
		`"ok":true,"result":{"message_id":%d,"chat":{"id":1}},"key":{"id":"EVO%d"},"id":%d}`, n, n, n, n, n)
}

func metaSignature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// webhook is one platform delivery: where it goes and what it carries.
type webhook struct {
	Path    string
	Body    []byte
	Headers map[string]string
}

// webhookFor builds the delivery of a customer step as its platform signs
// and shapes it: id is the platform's message id, seq its update number
// (Telegram), at when the customer wrote. Webchat needs the visitor's
// session token (webchatSession).
func webhookFor(ch evalChannel, st ScenarioStep, id string, seq int, at time.Time, webchatToken string) (webhook, error) {
	path := "/webhooks/" + st.Channel + "/" + ch.ID
	metaSigned := func(body []byte) webhook {
		return webhook{Path: path, Body: body, Headers: map[string]string{"X-Hub-Signature-256": metaSignature(ch.Secret, body)}}
	}
	switch st.Channel {
	case "whatsapp":
		phone := fromString(st.From, "phone")
		body, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": "1", "changes": []any{map[string]any{
			"field": "messages", "value": map[string]any{"messaging_product": "whatsapp",
				"metadata": map[string]any{"display_phone_number": "551140028922", "phone_number_id": "eval"},
				"contacts": []any{map[string]any{"profile": map[string]any{"name": st.Name}, "wa_id": phone}},
				"messages": []any{map[string]any{"from": phone, "id": "wamid." + id, "timestamp": fmt.Sprint(at.Unix()), "type": "text",
					"text": map[string]any{"body": st.Text}}}}}}}}})
		return metaSigned(body), nil
	case "instagram":
		sender := fromString(st.From, "instagram_id")
		body, _ := json.Marshal(map[string]any{"object": "instagram", "entry": []any{map[string]any{"time": at.UnixMilli(), "id": ch.PlatformID,
			"messaging": []any{map[string]any{"sender": map[string]any{"id": sender}, "recipient": map[string]any{"id": ch.PlatformID},
				"timestamp": at.UnixMilli(), "message": map[string]any{"mid": "m." + id, "text": st.Text}}}}}})
		return metaSigned(body), nil
	case "telegram":
		uid := st.From["telegram_id"]
		from := map[string]any{"id": uid, "is_bot": false, "first_name": st.Name}
		if u := fromString(st.From, "username"); u != "" {
			from["username"] = u
		}
		body, _ := json.Marshal(map[string]any{"update_id": seq, "message": map[string]any{"message_id": seq, "from": from,
			"chat": map[string]any{"id": uid, "type": "private"}, "date": at.Unix(), "text": st.Text}})
		return webhook{Path: path, Body: body, Headers: map[string]string{"X-Telegram-Bot-Api-Secret-Token": ch.Secret}}, nil
	case "email":
		addr := fromString(st.From, "email")
		body, _ := json.Marshal(map[string]any{"FromName": st.Name, "From": addr, "FromFull": map[string]any{"Email": addr, "Name": st.Name},
			"To": "atendimento@eval.atende.dev", "Subject": st.Subject, "MessageID": id, "Date": at.Format(time.RFC1123Z),
			"TextBody": st.Text, "Headers": []any{map[string]any{"Name": "Message-ID", "Value": "<" + id + "@eval.atende.dev>"}}})
		return webhook{Path: path + "?token=" + ch.Secret, Body: body}, nil
	case "evolution":
		phone := fromString(st.From, "phone")
		body, _ := json.Marshal(map[string]any{"event": "messages.upsert", "instance": ch.PlatformID, "data": map[string]any{
			"key":      map[string]any{"remoteJid": phone + "@s.whatsapp.net", "fromMe": false, "id": "EVO" + id},
			"pushName": st.Name, "message": map[string]any{"conversation": st.Text}, "messageType": "conversation",
			"messageTimestamp": at.Unix()}, "date_time": at.UTC().Format(time.RFC3339)})
		return webhook{Path: path, Body: body, Headers: map[string]string{"apikey": ch.Secret}}, nil
	case "chatwoot":
		contact, _ := strconv.ParseInt(fromString(st.From, "chatwoot_id"), 10, 64)
		conv, _ := strconv.ParseInt(fromString(st.From, "conversation_id"), 10, 64)
		body, _ := json.Marshal(map[string]any{"event": "message_created", "id": seq, "content": st.Text, "message_type": "incoming",
			"private": false, "created_at": at.UTC().Format(time.RFC3339), "source_id": id, "content_type": "text",
			"sender":       map[string]any{"id": contact, "name": st.Name, "type": "contact"},
			"conversation": map[string]any{"id": conv}})
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		return webhook{Path: path, Body: body, Headers: map[string]string{"X-Chatwoot-Signature": sign.Signature(ch.Secret, ts, body),
			"X-Chatwoot-Timestamp": ts}}, nil
	case "webchat":
		body, _ := json.Marshal(map[string]any{"visitor_id": fromString(st.From, "webchat_id"), "client_id": id, "text": st.Text})
		return webhook{Path: "/webchat/" + ch.ID + "/messages", Body: body, Headers: map[string]string{"X-Webchat-Token": webchatToken}}, nil
	}
	return webhook{}, fmt.Errorf("channel %q is not supported", st.Channel)
}

// webchatSession opens the visitor's session as the widget does — sending
// the token this client already holds for the visitor, so a later step
// resumes it — and returns the visitor id the server gave and its token.
// The id is another one when the asked one is taken and this client has not
// its token (a first answer lost on the way, as in a killed server): a
// browser then goes on as that new visitor.
func (c *scenarioClient) webchatSession(ctx context.Context, ch evalChannel, st ScenarioStep) (visitorID, token string, err error) {
	visitor := fromString(st.From, "webchat_id")
	pre := map[string]any{"visitor_id": visitor, "name": st.Name}
	if e := fromString(st.From, "email"); e != "" {
		pre["email"] = e
	}
	raw, _ := json.Marshal(pre)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/webchat/"+ch.ID+"/sessions", bytes.NewReader(raw))
	if err != nil {
		return "", "", fmt.Errorf("webchat session: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	c.tokensMu.Lock()
	held := c.webchatTokens[visitor]
	c.tokensMu.Unlock()
	if held != "" {
		req.Header.Set("X-Webchat-Token", held)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("webchat session: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", "", &httpStatusError{what: "webchat session", status: resp.StatusCode, body: string(msg)}
	}
	var sess struct {
		VisitorID string `json:"visitor_id"`
		Token     string
	}
	if err := json.NewDecoder(resp.Body).Decode(&sess); err != nil {
		return "", "", fmt.Errorf("webchat session: %w", err)
	}
	c.tokensMu.Lock()
	if c.webchatTokens == nil {
		c.webchatTokens = map[string]string{}
	}
	c.webchatTokens[sess.VisitorID] = sess.Token
	c.tokensMu.Unlock()
	return sess.VisitorID, sess.Token, nil
}

// httpStatusError is a non-2xx answer, kept apart from network errors so a
// sender can tell what a platform would retry.
type httpStatusError struct {
	what   string
	status int
	body   string
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("%s: HTTP %d: %s", e.what, e.status, e.body)
}

// deliver posts a webhook once.
func (c *scenarioClient) deliver(ctx context.Context, wh webhook) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+wh.Path, bytes.NewReader(wh.Body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", wh.Path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range wh.Headers {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", wh.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return &httpStatusError{what: "webhook " + wh.Path, status: resp.StatusCode, body: string(raw)}
	}
	return nil
}
