package channels

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/atende/atende/memory"
)

type tgUser struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Username  string `json:"username"`
}

type tgFile struct {
	FileID   string `json:"file_id"`
	MimeType string `json:"mime_type"`
	FileName string `json:"file_name"`
	Duration int    `json:"duration"`
}

type tgMessage struct {
	MessageID int64  `json:"message_id"`
	From      tgUser `json:"from"`
	Chat      struct {
		ID   int64  `json:"id"`
		Type string `json:"type"`
	} `json:"chat"`
	Date           int64      `json:"date"`
	EditDate       int64      `json:"edit_date"`
	Text           string     `json:"text"`
	Caption        string     `json:"caption"`
	Photo          []tgFile   `json:"photo"`
	Voice          *tgFile    `json:"voice"`
	Audio          *tgFile    `json:"audio"`
	Video          *tgFile    `json:"video"`
	Document       *tgFile    `json:"document"`
	Sticker        *tgFile    `json:"sticker"`
	ReplyToMessage *tgMessage `json:"reply_to_message"`
	Location       *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
	} `json:"location"`
	Venue *struct {
		Location struct {
			Latitude  float64 `json:"latitude"`
			Longitude float64 `json:"longitude"`
		} `json:"location"`
		Title   string `json:"title"`
		Address string `json:"address"`
	} `json:"venue"`
	Contact *struct {
		PhoneNumber string `json:"phone_number"`
		FirstName   string `json:"first_name"`
		LastName    string `json:"last_name"`
	} `json:"contact"`
}

type tgUpdate struct {
	UpdateID        int64      `json:"update_id"`
	Message         *tgMessage `json:"message"`
	EditedMessage   *tgMessage `json:"edited_message"`
	MessageReaction *struct {
		Chat struct {
			ID   int64  `json:"id"`
			Type string `json:"type"`
		} `json:"chat"`
		MessageID   int64  `json:"message_id"`
		User        tgUser `json:"user"`
		Date        int64  `json:"date"`
		NewReaction []struct {
			Type  string `json:"type"`
			Emoji string `json:"emoji"`
		} `json:"new_reaction"`
	} `json:"message_reaction"`
	CallbackQuery *struct {
		ID      string     `json:"id"`
		From    tgUser     `json:"from"`
		Message *tgMessage `json:"message"`
		Data    string     `json:"data"`
	} `json:"callback_query"`
}

// VerifyTelegramSecret compares X-Telegram-Bot-Api-Secret-Token, which
// Telegram sends on every webhook after setWebhook with secret_token, in constant time.
func VerifyTelegramSecret(secret, header string) error {
	if secret == "" || header == "" {
		return fmt.Errorf("%w: missing X-Telegram-Bot-Api-Secret-Token", ErrBadSignature)
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(header)) != 1 {
		return fmt.Errorf("%w: X-Telegram-Bot-Api-Secret-Token does not match", ErrBadSignature)
	}
	return nil
}

// tgMessageID is a message's external id: Telegram numbers messages per chat.
func tgMessageID(chat, message int64) string {
	return strconv.FormatInt(chat, 10) + ":" + strconv.FormatInt(message, 10)
}

