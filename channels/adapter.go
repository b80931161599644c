package channels

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/atende/atende/memory"
)

// Adapter is one messaging platform: everything Atende knows about it that
// differs from the others, in one file (whatsapp_cloud.go, evolution.go,
// instagram.go, telegram.go, email.go, webchat.go, chatwoot.go). Delivery,
// sending, the outbox and the rules look the channel's kind up in a Registry
// and ask its adapter; none of them names a platform. Adding a platform is
// writing one adapter and registering it in Builtin.
//
// Adapters are stateless values: what a call needs from the process (the
// store's replay record, the HTTP client, the mailer, the webchat waker) is
// passed to it, so one registry serves every Store, Platforms and Outbox.
type Adapter interface {
	// Kind is the channel kind served: the registry's key, and the {kind}
	// of /webhooks/{kind}/{channel_id}.
	Kind() Kind
	// Capabilities say what a channel of this kind needs to be configured
	// and how its replies are addressed, for the Store (validation, secrets
	// it generates) and the Outbox (pinning a reply's recipient).
	Capabilities() Capabilities
	// Open verifies that a webhook delivery came from the platform, with the
	// channel's secrets, and parses it: ErrBadSignature when it cannot be
	// proven, ErrMalformed when it is not the platform's shape at all.
	// replays is the store's record of one-time tokens, for platforms whose
	// signatures carry one (Mailgun); the others ignore it.
	Open(ctx context.Context, ch Channel, d Delivery, replays Replays) (Batch, error)
	// Send delivers one rendered message and returns the platform's id for
	// it (a *SendError says whether to try again). via is the process's
	// plumbing: the HTTP client under the outbound policy, the mailer, the
	// webchat waker.
	Send(ctx context.Context, via *Platforms, ch Channel, m PlatformMessage) (string, error)
	// Rules are the kind's built-in conversation rules (DefaultRules); a
	// channel's settings override them (RulesFor).
	Rules() Rules
	// Address is the contact's address on the platform among their
	// identities; false when the contact cannot be reached there, and the
	// reply fails saying so.
	Address(ids []memory.Identity) (string, bool)
	// Reply completes a reply's addressing from the conversation it answers
	// (the e-mail thread, the Chatwoot conversation, the webchat visitor the
	// reply was pinned to), or says why there is nothing to answer in.
	Reply(m PlatformMessage, c ReplyContext) (PlatformMessage, string)
}

// Capabilities are what a kind needs and does, as data the Store and the
// Outbox read.
type Capabilities struct {
	// RequiredSettings are the non-secret settings a channel cannot work without.
	RequiredSettings []string
	// RequiredSecrets are the secrets it cannot work without; those named in
	// generatedSecrets are made by Atende when not given.
	RequiredSecrets []string
	// PinsRecipient says a contact may have several addresses on the
	// platform and only the one that last wrote may see a reply (a webchat
	// visitor's browsers): the Outbox fixes it when the reply is queued and
	// hands it to Reply as ReplyContext.Pinned.
	PinsRecipient bool
	// StatusRecipients says a delivery status names its recipient as an
	// address of a customer (WhatsApp's recipient_id), so the status of a
	// message sent outside Atende can be put on that customer's timeline.
	StatusRecipients bool
}

// ReplyContext is what Reply reads beyond the address: the conversation.
type ReplyContext struct {
	// Last is the customer's last inbound message on the channel's kind
	// (the zero Event when they never wrote there).
	Last memory.Event
	// Pinned is the address fixed when the reply was queued
	// (Capabilities.PinsRecipient), "" when none was.
	Pinned string
}

// Replays records one-time webhook tokens; the Store implements it.
type Replays interface {
	// SeenToken records token and reports whether it was already recorded.
	SeenToken(ctx context.Context, channelID uuid.UUID, token string) (bool, error)
}

// configChecker is implemented by adapters whose settings need more than
// being present (e-mail's provider): validation calls it last.
type configChecker interface {
	checkConfig(n NewChannel) error
}

// Registry is the adapters by kind. It is built once by NewRegistry and only
// read afterwards; adapters hold no state, so it holds none either.
type Registry struct {
	byKind map[Kind]Adapter
	kinds  []Kind // in registration order, for messages that list them
}

// NewRegistry registers the adapters by their Kind. Registering a kind twice
// is a programming error and panics.
func NewRegistry(adapters ...Adapter) *Registry {
	r := &Registry{byKind: make(map[Kind]Adapter, len(adapters))}
	for _, a := range adapters {
		if _, dup := r.byKind[a.Kind()]; dup {
			panic(fmt.Sprintf("channels: adapter %q registered twice", a.Kind()))
		}
		r.byKind[a.Kind()] = a
		r.kinds = append(r.kinds, a.Kind())
	}
	return r
}

// Builtin is the registry of every platform Atende speaks.
func Builtin() *Registry {
	return NewRegistry(whatsAppCloud{}, evolution{}, instagram{}, telegram{}, webchat{}, email{}, chatwoot{})
}

// builtin is the registry the Store, Platforms, Outbox and DefaultRules use:
// an immutable table of stateless adapters, built once.
var builtin = Builtin()

// Adapter returns the kind's adapter; false for a kind nobody registered.
func (r *Registry) Adapter(k Kind) (Adapter, bool) {
	a, ok := r.byKind[k]
	return a, ok
}

// Kinds are the registered kinds, in registration order.
func (r *Registry) Kinds() []Kind { return append([]Kind(nil), r.kinds...) }

// kindList is the registered kinds for a message ("whatsapp, evolution, ...").
func (r *Registry) kindList() string {
	names := make([]string, len(r.kinds))
	for i, k := range r.kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// identityOf is the value of the first identity of that kind.
func identityOf(ids []memory.Identity, kind memory.IdentityKind) (string, bool) {
	for _, id := range ids {
		if id.Kind == kind {
			return id.Value, true
		}
	}
	return "", false
}

// phoneOf is the contact's phone as WhatsApp APIs take it: digits, no "+".
func phoneOf(ids []memory.Identity) (string, bool) {
	if v, ok := identityOf(ids, memory.KindPhone); ok {
		return strings.TrimPrefix(v, "+"), true
	}
	// a WhatsApp id that is no valid phone is still where the platform delivers
	return identityOf(ids, memory.KindWhatsAppID)
}

// asIs is the Reply of platforms whose address is all a reply needs.
type asIs struct{}

// Reply leaves the message as addressed.
func (asIs) Reply(m PlatformMessage, _ ReplyContext) (PlatformMessage, string) { return m, "" }
