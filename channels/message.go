// Package channels turns each platform's webhooks into Atende's canonical
// inbound messages and delivery statuses, verifies that they came from the
// platform, stores them through the memory (Ingestor), and (in later work)
// renders and sends replies in each channel's style and rules. One adapter per
// channel. It owns the channels table: each account's configured instances.
package channels

import (
	"encoding/json"
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
	// Annotations are reactions, edits and deletions of earlier messages:
	// recorded on those messages, never answered.
	Annotations []Annotation `json:"annotations,omitempty"`
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
	// Username is the platform handle ("kfisher", "@gui_martins"): how the
	// attendant finds the person in the app when there is no phone.
	Username string `json:"username,omitempty"`
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
	// Quiet marks content that is recorded for the attendant but not
	// answered by the bot: a platform's system notice (a number changed), a
	// comment on a post or an ad.
	Quiet bool `json:"quiet,omitempty"`
	// Group is the group chat the message was written in, when it was: what
	// happens to it is the channel's group policy (GroupPolicy), never a 1:1
	// answer by accident.
	Group string `json:"group,omitempty"`
}

// GroupPolicy is what a channel does with group messages (settings.groups).
type GroupPolicy string

// The group policies.
const (
	// GroupsRecord stores group messages for the attendant, unanswered (the default).
	GroupsRecord GroupPolicy = "record"
	// GroupsIgnore drops them, reported as skipped.
	GroupsIgnore GroupPolicy = "ignore"
)

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
	Referral *Referral       `json:"referral,omitempty"`
	Order    *Order          `json:"order,omitempty"`
	Form     *FormReply      `json:"form,omitempty"`
	Comment  *Comment        `json:"comment,omitempty"`
	// PlatformError is the platform's own code and words for content it
	// could not deliver ("131051: Message type unknown").
	PlatformError string `json:"platform_error,omitempty"`
}

// Referral is the ad or post that brought the customer (Click-to-WhatsApp,
// an ig.me link): which campaign, what it said, and the click id for the
// ads manager.
type Referral struct {
	Source    string `json:"source,omitempty"` // ad, post
	SourceID  string `json:"source_id,omitempty"`
	SourceURL string `json:"source_url,omitempty"`
	Headline  string `json:"headline,omitempty"`
	Body      string `json:"body,omitempty"`
	MediaType string `json:"media_type,omitempty"`
	MediaURL  string `json:"media_url,omitempty"`
	ClickID   string `json:"click_id,omitempty"` // ctwa_clid
}

// Order is a cart sent from the business's catalog.
type Order struct {
	CatalogID string      `json:"catalog_id,omitempty"`
	Note      string      `json:"note,omitempty"`
	Items     []OrderItem `json:"items"`
}

// OrderItem is one line of a cart.
type OrderItem struct {
	ProductID string  `json:"product_id"`
	Quantity  int     `json:"quantity"`
	Price     float64 `json:"price"`
	Currency  string  `json:"currency,omitempty"`
}

// FormReply is what the customer filled in a WhatsApp Flow.
type FormReply struct {
	Name     string          `json:"name,omitempty"`
	Response json.RawMessage `json:"response,omitempty"`
}

// Comment is a public comment on a post or an ad.
type Comment struct {
	ID      string `json:"id,omitempty"`
	MediaID string `json:"media_id,omitempty"`
	AdID    string `json:"ad_id,omitempty"`
	AdTitle string `json:"ad_title,omitempty"`
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
	URL       string  `json:"url,omitempty"`
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

// AnnotationKind is what an annotation does to the message it is about.
type AnnotationKind string

// The annotations the platforms send.
const (
	// AnnotationReaction is an emoji on a message; an empty emoji removes it.
	AnnotationReaction AnnotationKind = "reaction"
	// AnnotationEdit is a message's new text (the old one stays on the timeline).
	AnnotationEdit AnnotationKind = "edit"
	// AnnotationDelete is the sender deleting (unsending) a message.
	AnnotationDelete AnnotationKind = "delete"
)

// Annotation is an event about an earlier message rather than a message: a
// reaction, an edit, a deletion. It is shown on that message for the
// attendant, and it never wakes the bot — before, a 👍 or an edit became a
// customer turn the bot answered with its greeting (issue 12).
type Annotation struct {
	// ExternalID is the annotation's own platform id, when it has one;
	// retries carrying it are stored once.
	ExternalID string         `json:"external_id,omitempty"`
	Target     string         `json:"target"` // the platform id of the message it is about
	Kind       AnnotationKind `json:"kind"`
	From       Sender         `json:"from"`
	At         time.Time      `json:"at"`
	Emoji      string         `json:"emoji,omitempty"`
	Text       string         `json:"text,omitempty"` // an edit's new text
	Media      []memory.Media `json:"media,omitempty"`
	// FromBusiness marks the business's own reaction or edit (typed on its
	// phone or app).
	FromBusiness bool `json:"from_business,omitempty"`
	// Group is the group chat it happened in (the channel's group policy applies).
	Group string `json:"group,omitempty"`
}
