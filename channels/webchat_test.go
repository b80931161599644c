package channels

import (
	"context"
	"errors"
	"testing"

	"github.com/atende/atende/memory"
)

// Naming a visitor id does not make anyone that visitor (issue 10): without
// the token the browser holds, a known id gets a new visitor, and the
// replies meant for the other browser stay there.
func TestAVisitorIDWithoutItsTokenIsANewVisitor(t *testing.T) {
	e := newOutboxEnv(t)
	ctx := context.Background()
	ch, err := e.channels.Create(ctx, e.acct, NewChannel{Kind: KindWebchat, Name: "Site"})
	if err != nil {
		t.Fatal(err)
	}
	wc := NewWebchat(e.pool, e.mem, NewIngestor(e.pool, e.mem, nil))
	victim, err := wc.StartSession(ctx, ch, PreChat{VisitorID: "visitor-victim-1", Name: "Ana"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if victim.VisitorID != "visitor-victim-1" || victim.Resumed {
		t.Fatalf("an id nobody uses is the visitor's: %+v", victim)
	}
	if _, err := wc.Post(ctx, ch, victim.VisitorID, "c1", "meu pedido 48213 atrasou"); err != nil {
		t.Fatal(err)
	}
	e.queue(t, Outgoing{ContactID: victim.ContactID, ChannelID: ch.ID, Author: memory.AuthorHuman, Text: "Ana, seu pedido 48213 sai hoje."})

	for _, stolen := range []string{"", "not-the-token", victim.Token[:len(victim.Token)-1] + "x"} {
		intruder, err := wc.StartSession(ctx, ch, PreChat{VisitorID: victim.VisitorID}, stolen)
		if err != nil {
			t.Fatal(err)
		}
		if intruder.VisitorID == victim.VisitorID || intruder.ContactID == victim.ContactID || intruder.Resumed || intruder.Token == victim.Token {
			t.Fatalf("token %q: the intruder became the visitor: %+v", stolen, intruder)
		}
		if got, _ := wc.Replies(ctx, ch, intruder.VisitorID, 0); len(got) != 0 {
			t.Fatalf("the intruder reads replies: %+v", got)
		}
		if err := wc.VerifySession(ctx, ch, victim.VisitorID, intruder.Token); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("the intruder's token opens the visitor's stream: %v", err)
		}
	}
	back, err := wc.StartSession(ctx, ch, PreChat{VisitorID: victim.VisitorID}, victim.Token)
	if err != nil || !back.Resumed || back.VisitorID != victim.VisitorID || back.Token != victim.Token || back.ContactID != victim.ContactID {
		t.Fatalf("the visitor with their token resumes: %+v %v", back, err)
	}
	if err := wc.VerifySession(ctx, ch, victim.VisitorID, victim.Token); err != nil {
		t.Fatal(err)
	}
	var clear, hashed int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE token_hash = convert_to($1, 'UTF8')),
		count(*) FILTER (WHERE token_hash = sha256(convert_to($1, 'UTF8'))) FROM webchat_sessions`, victim.Token).Scan(&clear, &hashed); err != nil {
		t.Fatal(err)
	}
	if clear != 0 || hashed != 1 {
		t.Fatalf("the token is stored as its SHA-256 only: %d in clear, %d hashed", clear, hashed)
	}
	// A visitor of before random tokens (no session row yet) holding a token
	// of the old kind (an HMAC of its id) keeps its history: the token is
	// exchanged once for a random one.
	if _, err := e.mem.Resolve(ctx, e.acct, memory.KindWebchat, "visitor-before-1", memory.Profile{Channel: "webchat"}); err != nil {
		t.Fatal(err)
	}
	if ch.Secret("session_key") == "" {
		t.Fatal("a webchat channel has a session key")
	}
	legacy := legacySessionToken(ch, "visitor-before-1")
	moved, err := wc.StartSession(ctx, ch, PreChat{VisitorID: "visitor-before-1"}, legacy)
	if err != nil || !moved.Resumed || moved.VisitorID != "visitor-before-1" || moved.Token == legacy {
		t.Fatalf("a legacy token resumes with a new token: %+v %v", moved, err)
	}
	if err := wc.VerifySession(ctx, ch, "visitor-before-1", legacy); !errors.Is(err, ErrBadSignature) {
		t.Fatal("a legacy token is good for the exchange only")
	}
	for _, visitor := range []string{"visitor-before-1", victim.VisitorID} {
		again, err := wc.StartSession(ctx, ch, PreChat{VisitorID: visitor}, legacySessionToken(ch, visitor))
		if err != nil || again.Resumed || again.VisitorID == visitor {
			t.Fatalf("%s: an old token is exchanged once, and never for a visitor with a random token: %+v %v", visitor, again, err)
		}
	}
}

// A pre-chat e-mail or phone is the visitor's claim. One nobody holds joins
// the visitor's own contact; one another contact holds merges nothing and
// renames no one: it is kept as an unverified claim for an attendant.
func TestPreChatIdentifiersAreClaimsThatMergeNothing(t *testing.T) {
	e := newOutboxEnv(t)
	ctx := context.Background()
	ch, err := e.channels.Create(ctx, e.acct, NewChannel{Kind: KindWebchat, Name: "Site"})
	if err != nil {
		t.Fatal(err)
	}
	wc := NewWebchat(e.pool, e.mem, NewIngestor(e.pool, e.mem, nil))
	ana := e.contactWhoWrote(t, memory.KindWhatsApp, "5511987654321", KindWhatsApp, 0)
	if _, err := e.mem.LinkIdentifier(ctx, e.acct, ana, memory.KindEmail, "ana@exemplo.com.br", memory.AuthorContact); err != nil {
		t.Fatal(err)
	}
	if _, err := e.mem.UpdateFields(ctx, e.acct, ana, map[string]any{memory.FieldName: "Ana Souza"}, memory.AuthorHuman, nil); err != nil {
		t.Fatal(err)
	}
	intruder, err := wc.StartSession(ctx, ch, PreChat{Name: "Mallory", Email: "ANA@exemplo.com.br", Phone: "(11) 98765-4321"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if intruder.ContactID == ana {
		t.Fatal("a claimed e-mail merged the visitor into its owner")
	}
	victim, err := e.mem.Contact(ctx, e.acct, ana)
	if err != nil || victim.Fields.Name != "Ana Souza" || victim.DisplayName != "Maria Silva" || victim.MergedInto != nil {
		t.Fatalf("the owner of the e-mail was changed: %+v %v", victim, err)
	}
	own, _ := e.mem.Contact(ctx, e.acct, intruder.ContactID)
	if v, _ := own.Fields.Get(memory.FieldClaimedEmail); v != "ana@exemplo.com.br" {
		t.Fatalf("the claim is not recorded on the visitor: %+v", own.Fields.Map())
	}
	if v, _ := own.Fields.Get(memory.FieldClaimedPhone); v == nil {
		t.Fatalf("the phone claim is not recorded: %+v", own.Fields.Map())
	}
	if owner, err := e.mem.FindByIdentity(ctx, e.acct, memory.Identity{Kind: memory.KindEmail, Value: "ana@exemplo.com.br"}); err != nil || owner.ID != ana {
		t.Fatalf("the e-mail moved: %+v %v", owner, err)
	}
	fresh, err := wc.StartSession(ctx, ch, PreChat{Name: "Bia", Email: "bia@exemplo.com.br"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if owner, err := e.mem.FindByIdentity(ctx, e.acct, memory.Identity{Kind: memory.KindEmail, Value: "bia@exemplo.com.br"}); err != nil || owner.ID != fresh.ContactID {
		t.Fatalf("an e-mail nobody holds joins the visitor's own contact: %+v %v", owner, err)
	}
}
