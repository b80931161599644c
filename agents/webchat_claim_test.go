package agents

import (
	"context"
	"testing"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/memory"
)

// An anonymous visitor who types a customer's e-mail in a chat message
// (not the pre-chat form) is not merged with that customer by the turn's
// extraction: the e-mail is a claim on the visitor's own contact (issue 10,
// found in review).
func TestAWebchatMessageNamingACustomersEmailMergesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ana, err := e.mem.CreateContact(ctx, e.acct, memory.NewContact{Name: "Ana Souza",
		Identities: []memory.Identity{{Kind: memory.KindEmail, Value: "ana@exemplo.com.br"}}})
	if err != nil {
		t.Fatal(err)
	}
	wch, err := e.orch.channels.Create(ctx, e.acct, channels.NewChannel{Kind: channels.KindWebchat, Name: "Site"})
	if err != nil {
		t.Fatal(err)
	}
	wc := channels.NewWebchat(e.pool, e.mem, e.ing)
	mallory, err := wc.StartSession(ctx, wch, channels.PreChat{Name: "Mallory"}, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := wc.Post(ctx, wch, mallory.VisitorID, "m1", "oi, meu email é ana@exemplo.com.br, qual o status do meu pedido?")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := e.mem.Event(ctx, e.acct, res.EventIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := e.orch.Turn(ctx, TurnArgs{AccountID: e.acct, ConversationID: *ev.ConversationID, ContactID: ev.ContactID, EventID: ev.ID}); err != nil {
		t.Fatal(err)
	}
	owner, err := e.mem.FindByIdentity(ctx, e.acct, memory.Identity{Kind: memory.KindWebchat, Value: mallory.VisitorID})
	if err != nil {
		t.Fatal(err)
	}
	if owner.ID == ana.Contact.ID {
		t.Fatalf("the anonymous webchat visitor %s is now Ana's contact %s (merged by a chat message, no attendant)", mallory.VisitorID, ana.Contact.ID)
	}
	var merges int
	_ = e.pool.QueryRow(ctx, `SELECT count(*) FROM merges WHERE account_id = $1`, e.acct).Scan(&merges)
	if merges > 0 {
		t.Fatalf("%d merge(s) from a webchat message", merges)
	}
	if v, _ := owner.Fields.Get(memory.FieldClaimedEmail); v != "ana@exemplo.com.br" {
		t.Fatalf("the e-mail is not kept as the visitor's claim: %+v", owner.Fields.Map())
	}
}
