package channels

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/memory"
)

// recordingTurns is the turn queue of these tests: it keeps every turn the
// ingestor asks for, so a test sees whether the bot would have been woken.
type recordingTurns struct {
	mu    sync.Mutex
	turns []Turn
}

func (r *recordingTurns) EnqueueTurn(_ context.Context, _ pgx.Tx, t Turn) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.turns = append(r.turns, t)
	return nil
}

func (r *recordingTurns) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.turns)
}

// ingestFixture parses a webhook fixture with its platform's parser and
// stores it through ing on ch.
func ingestFixture(t *testing.T, ing *Ingestor, ch Channel, name string) IngestResult {
	t.Helper()
	res, err := ing.Ingest(context.Background(), ch, parseFixture(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(res.Skipped) > 0 {
		t.Fatalf("%s: skipped %+v", name, res.Skipped)
	}
	return res
}

// timelineOf is what the attendant sees of the contact who owns id.
func (e *outboxEnv) timelineOf(t *testing.T, id memory.Identity) []memory.Event {
	t.Helper()
	c, err := e.mem.FindByIdentity(context.Background(), e.acct, id)
	if err != nil {
		t.Fatalf("no contact with %s %s: %v", id.Kind, id.Value, err)
	}
	page, err := e.mem.Timeline(context.Background(), e.acct, c.ID, nil, 500)
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

func eventsOfKind(events []memory.Event, kind memory.EventKind) []memory.Event {
	var out []memory.Event
	for _, ev := range events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

var maria = memory.Identity{Kind: memory.KindPhone, Value: "+5511987654321"}

// TestReactionsEditsAndDeletionsShowOnTheMessageAndWakeNoOne: Maria asks
// the price, then reacts to her message, takes the reaction back, edits it
// and deletes it. The attendant sees each on her timeline, quoting the
// message it is about; the bot answers the question once and is never woken
// by the rest.
func TestReactionsEditsAndDeletionsShowOnTheMessageAndWakeNoOne(t *testing.T) {
	e := newOutboxEnv(t)
	evo, err := e.channels.Create(context.Background(), e.acct, NewChannel{Kind: KindEvolution, Name: "evo",
		Settings: map[string]string{"instance": "atende-loja-centro", "base_url": "http://127.0.0.1:9"}, Secrets: map[string]string{"apikey": "EVO-KEY"}})
	if err != nil {
		t.Fatal(err)
	}
	turns := &recordingTurns{}
	ing := NewIngestor(e.pool, e.mem, turns)
	asked := ingestFixture(t, ing, evo, "evolution/messages_upsert_text.json")
	if asked.Stored != 1 || turns.count() != 1 {
		t.Fatalf("the question is stored and answered once: %+v, %d turns", asked, turns.count())
	}
	question := asked.EventIDs[0]

	const quoted = "«Oi, quero saber o preço do plano anual»"
	tests := []struct {
		fixture string
		kind    AnnotationKind
		text    string // what the attendant reads
	}{
		{"evolution/messages_upsert_reaction.json", AnnotationReaction, "reagiu com 👍 à mensagem " + quoted},
		{"evolution/messages_upsert_reaction_removed.json", AnnotationReaction, "removeu a reação à mensagem " + quoted},
		{"evolution/messages_upsert_edit.json", AnnotationEdit, "editou a mensagem: «Oi, quero saber o preço do plano mensal» (antes: " + quoted + ")"},
		{"evolution/messages_upsert_revoke.json", AnnotationDelete, "apagou a mensagem " + quoted},
	}
	for _, tt := range tests {
		if res := ingestFixture(t, ing, evo, tt.fixture); res.Annotations != 1 || res.Stored != 0 {
			t.Fatalf("%s: want one annotation and no message, got %+v", tt.fixture, res)
		}
	}
	// The platform delivers the reaction again: it is stored once.
	if res := ingestFixture(t, ing, evo, "evolution/messages_upsert_reaction.json"); res.Annotations != 0 || res.Stored != 0 {
		t.Fatalf("a retried reaction was stored again: %+v", res)
	}
	if turns.count() != 1 {
		t.Fatalf("a reaction, an edit or a deletion woke the bot: %d turns", turns.count())
	}

	timeline := e.timelineOf(t, maria)
	var msg memory.Event
	for _, ev := range eventsOfKind(timeline, memory.EventMessage) {
		if ev.ID == question {
			msg = ev
		}
	}
	if msg.ID == 0 {
		t.Fatalf("the question is not on Maria's timeline: %+v", timeline)
	}
	annotations := eventsOfKind(timeline, memory.EventAnnotation)
	if len(annotations) != len(tests) {
		t.Fatalf("want %d annotations on Maria's timeline, got %d: %+v", len(tests), len(annotations), annotations)
	}
	for i, tt := range tests {
		ev := annotations[i]
		var p annotationPayload
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if ev.Text != tt.text {
			t.Errorf("%s: the attendant reads %q, want %q", tt.fixture, ev.Text, tt.text)
		}
		if p.Annotation != tt.kind || p.TargetEventID != question || p.Target != "BC7C359922CE05061D5E20397E3E9534" {
			t.Errorf("%s: payload %+v, want a %s of event %d", tt.fixture, p, tt.kind, question)
		}
		if ev.ContactID != msg.ContactID || ev.ConversationID == nil || msg.ConversationID == nil || *ev.ConversationID != *msg.ConversationID {
			t.Errorf("%s: not in the conversation of the message it is about", tt.fixture)
		}
		if ev.Direction != memory.DirectionIn || ev.Author != memory.AuthorContact {
			t.Errorf("%s: stored as %s/%s, want in/contact", tt.fixture, ev.Direction, ev.Author)
		}
	}
}

// TestAReactionToAMessageAtendeNeverSawLandsOnTheSendersTimeline: Maria
// reacts to a message sent before Atende was connected; the reaction is on
// her timeline, says it is about a message Atende does not have, and wakes
// no one.
func TestAReactionToAMessageAtendeNeverSawLandsOnTheSendersTimeline(t *testing.T) {
	e := newOutboxEnv(t)
	wa := e.whatsapp(t, "http://127.0.0.1:9")
	turns := &recordingTurns{}
	res := ingestFixture(t, NewIngestor(e.pool, e.mem, turns), wa, "whatsapp_cloud/webhook_reaction.json")
	if res.Annotations != 1 || res.Stored != 0 || turns.count() != 0 {
		t.Fatalf("want one annotation and no turn: %+v, %d turns", res, turns.count())
	}
	annotations := eventsOfKind(e.timelineOf(t, maria), memory.EventAnnotation)
	if len(annotations) != 1 || annotations[0].Text != "reagiu com 👍 a uma mensagem" {
		t.Fatalf("Maria's timeline: %+v", annotations)
	}
	var p annotationPayload
	if err := json.Unmarshal(annotations[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.TargetEventID != 0 || p.Target != parseFixture(t, "whatsapp_cloud/webhook_text.json").Messages[0].ExternalID {
		t.Fatalf("payload %+v: the platform id of the unseen message, and no event", p)
	}
}

// TestQuietMessagesAreStoredAndWakeNoOne: a number-change notice and a
// public comment on an ad are for the attendant: on the timeline, and the
// bot does not answer them.
func TestQuietMessagesAreStoredAndWakeNoOne(t *testing.T) {
	e := newOutboxEnv(t)
	wa := e.whatsapp(t, "http://127.0.0.1:9")
	ig, err := e.channels.Create(context.Background(), e.acct, NewChannel{Kind: KindInstagram, Name: "ig",
		Settings: map[string]string{"instagram_id": "17841400123456789", "base_url": "http://127.0.0.1:9"},
		Secrets:  map[string]string{"app_secret": "s", "verify_token": "v", "access_token": "IGQ-test"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ch      Channel
		fixture string
		who     memory.Identity
		text    string
	}{
		{wa, "whatsapp_cloud/webhook_system_number_change.json", maria, "User Maria Silva changed from 5511987654321 to 5511912345678"},
		{ig, "instagram/webhook_comment_on_ad.json", memory.Identity{Kind: memory.KindInstagram, Value: "7654321098765432"}, "Tem no 37? Quanto fica no Pix?"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			turns := &recordingTurns{}
			if res := ingestFixture(t, NewIngestor(e.pool, e.mem, turns), tt.ch, tt.fixture); res.Stored != 1 || turns.count() != 0 {
				t.Fatalf("want it stored and no turn: %+v, %d turns", res, turns.count())
			}
			msgs := eventsOfKind(e.timelineOf(t, tt.who), memory.EventMessage)
			if len(msgs) != 1 || msgs[0].Text != tt.text {
				t.Fatalf("the timeline shows %+v, want %q", msgs, tt.text)
			}
		})
	}
	// The new number is Maria's: a message from it reaches the same contact.
	moved, err := e.mem.FindByIdentity(context.Background(), e.acct, memory.Identity{Kind: memory.KindPhone, Value: "+5511912345678"})
	if err != nil {
		t.Fatalf("the new number joined no contact: %v", err)
	}
	if was, _ := e.mem.FindByIdentity(context.Background(), e.acct, maria); was.ID != moved.ID {
		t.Fatal("the new number belongs to someone other than Maria")
	}
}
