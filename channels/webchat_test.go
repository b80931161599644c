package channels

import (
	"context"
	"errors"
	"testing"

	"github.com/atende/atende/memory"
)

// A visitor who types someone else's e-mail in the pre-chat form joins that
// person's contact, but must never see the replies meant for the other browser.
func TestWebchatRepliesReachOnlyTheVisitorTheyAreFor(t *testing.T) {
	e := newOutboxEnv(t)
	ctx := context.Background()
	ch, err := e.channels.Create(ctx, e.acct, NewChannel{Kind: KindWebchat, Name: "Site"})
	if err != nil {
		t.Fatal(err)
	}
	wc := NewWebchat(e.pool, e.mem, NewIngestor(e.pool, e.mem, nil))
	victim, err := wc.StartSession(ctx, ch, PreChat{VisitorID: "visitor-victim-1", Name: "Ana", Email: "ana@exemplo.com.br"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wc.Post(ctx, ch, victim.VisitorID, "c1", "meu pedido 48213 atrasou"); err != nil {
		t.Fatal(err)
	}
	reply := func(text string) {
		t.Helper()
		e.queue(t, Outgoing{ContactID: victim.ContactID, ChannelID: ch.ID, Author: memory.AuthorHuman, Text: text})
	}
	reply("Ana, seu pedido 48213 sai hoje.")

	intruder, err := wc.StartSession(ctx, ch, PreChat{VisitorID: "visitor-intruder-2", Email: "ANA@exemplo.com.br"})
	if err != nil {
		t.Fatal(err)
	}
	if intruder.ContactID != victim.ContactID {
		t.Fatal("the pre-chat e-mail names the same contact")
	}
	if got, _ := wc.Replies(ctx, ch, intruder.VisitorID, 0); len(got) != 0 {
		t.Fatalf("another browser saw the contact's replies: %+v", got)
	}
	if got, _ := wc.Replies(ctx, ch, victim.VisitorID, 0); len(got) != 1 {
		t.Fatalf("the visitor lost their reply: %+v", got)
	}
	if _, err := wc.Post(ctx, ch, intruder.VisitorID, "c2", "oi"); err != nil {
		t.Fatal(err)
	}
	reply("Olá! Como posso ajudar?")
	mine, _ := wc.Replies(ctx, ch, intruder.VisitorID, 0)
	theirs, _ := wc.Replies(ctx, ch, victim.VisitorID, 0)
	if len(mine) != 1 || mine[0].Text != "Olá! Como posso ajudar?" || len(theirs) != 1 {
		t.Fatalf("each browser sees what was said to it: mine %+v, theirs %+v", mine, theirs)
	}
	if err := VerifySession(ch, victim.VisitorID, intruder.Token); !errors.Is(err, ErrBadSignature) {
		t.Fatal("one visitor's token must not open another's session")
	}
}
