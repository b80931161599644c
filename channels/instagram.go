package channels

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/atende/atende/memory"
)

// igPayload is the Instagram Messaging webhook envelope; entries and their
// messaging items are read one by one, so one of an unexpected shape is
// skipped alone.
type igPayload struct {
	Object string            `json:"object"`
	Entry  []json.RawMessage `json:"entry"`
}

type igEntry struct {
	ID        string            `json:"id"`
	Time      int64             `json:"time"` // milliseconds`
	Messaging []json.RawMessage `json:"messaging"`
	Changes   []struct {
		Field string          `json:"field"`
		Value json.RawMessage `json:"value"`
	} `json:"changes"`
}

// igComment is a comment on a post or an ad (field "comments").
type igComment struct {
	ID   string `json:"id"`
	Text string `json:"text"`
	From struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"from"`
	Media struct {
		ID               string `json:"id"`
		AdID             string `json:"ad_id"`
		AdTitle          string `json:"ad_title"`
		MediaProductType string `json:"media_product_type"`
	} `json:"media"`
}

// igAttachment is a message's media, share, reel or sticker.
type igAttachment struct {
	Type    string `json:"type"`
	Payload struct {
		URL   string `json:"url"`
		Title string `json:"title"`
	} `json:"payload"`
}

// igReferral is the ad, post or ig.me link that opened the conversation.
type igReferral struct {
	Ref        string `json:"ref"`
	Source     string `json:"source"` // ADS, SHORTLINK
	Type       string `json:"type"`
	AdsContext *struct {
		AdTitle  string `json:"ad_title"`
		PhotoURL string `json:"photo_url"`
		VideoURL string `json:"video_url"`
		PostID   string `json:"post_id"`
	} `json:"ads_context_data"`
}

// referral is the referral in Atende's words.
func (r *igReferral) referral() *Referral {
	if r == nil {
		return nil
	}
	out := &Referral{Source: strings.ToLower(r.Source), SourceID: r.Ref}
	if c := r.AdsContext; c != nil {
		out.Headline, out.SourceID = c.AdTitle, cmp.Or(c.PostID, r.Ref)
		out.MediaURL = cmp.Or(c.PhotoURL, c.VideoURL)
	}
	return out
}

type igMessaging struct {
	Sender    struct{ ID string } `json:"sender"`
	Recipient struct{ ID string } `json:"recipient"`
	Timestamp int64               `json:"timestamp"`
	Referral  *igReferral         `json:"referral"`
	Reaction  *struct {
		MID    string `json:"mid"`
		Action string `json:"action"` // react, unreact
		Emoji  string `json:"emoji"`
	} `json:"reaction"`
	MessageEdit *struct {
		MID  string `json:"mid"`
		Text string `json:"text"`
	} `json:"message_edit"`
	Message *struct {
		MID         string         `json:"mid"`
		Referral    *igReferral    `json:"referral"`
		Text        string         `json:"text"`
		IsEcho      bool           `json:"is_echo"`
		IsDeleted   bool           `json:"is_deleted"`
		Attachments []igAttachment `json:"attachments"`
		QuickReply  *struct {
			Payload string `json:"payload"`
		} `json:"quick_reply"`
		ReplyTo *struct {
			MID   string `json:"mid"`
			Story *struct {
				URL string `json:"url"`
				ID  string `json:"id"`
			} `json:"story"`
		} `json:"reply_to"`
	} `json:"message"`
	Postback *struct {
		MID     string `json:"mid"`
		Title   string `json:"title"`
		Payload string `json:"payload"`
	} `json:"postback"`
	Read *struct {
		MID string `json:"mid"`
	} `json:"read"`
}

// ParseInstagram reads an Instagram Messaging webhook. Echoes of the
// business's own messages are marked FromBusiness (the customer is then the
// recipient); reads become "read" statuses. An item that cannot be read is
// skipped (Batch.Skipped) and the others are kept; only a body that is not
// the envelope at all is ErrMalformed.
func ParseInstagram(body []byte) (Batch, error) {
	var p igPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return Batch{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if p.Object != "instagram" {
		return Batch{}, fmt.Errorf("%w: object %q is not instagram", ErrMalformed, p.Object)
	}
	b := Batch{Messages: []Inbound{}, Statuses: []Status{}}
	for i, raw := range p.Entry {
		var e igEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			b.skip("", fmt.Errorf("entry %d: %w", i, err))
			continue
		}
		for _, raw := range e.Messaging {
			var m igMessaging
			if err := json.Unmarshal(raw, &m); err != nil {
				b.skip("", fmt.Errorf("messaging: %w", err))
				continue
			}
			igMessagingItem(&b, m)
		}
		for _, ch := range e.Changes {
			if ch.Field != "comments" {
				continue
			}
			var c igComment
			if err := json.Unmarshal(ch.Value, &c); err != nil || c.ID == "" || c.From.ID == "" {
				b.skip(c.ID, fmt.Errorf("%w: comment without id or author", ErrMalformed))
				continue
			}
			// A public comment: recorded for the attendant (who may answer it
			// in private), never answered by the bot in the DM it is not.
			b.Messages = append(b.Messages, Inbound{ExternalID: "comment:" + c.ID, Type: "comment", Text: c.Text, Quiet: true, At: time.UnixMilli(e.Time).UTC(),
				From:           Sender{Username: c.From.Username, Identities: []memory.Identity{{Kind: memory.KindInstagram, Value: c.From.ID}}},
				MessageContext: MessageContext{Comment: &Comment{ID: c.ID, MediaID: c.Media.ID, AdID: c.Media.AdID, AdTitle: c.Media.AdTitle}}})
		}
	}
	return b, nil
}

// igMessagingItem adds one messaging item to b: a message, a postback or a
// read; one that cannot be used is skipped.
func igMessagingItem(b *Batch, m igMessaging) {
	at := time.UnixMilli(m.Timestamp).UTC()
	switch {
	case m.Message != nil && m.Message.IsDeleted:
		customer, business := igCustomer(m)
		b.Annotations = append(b.Annotations, Annotation{ExternalID: "deleted:" + m.Message.MID, Target: m.Message.MID, Kind: AnnotationDelete, At: at,
			FromBusiness: business, From: Sender{Identities: []memory.Identity{{Kind: memory.KindInstagram, Value: customer}}}})
	case m.Message != nil && heartOnly(m.Message.Attachments):
		// A heart sticker is a like: on the message it answers, or on the
		// conversation; not a question for the bot.
		customer, business := igCustomer(m)
		a := Annotation{ExternalID: m.Message.MID, Kind: AnnotationReaction, Emoji: "❤️", At: at, FromBusiness: business,
			From: Sender{Identities: []memory.Identity{{Kind: memory.KindInstagram, Value: customer}}}}
		if r := m.Message.ReplyTo; r != nil {
			a.Target = r.MID
		}
		b.Annotations = append(b.Annotations, a)
	case m.Message != nil:
		in, err := igInbound(m, at)
		if err != nil {
			b.skip(m.Message.MID, err)
			return
		}
		b.Messages = append(b.Messages, in)
	case m.Postback != nil:
		if m.Sender.ID == "" {
			b.skip(m.Postback.MID, fmt.Errorf("%w: postback without sender", ErrMalformed))
			return
		}
		id := m.Postback.MID
		if id == "" {
			// Postbacks had no mid before Graph v11: an id made of what
			// the platform sends identically on a retry still dedupes it.
			id = fmt.Sprintf("postback:%s:%d:%s", m.Sender.ID, m.Timestamp, m.Postback.Payload)
		}
		b.Messages = append(b.Messages, Inbound{
			ExternalID: id, At: at, Type: "interactive", Text: m.Postback.Title,
			From:           Sender{Identities: []memory.Identity{{Kind: memory.KindInstagram, Value: m.Sender.ID}}},
			MessageContext: MessageContext{Choice: &Choice{Kind: "postback", ID: m.Postback.Payload, Title: m.Postback.Title}},
		})
	case m.Reaction != nil && m.Sender.ID != "":
		a := Annotation{ExternalID: fmt.Sprintf("reaction:%s:%d", m.Reaction.MID, m.Timestamp), Target: m.Reaction.MID, Kind: AnnotationReaction, At: at,
			From: Sender{Identities: []memory.Identity{{Kind: memory.KindInstagram, Value: m.Sender.ID}}}}
		if m.Reaction.Action != "unreact" {
			a.Emoji = cmp.Or(m.Reaction.Emoji, "❤️")
		}
		b.Annotations = append(b.Annotations, a)
	case m.MessageEdit != nil && m.Sender.ID != "":
		b.Annotations = append(b.Annotations, Annotation{ExternalID: fmt.Sprintf("edit:%s:%d", m.MessageEdit.MID, m.Timestamp), Target: m.MessageEdit.MID,
			Kind: AnnotationEdit, Text: m.MessageEdit.Text, At: at,
			From: Sender{Identities: []memory.Identity{{Kind: memory.KindInstagram, Value: m.Sender.ID}}}})
	case m.Referral != nil && m.Sender.ID != "":
		// the customer opened the conversation from an ad or an ig.me link,
		// before writing: recorded, so the first message has its origin
		r := m.Referral.referral()
		text := "Abriu a conversa por um link"
		if r.Source == "ads" {
			text = "Abriu a conversa pelo anúncio"
		}
		if r.Headline != "" {
			text += " «" + r.Headline + "»"
		}
		b.Messages = append(b.Messages, Inbound{ExternalID: fmt.Sprintf("referral:%s:%d", m.Sender.ID, m.Timestamp), At: at, Type: "referral", Quiet: true,
			Text:           text,
			From:           Sender{Identities: []memory.Identity{{Kind: memory.KindInstagram, Value: m.Sender.ID}}},
			MessageContext: MessageContext{Referral: r}})
	case m.Read != nil:
		b.Statuses = append(b.Statuses, Status{ExternalID: m.Read.MID, Status: "read", Recipient: m.Sender.ID, At: at})
	}
}

// igCustomer is who a message item is with: the sender, or on an echo of
// the business's own message the recipient (and it is the business's).
func igCustomer(m igMessaging) (id string, fromBusiness bool) {
	if m.Message != nil && m.Message.IsEcho {
		return m.Recipient.ID, true
	}
	return m.Sender.ID, false
}

// heartOnly is a message that is only a like_heart sticker.
func heartOnly(atts []igAttachment) bool {
	return len(atts) == 1 && atts[0].Type == "like_heart"
}

func igInbound(m igMessaging, at time.Time) (Inbound, error) {
	msg := m.Message
	customer := m.Sender.ID
	if msg.IsEcho {
		customer = m.Recipient.ID
	}
	if msg.MID == "" || customer == "" {
		return Inbound{}, fmt.Errorf("%w: message without mid or sender", ErrMalformed)
	}
	in := Inbound{ExternalID: msg.MID, At: at, Type: "text", Text: msg.Text, FromBusiness: msg.IsEcho,
		From: Sender{Identities: []memory.Identity{{Kind: memory.KindInstagram, Value: customer}}}}
	for _, a := range msg.Attachments {
		if a.Type == "story_mention" {
			in.Type = "story_mention"
			in.Story = &Story{Kind: "mention", URL: a.Payload.URL}
			continue
		}
		in.Type = a.Type
		in.Media = append(in.Media, memory.Media{Type: a.Type, URL: a.Payload.URL, Title: a.Payload.Title})
	}
	in.Referral = msg.Referral.referral()
	if msg.QuickReply != nil {
		in.Type = "interactive"
		in.Choice = &Choice{Kind: "quick_reply", ID: msg.QuickReply.Payload, Title: msg.Text}
	}
	if r := msg.ReplyTo; r != nil {
		if r.Story != nil {
			in.Story = &Story{Kind: "reply", ID: r.Story.ID, URL: r.Story.URL}
		} else if r.MID != "" {
			in.ReplyTo = &Reply{ExternalID: r.MID}
		}
	}
	return in, nil
}

// defaultInstagramURL is the Instagram Graph API replies are sent through,
// unless settings.base_url says otherwise.
const defaultInstagramURL = "https://graph.instagram.com/v21.0"

// instagram is the Instagram Messaging adapter.
// Its replies need nothing but the address (asIs).
type instagram struct{ asIs }

// Kind is KindInstagram.
func (instagram) Kind() Kind { return KindInstagram }

// Capabilities: the Meta app's secret and tokens, and the business account.
func (instagram) Capabilities() Capabilities {
	return Capabilities{RequiredSettings: []string{"instagram_id"}, RequiredSecrets: []string{"app_secret", "verify_token", "access_token"}}
}

// Open checks Meta's X-Hub-Signature-256 and parses the Instagram envelope.
func (instagram) Open(_ context.Context, ch Channel, d Delivery, _ Replays) (Batch, error) {
	if err := VerifyMetaSignature(ch.Secret("app_secret"), d.Body, d.Header.Get("X-Hub-Signature-256")); err != nil {
		return Batch{}, err
	}
	return ParseInstagram(d.Body)
}

// Rules: short DMs, a 24-hour window a human may stretch to 7 days with
// the HUMAN_AGENT tag.
func (instagram) Rules() Rules {
	return Rules{Kind: KindInstagram, MaxLength: 1000, Format: FormatPlain, ResponseTime: 15 * time.Minute,
		Tone:       "Instagram: curto, simpático, estilo vitrine + DM; use o contexto do post ou story quando houver.",
		Collection: CollectOneQuestion, Templates: ptTemplates(), Window: 24 * time.Hour, HumanWindow: 7 * 24 * time.Hour}
}

// Address is the contact's Instagram-scoped id.
func (instagram) Address(ids []memory.Identity) (string, bool) {
	return identityOf(ids, memory.KindInstagram)
}

// Send posts to the account's /messages, tagged when the window needs it.
func (instagram) Send(ctx context.Context, via *Platforms, ch Channel, m PlatformMessage) (string, error) {
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
	if err := via.postJSON(ctx, url, map[string]string{"Authorization": "Bearer " + ch.Secret("access_token")}, body, &out); err != nil {
		return "", err
	}
	if out.MessageID == "" {
		return "", &SendError{Reason: "Instagram answered without message_id"}
	}
	return out.MessageID, nil
}
