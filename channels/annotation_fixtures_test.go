package channels

import (
	"strings"
	"testing"
)

// parserOf is each platform folder's webhook parser.
var parserOf = map[string]func([]byte) (Batch, error){
	"whatsapp_cloud": ParseWhatsAppCloud,
	"evolution":      ParseEvolution,
	"telegram":       ParseTelegram,
	"instagram":      ParseInstagram,
}

// parseFixture parses a webhook fixture with its platform's parser.
func parseFixture(t *testing.T, name string) Batch {
	t.Helper()
	folder, _, _ := strings.Cut(name, "/")
	b, err := parserOf[folder](readFixture(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// TestReactionsEditsAndDeletionsAreNotMessages reads each platform's
// reaction, edit and deletion fixtures: each is one annotation of the
// message another fixture holds, so the attendant sees it on that message,
// and none is a message the bot would answer.
func TestReactionsEditsAndDeletionsAreNotMessages(t *testing.T) {
	tests := []struct {
		fixture  string
		kind     AnnotationKind
		about    string // the fixture of the message it is about; "" when the platform names none
		emoji    string
		text     string // an edit's new text
		business bool   // done by the business on its own phone or app
	}{
		{"whatsapp_cloud/webhook_reaction.json", AnnotationReaction, "whatsapp_cloud/webhook_text.json", "👍", "", false},
		{"whatsapp_cloud/webhook_reaction_removed.json", AnnotationReaction, "whatsapp_cloud/webhook_text.json", "", "", false},
		{"whatsapp_cloud/webhook_edit_caption.json", AnnotationEdit, "whatsapp_cloud/webhook_image.json", "", "Segue o comprovante do Pix de R$ 1.188,00", false},
		{"whatsapp_cloud/webhook_echo_edit.json", AnnotationEdit, "whatsapp_cloud/webhook_echo_text.json", "",
			"Oi, Maria! Aqui é a Ana, da loja. O plano anual sai por R$ 1.128,60 no Pix (5% de desconto).", true},
		{"evolution/messages_upsert_reaction.json", AnnotationReaction, "evolution/messages_upsert_text.json", "👍", "", false},
		{"evolution/messages_upsert_reaction_removed.json", AnnotationReaction, "evolution/messages_upsert_text.json", "", "", false},
		{"evolution/messages_upsert_edit.json", AnnotationEdit, "evolution/messages_upsert_text.json", "", "Oi, quero saber o preço do plano mensal", false},
		{"evolution/messages_upsert_revoke.json", AnnotationDelete, "evolution/messages_upsert_text.json", "", "", false},
		{"telegram/update_edited_message.json", AnnotationEdit, "telegram/update_text_private.json", "", "Oi, quero saber o preço do plano anual e do mensal", false},
		{"instagram/webhook_unsent.json", AnnotationDelete, "instagram/webhook_text.json", "", "", false},
		{"instagram/webhook_like_heart.json", AnnotationReaction, "", "❤️", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			b := parseFixture(t, tt.fixture)
			if len(b.Messages) != 0 || len(b.Annotations) != 1 {
				t.Fatalf("want one annotation and no message, got %d messages and %d annotations", len(b.Messages), len(b.Annotations))
			}
			a := b.Annotations[0]
			target := ""
			if tt.about != "" {
				target = parseFixture(t, tt.about).Messages[0].ExternalID
			}
			if a.Kind != tt.kind || a.Target != target || a.Emoji != tt.emoji || a.Text != tt.text || a.FromBusiness != tt.business {
				t.Fatalf("got %s of %q (emoji %q, text %q, business %v), want %s of %q (emoji %q, text %q, business %v)",
					a.Kind, a.Target, a.Emoji, a.Text, a.FromBusiness, tt.kind, target, tt.emoji, tt.text, tt.business)
			}
			if len(a.From.Identities) == 0 {
				t.Fatal("no sender: an annotation of a message Atende never saw would be lost")
			}
		})
	}
}
