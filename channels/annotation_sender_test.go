package channels

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/atende/atende/memory"
)

// Found in review: an annotation naming another contact's message id (a
// forged edit, a group member reacting to someone else's message) never
// writes on that contact's timeline nor quotes the message; a reaction to
// the bot's reply finds the reply, not its "sent" status; a quiet message
// is in no conversation and wakes no one.
func TestAnnotationsStayWithTheirSender(t *testing.T) {
	e := newOutboxEnv(t)
	ch := e.whatsapp(t, "http://127.0.0.1:9")
	turns := &recordingTurns{}
	ing := NewIngestor(e.pool, e.mem, turns)
	ctx := context.Background()
	maria := memory.Identity{Kind: memory.KindWhatsApp, Value: "5511987650101"}
	joao := memory.Identity{Kind: memory.KindWhatsApp, Value: "5511987650202"}
	if _, err := ing.Ingest(ctx, ch, Batch{Messages: []Inbound{{ExternalID: "w-maria", Type: "text", At: time.Now(),
		Text: "minha chave pix é 31987650101, cancelem o pedido", From: Sender{Identities: []memory.Identity{maria}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ing.Ingest(ctx, ch, Batch{Annotations: []Annotation{
		{ExternalID: "forged-edit", Target: "w-maria", Kind: AnnotationEdit, Text: "mudei a chave: 21999990000", At: time.Now(), From: Sender{Identities: []memory.Identity{joao}}},
		{ExternalID: "forged-react", Target: "w-maria", Kind: AnnotationReaction, Emoji: "😂", At: time.Now(), From: Sender{Identities: []memory.Identity{joao}}},
	}}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range e.timelineOf(t, memory.Identity{Kind: memory.KindPhone, Value: "+5511987650101"}) {
		if ev.Kind == memory.EventAnnotation {
			t.Fatalf("another sender's annotation is on Maria's timeline: %q", ev.Text)
		}
	}
	joaos := eventsOfKind(e.timelineOf(t, memory.Identity{Kind: memory.KindPhone, Value: "+5511987650202"}), memory.EventAnnotation)
	if len(joaos) != 2 {
		t.Fatalf("João's own annotations: %d", len(joaos))
	}
	for _, ev := range joaos {
		if strings.Contains(ev.Text, "chave pix") || strings.Contains(string(ev.Payload), "target_event_id") {
			t.Fatalf("João's annotation quotes or links Maria's message: %q %s", ev.Text, ev.Payload)
		}
	}

	// a reaction to the bot's reply is on the reply
	contact := e.contactWhoWrote(t, memory.KindWhatsApp, "5511987650303", KindWhatsApp, time.Hour)
	reply := e.queue(t, Outgoing{ContactID: contact, ChannelID: ch.ID, Author: memory.AuthorAI, Text: "O plano anual custa R$ 1.188,00."})
	if err := e.outbox.recordStatus(ctx, e.acct, reply, ch, "sent", ScopedID(ch.ID, "wamid.BOTREPLY"), "", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ing.Ingest(ctx, ch, Batch{Annotations: []Annotation{{ExternalID: "react-bot", Target: "wamid.BOTREPLY", Kind: AnnotationReaction,
		Emoji: "❤️", At: time.Now(), From: Sender{Identities: []memory.Identity{{Kind: memory.KindWhatsApp, Value: "5511987650303"}}}}}}); err != nil {
		t.Fatal(err)
	}
	anns := eventsOfKind(e.timelineOf(t, memory.Identity{Kind: memory.KindPhone, Value: "+5511987650303"}), memory.EventAnnotation)
	var p struct {
		Target int64 `json:"target_event_id"`
	}
	if len(anns) != 1 || json.Unmarshal(anns[0].Payload, &p) != nil || p.Target != reply.ID || !strings.Contains(anns[0].Text, "O plano anual custa") {
		t.Fatalf("reaction to the reply: %+v (want target %d)", anns, reply.ID)
	}

	// a group message is quiet: stored, in no conversation, no turn
	before := turns.count()
	if _, err := ing.Ingest(ctx, ch, Batch{Messages: []Inbound{{ExternalID: "w-group", Type: "text", At: time.Now(), Group: "120363025",
		Text: "bom dia grupo, alguém vende bolo?", From: Sender{Identities: []memory.Identity{maria}}}}}); err != nil {
		t.Fatal(err)
	}
	if turns.count() != before {
		t.Fatal("a group message woke the bot")
	}
	for _, ev := range e.timelineOf(t, memory.Identity{Kind: memory.KindPhone, Value: "+5511987650101"}) {
		if ev.Text == "bom dia grupo, alguém vende bolo?" && ev.ConversationID != nil {
			t.Fatal("a group message joined Maria's 1:1 conversation")
		}
	}
}
