package channels

import (
	"errors"
	"testing"

	"github.com/atende/atende/memory"
)

// Every kind Atende speaks has an adapter, registered under its own kind,
// whose rules say that kind.
func TestEveryKindHasAnAdapter(t *testing.T) {
	kinds := []Kind{KindWhatsApp, KindEvolution, KindInstagram, KindTelegram, KindWebchat, KindEmail, KindChatwoot}
	r := Builtin()
	if got := r.Kinds(); len(got) != len(kinds) {
		t.Fatalf("registered %v, want %v", got, kinds)
	}
	for _, k := range kinds {
		a, ok := r.Adapter(k)
		if !ok || a.Kind() != k {
			t.Fatalf("%s: no adapter (%v)", k, a)
		}
		if DefaultRules(k).Kind != k || a.Rules().Kind != k {
			t.Errorf("%s: rules of another kind", k)
		}
		if len(a.Capabilities().RequiredSecrets) == 0 {
			t.Errorf("%s: a channel that needs no secret", k)
		}
	}
	if _, ok := r.Adapter("sms"); ok {
		t.Fatal("an unknown kind has an adapter")
	}
	if DefaultRules("sms").Format != FormatPlain {
		t.Fatal("an unknown kind's rules are plain")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a kind registered twice must panic")
		}
	}()
	NewRegistry(telegram{}, telegram{})
}

// Each adapter addresses a reply to the identity its platform knows the
// contact by: a phone without "+" for WhatsApp (or the business-scoped id of
// a username customer on the Cloud API), the platform id elsewhere; a
// Chatwoot reply is addressed to its conversation instead.
func TestAdaptersAddressTheirPlatformsIdentity(t *testing.T) {
	ids := []memory.Identity{
		{Kind: memory.KindEmail, Value: "ana@exemplo.com.br"},
		{Kind: memory.KindPhone, Value: "+5511987654321"},
		{Kind: memory.KindInstagram, Value: "17841400"},
		{Kind: memory.KindTelegram, Value: "777"},
		{Kind: memory.KindWebchat, Value: "visitor-1"},
	}
	bsuid := []memory.Identity{{Kind: memory.KindWhatsAppUser, Value: "BR.13491208655302741918"}}
	for _, tt := range []struct {
		kind Kind
		ids  []memory.Identity
		want string
		ok   bool
	}{
		{KindWhatsApp, ids, "5511987654321", true},
		{KindWhatsApp, bsuid, "BR.13491208655302741918", true},
		{KindEvolution, ids, "5511987654321", true},
		{KindEvolution, bsuid, "", false},
		{KindEvolution, []memory.Identity{{Kind: memory.KindWhatsAppLID, Value: "103899771998284"}}, "103899771998284@lid", true},
		{KindWhatsApp, []memory.Identity{{Kind: memory.KindWhatsAppID, Value: "972987654321"}}, "972987654321", true},
		{KindEvolution, []memory.Identity{{Kind: memory.KindWhatsAppID, Value: "972987654321"}}, "972987654321", true},
		{KindInstagram, ids, "17841400", true},
		{KindTelegram, ids, "777", true},
		{KindEmail, ids, "ana@exemplo.com.br", true},
		{KindWebchat, ids, "visitor-1", true},
		{KindTelegram, bsuid, "", false},
		{KindChatwoot, nil, "", true},
	} {
		a, _ := Builtin().Adapter(tt.kind)
		if got, ok := a.Address(tt.ids); got != tt.want || ok != tt.ok {
			t.Errorf("%s %v: %q %v, want %q %v", tt.kind, tt.ids, got, ok, tt.want, tt.ok)
		}
	}
}

// A reply is completed from its conversation: the webchat visitor it was
// pinned to, the Chatwoot conversation, the e-mail thread; without them,
// the reason nothing can be sent.
func TestAdaptersCompleteRepliesFromTheConversation(t *testing.T) {
	adapter := func(k Kind) Adapter { a, _ := Builtin().Adapter(k); return a }
	if _, why := adapter(KindWebchat).Reply(PlatformMessage{To: "visitor-1"}, ReplyContext{}); why == "" {
		t.Fatal("a webchat reply pinned to nobody is sent")
	}
	if m, why := adapter(KindWebchat).Reply(PlatformMessage{To: "visitor-1"}, ReplyContext{Pinned: "visitor-2"}); why != "" || m.To != "visitor-2" {
		t.Fatalf("a webchat reply goes to the pinned visitor: %+v %q", m, why)
	}
	if _, why := adapter(KindChatwoot).Reply(PlatformMessage{}, ReplyContext{}); why == "" {
		t.Fatal("a Chatwoot reply without a conversation is sent")
	}
	last := memory.Event{Payload: []byte(`{"chatwoot":{"conversation_id":128}}`)}
	if m, why := adapter(KindChatwoot).Reply(PlatformMessage{}, ReplyContext{Last: last}); why != "" || m.To != "128" {
		t.Fatalf("a Chatwoot reply goes to its conversation: %+v %q", m, why)
	}
	last = memory.Event{Payload: []byte(`{"email":{"subject":"Pedido 48213","message_id":"<a@x>","references":["<z@x>"]}}`)}
	m, why := adapter(KindEmail).Reply(PlatformMessage{To: "ana@exemplo.com.br"}, ReplyContext{Last: last})
	if why != "" || m.Subject != "Re: Pedido 48213" || m.Thread == nil || m.Thread.InReplyTo != "<a@x>" || len(m.Thread.References) != 2 {
		t.Fatalf("an e-mail reply answers in the thread: %+v %q", m, why)
	}
	if m, why := adapter(KindTelegram).Reply(PlatformMessage{To: "777"}, ReplyContext{Pinned: "x"}); why != "" || m.To != "777" {
		t.Fatalf("a Telegram reply needs only its address: %+v %q", m, why)
	}
}

// Opening a webhook of a kind no platform posts (the webchat's, an unknown
// one) is a malformed delivery, as before adapters.
func TestNoWebhooksForTheWebchat(t *testing.T) {
	s := &Store{adapters: builtin}
	for _, k := range []Kind{KindWebchat, "sms"} {
		if _, err := s.Open(t.Context(), Channel{Kind: k}, Delivery{}); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", k, err)
		}
	}
}
