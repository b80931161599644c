package agents

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/memory"
)

// A voice note or a photo is acknowledged for what it is, never answered
// with the greeting as if the customer had said nothing (issue 11).
func TestMediaIsAcknowledgedForWhatItIs(t *testing.T) {
	for kind, want := range map[string]string{"audio": "Recebi seu áudio", "image": "Recebi sua imagem", "document": "Recebi seu documento"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			msg := channels.Inbound{ExternalID: uuid.NewString(), Type: kind, At: time.Now(),
				Media: []memory.Media{{Type: kind, PlatformID: "media-1"}},
				From:  channels.Sender{Name: "Marcos Lima", Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "424242"}}}}
			if _, err := e.ing.Ingest(ctx, e.ch, channels.Batch{Messages: []channels.Inbound{msg}}); err != nil {
				t.Fatal(err)
			}
			c, err := e.mem.FindByIdentity(ctx, e.acct, memory.Identity{Kind: memory.KindTelegram, Value: "424242"})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.orch.Turn(ctx, TurnArgs{AccountID: e.acct, ConversationID: *mustConversation(t, e, c.ID), ContactID: c.ID}); err != nil {
				t.Fatal(err)
			}
			got := e.replies(t, c.ID)
			if len(got) != 1 || !strings.Contains(got[0], want) || strings.Contains(got[0], "assistente virtual") || !strings.Contains(got[0], "Marcos") {
				t.Fatalf("the reply to a %s: %q", kind, got)
			}
		})
	}
}

// A product the customer named is remembered (product_interest), so sales
// does not ask "qual produto?" right after it (issue 11).
func TestANamedProductIsNotAskedFor(t *testing.T) {
	e := newEnv(t)
	contact, replies := e.say(t, "tenho interesse no liquidificador turbo 900W, quero comprar")
	c, err := e.mem.Contact(context.Background(), e.acct, contact)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Fields.Get(memory.FieldProductInterest); v != "liquidificador turbo 900W" {
		t.Fatalf("product_interest: %+v", c.Fields.Map())
	}
	if len(replies) != 1 || strings.Contains(replies[0], "qual produto") {
		t.Fatalf("the reply asks for what was said: %q", replies)
	}
}

// A customer who moves channel keeps the subject of the conversation they
// were in: after a sales talk on Instagram, a Telegram message that reveals
// the same person and asks for someone is still sales (issue 11).
func TestMovingChannelKeepsTheSector(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ig, err := e.orch.channels.Create(ctx, e.acct, channels.NewChannel{Kind: channels.KindInstagram, Name: "ig",
		Settings: map[string]string{"instagram_id": "1"}, Secrets: map[string]string{"app_secret": "s", "verify_token": "v", "access_token": "t"}})
	if err != nil {
		t.Fatal(err)
	}
	from := channels.Sender{Name: "Ana Souza", Identities: []memory.Identity{{Kind: memory.KindInstagram, Value: "1784000111"}}}
	if _, err := e.ing.Ingest(ctx, ig, channels.Batch{Messages: []channels.Inbound{{ExternalID: "ig1", Type: "text",
		Text: "quero comprar o plano anual, quanto custa? meu email é ana.souza@exemplo.com.br", At: time.Now().Add(-time.Hour), From: from}}}); err != nil {
		t.Fatal(err)
	}
	ana, err := e.mem.FindByIdentity(ctx, e.acct, memory.Identity{Kind: memory.KindInstagram, Value: "1784000111"})
	if err != nil {
		t.Fatal(err)
	}
	igConv := *mustConversation(t, e, ana.ID)
	if err := e.orch.Turn(ctx, TurnArgs{AccountID: e.acct, ConversationID: igConv, ContactID: ana.ID}); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.orch.conversations.Get(ctx, e.acct, igConv); c.Sector != "sales" {
		t.Fatalf("the Instagram talk is sales: %+v", c)
	}
	e.say(t, "oi, sou a Ana, meu email é ana.souza@exemplo.com.br. quero falar com alguém")
	var sector string
	var open int
	if err := e.pool.QueryRow(ctx, `SELECT max(sector), count(*) FROM conversations WHERE account_id = $1 AND contact_id = $2 AND status <> 'resolved'`,
		e.acct, ana.ID).Scan(&sector, &open); err != nil || open != 1 {
		t.Fatalf("one open conversation for Ana after the merge: %d %v", open, err)
	}
	if sector != "sales" {
		t.Fatalf("after moving channel the conversation's sector is %q", sector)
	}
}
