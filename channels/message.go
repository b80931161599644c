// Package channels turns each platform's webhooks into Atende's canonical
// inbound messages and delivery statuses, verifies that they came from the
// platform, stores them through the memory (Ingestor), and (in later work)
// renders and sends replies in each channel's style and rules. One adapter per
// channel. It owns the channels table: each account's configured instances.
package channels

import (
	"errors"
	"time"

	"github.com/atende/atende/memory"
)

// Kind is a channel adapter: the {kind} of /webhooks/{kind}/{channel_id}.
type Kind string

// The channel kinds Atende speaks.
const (
	KindWhatsApp  Kind = "whatsapp"  // WhatsApp Cloud API (Meta Graph)
	KindEvolution Kind = "evolution" // Evolution API, the WhatsApp Web gateway
	KindInstagram Kind = "instagram"
	KindTelegram  Kind = "telegram"
	KindWebchat   Kind = "webchat"
	KindEmail     Kind = "email"
	KindChatwoot  Kind = "chatwoot" // a Chatwoot inbox, Atende as its bot
)

// ErrMalformed is returned for a payload that is not the platform's shape;
// the webhook answers 400 so the sender sees its mistake.
var ErrMalformed = errors.New("malformed payload")

// ErrBadSignature is returned when a request does not prove it came from the
// platform (bad, missing or replayed signature or token); the webhook answers 401.
var ErrBadSignature = errors.New("bad signature")

// Batch is everything one webhook delivery carried: platforms batch several
// messages and statuses in one request.
type Batch struct {
	Messages []Inbound `json:"messages"`
	Statuses []Status  `json:"statuses"`
	// Skipped are the items the parser could not read; the rest of the
	// delivery is stored, and the platform is not asked to send it again.
	Skipped []Skipped `json:"skipped,omitempty"`
}

// Skipped is an item of a delivery that could not be used (no id, no usable
// sender, a timestamp that is not one, a shape the parser does not know),
// with the reason: it is reported, and never refuses the rest of its delivery.
type Skipped struct {
	ExternalID string `json:"external_id,omitempty"`
	Reason     string `json:"reason"`
}

// Sender is who wrote: the identities the platform gives (the first is the
// one the channel is keyed by) and the profile name, a weak signal.
type Sender struct {
	Identities []memory.Identity `json:"identities"`
	Name       string            `json:"name,omitempty"`
}

// Inbound is one message in Atende's words, whatever channel it came from.
type Inbound struct {
	ExternalID string         `json:"external_id"`
	From       Sender         `json:"from"`
	At         time.Time      `json:"at"`
	Type       string         `json:"type"`
	Text       string         `json:"text,omitempty"`
	Media      []memory.Media `json:"media,omitempty"`
	MessageContext
	// FromBusiness marks a message the business itself sent from the platform
	// (Evolution fromMe, Instagram echo): recorded as a human reply, never answered.
	FromBusiness bool `json:"from_business,omitempty"`
}

// MessageContext is what a message refers to beyond its text and media: the
// message it quotes, a place, contact cards, the button tapped, the story it
// answers, its e-mail thread, its Chatwoot conversation. It is stored with
// the message on the timeline.
type MessageContext struct {
	ReplyTo  *Reply          `json:"reply_to,omitempty"`
	Location *Location       `json:"location,omitempty"`
	Contacts []SharedContact `json:"contacts,omitempty"`
	Choice   *Choice         `json:"choice,omitempty"`
	Story    *Story          `json:"story,omitempty"`
	Email    *EmailThread    `json:"email,omitempty"`
	Chatwoot *ChatwootRef    `json:"chatwoot,omitempty"`
}

// Reply is the message this one quotes or answers.
type Reply struct {
	ExternalID string `json:"external_id"`
	Text       string `json:"text,omitempty"`
}

// Location is a shared place.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
}

// SharedContact is a contact card the customer sent.
type SharedContact struct {
	Name   string   `json:"name"`
	Phones []string `json:"phones,omitempty"`
	Emails []string `json:"emails,omitempty"`
}

// Choice is a button, list row, quick reply or postback the customer tapped.
type Choice struct {
	Kind  string `json:"kind"`
	ID    string `json:"id,omitempty"`
	Title string `json:"title,omitempty"`
}

// Story is the Instagram story a message replies to or mentions the business in.
type Story struct {
	Kind string `json:"kind"` // reply or mention
	ID   string `json:"id,omitempty"`
	URL  string `json:"url,omitempty"`
}

// EmailThread carries what threads an e-mail.
type EmailThread struct {
	Subject string `json:"subject,omitempty"`
	// Body is the whole text before quotes and signature were stripped: a
	// signature may hold a CPF or phone worth keeping.
	Body       string   `json:"body,omitempty"`
	MessageID  string   `json:"message_id,omitempty"`
	InReplyTo  string   `json:"in_reply_to,omitempty"`
	References []string `json:"references,omitempty"`
}

// Status is a delivery status of a message Atende sent.
type Status struct {
	ExternalID string    `json:"external_id"`
	Status     string    `json:"status"` // sent, delivered, read, failed
	Recipient  string    `json:"recipient,omitempty"`
	At         time.Time `json:"at"`
	Reason     string    `json:"reason,omitempty"`
	Code       string    `json:"code,omitempty"`
}
