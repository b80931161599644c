package channels

import (
	"slices"
	"testing"
)

// TestParsersSkipTheBadItemAndKeepTheRest: a delivery mixing good and bad
// items parses to the good ones, and names each bad one with its reason.
func TestParsersSkipTheBadItemAndKeepTheRest(t *testing.T) {
	tests := []struct {
		name       string
		parse      func([]byte) (Batch, error)
		body       string
		messages   []string
		statuses   int
		skippedIDs []string
	}{
		{"whatsapp cloud", ParseWhatsAppCloud, `{"object":"whatsapp_business_account","entry":[
			{"changes":[{"field":"messages","value":{"contacts":[{"wa_id":"5511987654321","profile":{"name":"Maria"}}, 7],"messages":[
				{"id":"wamid.nosender","from":"5678","timestamp":"1","type":"text","text":{"body":"x"}},
				{"id":"wamid.good","from":"5511987654321","timestamp":"1","type":"text","text":{"body":"oi"}},
				{"id":"wamid.shape","from":"5511987654321","timestamp":1,"type":"text"}],
			"statuses":[{"id":"wamid.s1","status":"read","timestamp":"1"},{"id":"wamid.s2","status":"read","timestamp":"x"}]}},
			{"field":"messages","value":[]}]},
			"not an entry"]}`,
			[]string{"wamid.good"}, 1, []string{"wamid.nosender", "wamid.shape", "wamid.s2", "", ""}},
		{"instagram", ParseInstagram, `{"object":"instagram","entry":[{"messaging":[
			{"sender":{"id":"1"},"timestamp":1,"message":{"text":"no mid"}},
			{"sender":{"id":"1"},"timestamp":"soon","message":{"mid":"m.shape"}},
			{"timestamp":1,"postback":{"mid":"p.nosender","title":"x"}},
			{"sender":{"id":"1"},"timestamp":1,"message":{"mid":"m.good","text":"oi"}}]}, []]}`,
			[]string{"m.good"}, 0, []string{"", "", "p.nosender", ""}},
		{"evolution", ParseEvolution, `{"event":"messages.upsert","data":[
			{"key":{"id":"E1"}},
			{"key":{"id":"E2","remoteJid":"5511987654321@s.whatsapp.net"},"messageTimestamp":"soon"},
			{"key":{"id":"E3","remoteJid":"5511987654321@s.whatsapp.net"},"message":{"conversation":"oi"}}]}`,
			[]string{"E3"}, 0, []string{"E1", "E2"}},
		{"evolution statuses", ParseEvolution, `{"event":"messages.update","data":[{"keyId":"K1","status":"READ"},{"keyId":"K2","status":7}]}`,
			nil, 1, []string{"K2"}},
		{"chatwoot", ParseChatwoot, `{"event":"message_created","id":5,"message_type":"incoming","conversation":{}}`,
			nil, 0, []string{"5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.parse([]byte(tt.body))
			if err != nil {
				t.Fatalf("a delivery with a good item must parse: %v", err)
			}
			var got, skipped []string
			for _, m := range b.Messages {
				got = append(got, m.ExternalID)
			}
			for _, s := range b.Skipped {
				if s.Reason == "" {
					t.Errorf("skipped %q without a reason", s.ExternalID)
				}
				skipped = append(skipped, s.ExternalID)
			}
			if !slices.Equal(got, tt.messages) || len(b.Statuses) != tt.statuses || !slices.Equal(skipped, tt.skippedIDs) {
				t.Fatalf("messages %q, %d statuses, skipped %q (%+v)", got, len(b.Statuses), skipped, b.Skipped)
			}
		})
	}
}
