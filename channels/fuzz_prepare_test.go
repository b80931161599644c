package channels

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/atende/atende/internal/sanitize"
)

// storable reports why a string could not go into a PostgreSQL text column.
func storable(t *testing.T, what, s string) {
	t.Helper()
	if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
		t.Fatalf("%s is not storable: %q", what, s)
	}
}

// noNUL fails when any string of m holds a NUL, which jsonb refuses (as the
// escape \u0000): m goes through JSON and back (NUL survives the trip), is
// cleaned, and must encode the same.
func noNUL(t *testing.T, m Inbound) {
	t.Helper()
	before, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var again Inbound
	if err := json.Unmarshal(before, &again); err != nil {
		t.Fatal(err)
	}
	sanitize.Strings(&again)
	after, err := json.Marshal(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatalf("a NUL is left in the message:\n%s\n%s", before, after)
	}
}

// FuzzPrepareInbound feeds any body, NUL and broken UTF-8 included, through
// every JSON parser and the ingest preparation: what comes out must be
// storable in PostgreSQL text and jsonb (no NUL, valid UTF-8, no \u0000 in
// the payload), with an id, a sender, a sane time and bounded agent text.
func FuzzPrepareInbound(f *testing.F) {
	seedFuzz(f, "whatsapp_cloud", "instagram", "evolution", "telegram", "chatwoot", "email")
	f.Add([]byte(`{"update_id":1,"message":{"message_id":1,"from":{"id":1,"first_name":"a\u0000"},"chat":{"id":1,"type":"private"},"date":99999999999,"text":"\u0000\u0000"}}`))
	f.Add([]byte("{\"event\":\"message_created\",\"id\":1,\"content\":\"\xff\\u0000\",\"message_type\":\"incoming\",\"sender\":{\"id\":1},\"conversation\":{\"id\":1}}"))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	parsers := []func([]byte) (Batch, error){ParseWhatsAppCloud, ParseInstagram, ParseEvolution, ParseTelegram, ParseChatwoot, ParsePostmarkInbound}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, parse := range parsers {
			b, err := parse(body)
			if err != nil {
				continue
			}
			for _, m := range b.Messages {
				p, err := prepareInbound(m, now)
				if err != nil {
					continue
				}
				full := boundInbound(&p)
				storable(t, "text", p.Text)
				storable(t, "full text", full)
				storable(t, "external id", p.ExternalID)
				storable(t, "sender name", p.From.Name)
				if len(p.Text) > MaxAgentTextBytes+len(cutMarker(len(full)))+2 {
					t.Fatalf("agent text of %d bytes", len(p.Text))
				}
				if len(p.From.Identities) == 0 {
					t.Fatal("no sender")
				}
				for _, id := range p.From.Identities {
					storable(t, "identity", id.Value)
				}
				if !p.At.IsZero() && (p.At.Before(earliestMessage) || p.At.After(now.Add(latestSkew))) {
					t.Fatalf("time %v", p.At)
				}
				noNUL(t, p)
			}
			for _, a := range b.Annotations {
				if p, err := prepareAnnotation(a, now); err == nil {
					storable(t, "annotation text", p.Text)
					storable(t, "annotation emoji", p.Emoji)
					storable(t, "annotation target", p.Target)
					storable(t, "annotation id", annotationID(p))
				}
			}
			for _, s := range b.Statuses {
				if p, err := prepareStatus(s, now); err == nil {
					storable(t, "status reason", p.Reason)
					storable(t, "status id", p.ExternalID)
				}
			}
		}
	})
}