// ParseTelegram reads a Telegram Bot API Update. Bots and channels are
// skipped; a group message carries its group (the channel's policy decides);
// an edit is an annotation of the message it changes.
func ParseTelegram(body []byte) (Batch, error) {
	var u tgUpdate
	if err := json.Unmarshal(body, &u); err != nil {
		return Batch{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if u.UpdateID == 0 {
		return Batch{}, fmt.Errorf("%w: no update_id", ErrMalformed)
	}
	b := Batch{Messages: []Inbound{}, Statuses: []Status{}}
	switch {
	case u.Message != nil:
		if in, ok := tgInbound(u.Message); ok {
			b.Messages = append(b.Messages, in)
		}
	case u.EditedMessage != nil:
		// An edit is about the message it changes: shown on it, not answered.
		if in, ok := tgInbound(u.EditedMessage); ok {
			at := in.At
			if u.EditedMessage.EditDate != 0 {
				at = time.Unix(u.EditedMessage.EditDate, 0).UTC()
			}
			b.Annotations = append(b.Annotations, Annotation{ExternalID: "edit:" + strconv.FormatInt(u.UpdateID, 10), Target: in.ExternalID,
				Kind: AnnotationEdit, From: in.From, At: at, Text: in.Text, Media: in.Media, Group: in.Group})
		}
	case u.MessageReaction != nil:
		// a reaction is about the message it is on; an empty new set removes it
		r := u.MessageReaction
		if r.User.ID == 0 || r.User.IsBot {
			break
		}
		a := Annotation{ExternalID: "reaction:" + strconv.FormatInt(u.UpdateID, 10), Target: tgMessageID(r.Chat.ID, r.MessageID),
			Kind: AnnotationReaction, From: tgSender(r.User), At: time.Unix(r.Date, 0).UTC()}
		for _, nr := range r.NewReaction {
			if nr.Emoji != "" {
				a.Emoji += nr.Emoji
			}
		}
		if a.Emoji == "" && len(r.NewReaction) > 0 {
			a.Emoji = "★" // a custom-emoji or paid reaction: there is one, without an emoji to show
		}
		if r.Chat.Type != "private" {
			a.Group = strconv.FormatInt(r.Chat.ID, 10)
		}
		b.Annotations = append(b.Annotations, a)
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		if q.From.IsBot || q.From.ID == 0 {
			break
		}
		in := Inbound{ExternalID: "callback:" + q.ID, Type: "interactive", Text: q.Data,
			From:           tgSender(q.From),
			MessageContext: MessageContext{Choice: &Choice{Kind: "callback", ID: q.Data}}}
		if q.Message != nil {
			in.At = time.Unix(q.Message.Date, 0).UTC()
			in.ReplyTo = &Reply{ExternalID: tgMessageID(q.Message.Chat.ID, q.Message.MessageID), Text: q.Message.Text}
		}
		b.Messages = append(b.Messages, in)
	}
	return b, nil
}

func tgSender(u tgUser) Sender {
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if name == "" {
		name = u.Username
	}
	return Sender{Name: name, Username: u.Username, Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: strconv.FormatInt(u.ID, 10)}}}
}

func tgInbound(m *tgMessage) (Inbound, bool) {
	if m.From.IsBot || m.From.ID == 0 || m.Chat.Type == "channel" {
		return Inbound{}, false
	}
	in := Inbound{ExternalID: tgMessageID(m.Chat.ID, m.MessageID), At: time.Unix(m.Date, 0).UTC(),
		From: tgSender(m.From), Type: "text", Text: m.Text}
	if m.Chat.Type != "private" {
		in.Group = strconv.FormatInt(m.Chat.ID, 10) // the channel's group policy decides
	}
	media := func(kind string, f *tgFile) {
		in.Type = kind
		in.Text = m.Caption
		in.Media = append(in.Media, memory.Media{Type: kind, MIME: f.MimeType, PlatformID: f.FileID, Caption: m.Caption, FileName: f.FileName, Seconds: f.Duration})
	}
	switch {
	case len(m.Photo) > 0:
		// Sizes come smallest first; the last is the original.
		media("image", &m.Photo[len(m.Photo)-1])
	case m.Voice != nil:
		media("voice", m.Voice)
		in.Type = "audio"
	case m.Audio != nil:
		media("audio", m.Audio)
	case m.Video != nil:
		media("video", m.Video)
	case m.Document != nil:
		media("document", m.Document)
	case m.Sticker != nil:
		media("sticker", m.Sticker)
	case m.Venue != nil:
		v := m.Venue
		in.Type = "location"
		in.Location = &Location{Latitude: v.Location.Latitude, Longitude: v.Location.Longitude, Name: v.Title, Address: v.Address}
	case m.Location != nil:
		in.Type = "location"
		in.Location = &Location{Latitude: m.Location.Latitude, Longitude: m.Location.Longitude}
	case m.Contact != nil:
		in.Type = "contacts"
		in.Contacts = []SharedContact{{Name: strings.TrimSpace(m.Contact.FirstName + " " + m.Contact.LastName), Phones: []string{m.Contact.PhoneNumber}}}
	}
	if r := m.ReplyToMessage; r != nil {
		in.ReplyTo = &Reply{ExternalID: tgMessageID(r.Chat.ID, r.MessageID), Text: r.Text}
	}
	return in, true
}

