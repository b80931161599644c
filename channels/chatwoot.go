package channels

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/atende/atende/memory"
)

// Chatwoot is a helpdesk many businesses already run; Atende plugs in as its
// agent bot or API-inbox webhook, reading message_created events and answering
// through Chatwoot's messages API.

type cwPayload struct {
	Event       string `json:"event"`
	ID          int64  `json:"id"`
	Content     string `json:"content"`
	MessageType any    `json:"message_type"` // "incoming" on webhooks, 0 inside conversation.messages
	Private     bool   `json:"private"`
	CreatedAt   string `json:"created_at"`
	SourceID    string `json:"source_id"`
	Sender      struct {
		ID               int64          `json:"id"`
		Name             string         `json:"name"`
		Email            *string        `json:"email"`
		PhoneNumber      *string        `json:"phone_number"`
		Identifier       *string        `json:"identifier"`
		CustomAttributes map[string]any `json:"custom_attributes"`
		Type             string         `json:"type"`
	} `json:"sender"`
	Conversation struct {
		ID int64 `json:"id"`
	} `json:"conversation"`
	Attachments []struct {
		FileType string `json:"file_type"`
		DataURL  string `json:"data_url"`
	} `json:"attachments"`
}

// ParseChatwoot reads a Chatwoot webhook. Only customers' public messages
// (message_created, incoming) become inbound messages; agents' messages and
// private notes are Chatwoot's own and are left out. A message that cannot be
// read is skipped (Batch.Skipped); only a body that is not a Chatwoot event
// at all is ErrMalformed.
func ParseChatwoot(body []byte) (Batch, error) {
	var env struct {
		Event string `json:"event"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Batch{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if env.Event == "" {
		return Batch{}, fmt.Errorf("%w: no event", ErrMalformed)
	}
	b := Batch{Messages: []Inbound{}, Statuses: []Status{}}
	if env.Event != "message_created" {
		return b, nil
	}
	var p cwPayload
	if err := json.Unmarshal(body, &p); err != nil {
		b.skip(rawID(body, "id"), fmt.Errorf("message_created: %w", err))
		return b, nil
	}
	incoming := p.MessageType == "incoming" || p.MessageType == float64(0)
	if !incoming || p.Private {
		return b, nil
	}
	if p.ID == 0 || p.Conversation.ID == 0 {
		b.skip(rawID(body, "id"), fmt.Errorf("%w: message without id or conversation", ErrMalformed))
		return b, nil
	}
	in := Inbound{ExternalID: strconv.FormatInt(p.ID, 10), Type: "text", Text: p.Content, From: Sender{Name: p.Sender.Name}}
	if t, err := time.Parse(time.RFC3339, p.CreatedAt); err == nil {
		in.At = t.UTC()
	}
	add := func(kind memory.IdentityKind, v *string) {
		if v == nil || *v == "" {
			return
		}
		value := *v
		if kind == memory.KindWhatsApp {
			value, _, _ = strings.Cut(value, "@")
		}
		if id, err := memory.NormalizeIdentity(kind, value); err == nil {
			for _, have := range in.From.Identities {
				if have == id {
					return
				}
			}
			in.From.Identities = append(in.From.Identities, id)
		}
	}
	add(memory.KindPhone, p.Sender.PhoneNumber)
	add(memory.KindEmail, p.Sender.Email)
	if p.Sender.Identifier != nil && strings.HasSuffix(*p.Sender.Identifier, "@s.whatsapp.net") {
		add(memory.KindWhatsApp, p.Sender.Identifier)
	}
	if cpf, ok := p.Sender.CustomAttributes["cpf"].(string); ok {
		add(memory.KindCPF, &cpf)
	}
	// The Chatwoot contact id keys the person when nothing else does.
	in.From.Identities = append(in.From.Identities, memory.Identity{Kind: memory.KindChatwoot, Value: strconv.FormatInt(p.Sender.ID, 10)})
	in.Chatwoot = &ChatwootRef{ConversationID: p.Conversation.ID}
	for _, a := range p.Attachments {
		in.Media = append(in.Media, memory.Media{Type: a.FileType, URL: a.DataURL})
	}
	b.Messages = append(b.Messages, in)
	return b, nil
}

// ChatwootRef is where in Chatwoot a message lives, so the answer goes back there.
type ChatwootRef struct {
	ConversationID int64 `json:"conversation_id"`
}

// VerifyChatwootSignature checks X-Chatwoot-Signature, the HMAC-SHA256 of
// "<X-Chatwoot-Timestamp>.<raw body>", and that the timestamp is recent.
// Retries keep their delivery id and are deduplicated by message id instead.
func VerifyChatwootSignature(secret string, body []byte, signature, timestamp string, now time.Time, maxAge time.Duration) error {
	if secret == "" || signature == "" || timestamp == "" {
		return fmt.Errorf("%w: missing X-Chatwoot-Signature or X-Chatwoot-Timestamp", ErrBadSignature)
	}
	got, err := hex.DecodeString(strings.TrimPrefix(signature, "sha256="))
	if err != nil {
		return fmt.Errorf("%w: X-Chatwoot-Signature is not hex", ErrBadSignature)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return fmt.Errorf("%w: X-Chatwoot-Signature does not match", ErrBadSignature)
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: X-Chatwoot-Timestamp is not unix seconds", ErrBadSignature)
	}
	if age := now.Sub(time.Unix(secs, 0)); age > maxAge || age < -maxAge {
		return fmt.Errorf("%w: X-Chatwoot-Timestamp is %s away from now (replay?)", ErrBadSignature, age.Round(time.Second))
	}
	return nil
}

// chatwootMaxAge is how far a Chatwoot timestamp may be from now.
const chatwootMaxAge = 5 * time.Minute

// chatwoot is the adapter of a Chatwoot inbox, Atende as its bot.
type chatwoot struct{}

// Kind is KindChatwoot.
func (chatwoot) Kind() Kind { return KindChatwoot }

// Capabilities: where the Chatwoot runs, its account, the webhook's secret
// and an API token.
func (chatwoot) Capabilities() Capabilities {
	return Capabilities{RequiredSettings: []string{"base_url", "account_id"}, RequiredSecrets: []string{"webhook_secret", "api_access_token"}}
}

// Open checks X-Chatwoot-Signature and its timestamp, and parses the event.
func (chatwoot) Open(_ context.Context, ch Channel, d Delivery, _ Replays) (Batch, error) {
	if err := VerifyChatwootSignature(ch.Secret("webhook_secret"), d.Body, d.Header.Get("X-Chatwoot-Signature"),
		d.Header.Get("X-Chatwoot-Timestamp"), d.Now, chatwootMaxAge); err != nil {
		return Batch{}, err
	}
	return ParseChatwoot(d.Body)
}

// Rules follow the tone of the conversation's own channel; no window.
func (chatwoot) Rules() Rules {
	return Rules{Kind: KindChatwoot, MaxLength: 4000, Format: FormatMarkdown, ResponseTime: 15 * time.Minute,
		Tone:       "Chatwoot: siga o tom do canal de origem da conversa; claro e cordial.",
		Collection: CollectOneQuestion, Templates: ptTemplates()}
}

// Address: a Chatwoot reply is addressed to a conversation, not to one of
// the contact's identities (Reply finds it).
func (chatwoot) Address([]memory.Identity) (string, bool) { return "", true }

// Reply goes to the Chatwoot conversation the customer last wrote in.
func (chatwoot) Reply(m PlatformMessage, c ReplyContext) (PlatformMessage, string) {
	var p struct {
		Chatwoot *ChatwootRef `json:"chatwoot"`
	}
	if json.Unmarshal(c.Last.Payload, &p) != nil || p.Chatwoot == nil {
		return m, "no Chatwoot conversation to answer in"
	}
	m.To = strconv.FormatInt(p.Chatwoot.ConversationID, 10)
	return m, ""
}

// Send posts an outgoing message to the Chatwoot conversation (m.To).
func (chatwoot) Send(ctx context.Context, via *Platforms, ch Channel, m PlatformMessage) (string, error) {
	body := map[string]any{"content": m.Text, "message_type": "outgoing", "private": false, "content_type": "text", "content_attributes": map[string]any{}}
	var out struct {
		ID int64 `json:"id"`
	}
	url := baseURL(ch, "") + "/api/v1/accounts/" + ch.Settings["account_id"] + "/conversations/" + m.To + "/messages"
	if err := via.postJSON(ctx, url, map[string]string{"api_access_token": ch.Secret("api_access_token")}, body, &out); err != nil {
		return "", err
	}
	if out.ID == 0 {
		return "", &SendError{Reason: "Chatwoot answered without a message id"}
	}
	return strconv.FormatInt(out.ID, 10), nil
}