// defaultTelegramURL is the Bot API, unless settings.base_url says otherwise.
const defaultTelegramURL = "https://api.telegram.org"

// telegram is the Telegram Bot API adapter.
// Its replies need nothing but the address (asIs).
type telegram struct{ asIs }

// Kind is KindTelegram.
func (telegram) Kind() Kind { return KindTelegram }

// Capabilities: the bot's token and the secret token Telegram signs
// webhooks with (generated, and handed to Telegram by setWebhook).
func (telegram) Capabilities() Capabilities {
	return Capabilities{RequiredSecrets: []string{"bot_token", "secret_token"}}
}

// Open checks X-Telegram-Bot-Api-Secret-Token and parses the update.
func (telegram) Open(_ context.Context, ch Channel, d Delivery, _ Replays) (Batch, error) {
	if err := VerifyTelegramSecret(ch.Secret("secret_token"), d.Header.Get("X-Telegram-Bot-Api-Secret-Token")); err != nil {
		return Batch{}, err
	}
	return ParseTelegram(d.Body)
}

// Rules: HTML formatting, no messaging window.
func (telegram) Rules() Rules {
	return Rules{Kind: KindTelegram, MaxLength: 4096, Format: FormatHTML, ResponseTime: 15 * time.Minute,
		Tone:       "Telegram: comunidade e suporte, direto e prestativo.",
		Collection: CollectInline, Templates: ptTemplates()}
}

// Address is the contact's Telegram chat id.
func (telegram) Address(ids []memory.Identity) (string, bool) {
	return identityOf(ids, memory.KindTelegram)
}

// Send calls sendMessage, or the send method of the media's type.
func (telegram) Send(ctx context.Context, via *Platforms, ch Channel, m PlatformMessage) (string, error) {
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
	if err := via.postJSON(ctx, url, nil, body, &out); err != nil {
		return "", err
	}
	if !out.OK || out.Result.MessageID == 0 {
		return "", &SendError{Reason: "Telegram answered without a message"}
	}
	return tgMessageID(chatID, out.Result.MessageID), nil
}

// SetTelegramWebhook registers url with Telegram's setWebhook for the bot of
// the channel, with the channel's secret token, so Telegram signs every
// update it sends there.
func (h *Platforms) SetTelegramWebhook(ctx context.Context, ch Channel, url string) error {
	if ch.Kind != KindTelegram {
		return fmt.Errorf("%w: channel %s is %s, not telegram", ErrInvalidConfig, ch.ID, ch.Kind)
	}
	if !strings.HasPrefix(url, "https://") {
		return fmt.Errorf("%w: Telegram only calls https webhooks, got %q", ErrInvalidConfig, url)
	}
	body := map[string]any{
		"url":             url,
		"secret_token":    ch.Secret("secret_token"),
		"allowed_updates": []string{"message", "edited_message", "callback_query", "message_reaction"},
		"max_connections": 40,
	}
	var out struct {
		OK          bool   `json:"ok"`
		Description string `json:"description"`
	}
	endpoint := baseURL(ch, defaultTelegramURL) + "/bot" + ch.Secret("bot_token") + "/setWebhook"
	if err := h.postJSON(ctx, endpoint, nil, body, &out); err != nil {
		return fmt.Errorf("telegram setWebhook: %w", err)
	}
	if !out.OK {
		return fmt.Errorf("telegram setWebhook refused: %s", out.Description)
	}
	return nil
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
