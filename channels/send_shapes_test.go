package channels

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/google/uuid"
)

// TestSendRequestsMatchThePlatformFixtures sends, through each platform's
// sender, the message a send fixture shows, and compares the JSON body the
// local platform server received with the fixture.
func TestSendRequestsMatchThePlatformFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		kind    Kind
		msg     PlatformMessage
		answer  string
		path    string
		ignore  []string // fixture fields Atende does not send
	}{
		{"whatsapp_cloud/send_text_request.json", KindWhatsApp,
			PlatformMessage{To: "+5531988776655", Text: "Olá, João! O plano anual custa *R$ 1.188,00* (equivale a R$ 99,00/mês). Posso te enviar o link de pagamento?"},
			`{"messages":[{"id":"wamid.X"}]}`, "/1/messages", nil},
		{"whatsapp_cloud/send_template_request.json", KindWhatsApp,
			PlatformMessage{To: "5511987654321", Template: &Template{Name: "retomada_atendimento", Language: "pt_BR", Params: []string{"Maria", "plano anual"}}},
			`{"messages":[{"id":"wamid.X"}]}`, "/1/messages", nil},
		{"instagram/send_text_request.json", KindInstagram,
			PlatformMessage{To: "7654321098765432", Text: "O plano anual sai por R$ 1.188,00. Quer o link de pagamento?"},
			`{"recipient_id":"7654321098765432","message_id":"m"}`, "/2/messages", nil},
		{"instagram/send_human_agent_request.json", KindInstagram,
			PlatformMessage{To: "7654321098765432", Tag: "HUMAN_AGENT", Text: "Oi! Aqui é a Ana, do atendimento. Conferi seu pedido e a troca foi aprovada."},
			`{"recipient_id":"7654321098765432","message_id":"m"}`, "/2/messages", nil},
		{"telegram/sendMessage_request.json", KindTelegram,
			PlatformMessage{To: "5123456789", ReplyTo: "5123456789:1042", Text: "Olá, Maria! O plano anual custa <b>R$ 1.188,00</b> (R$ 99,00/mês). Quer o link de pagamento?"},
			`{"ok":true,"result":{"message_id":1043,"chat":{"id":5123456789}}}`, "/botT/sendMessage", nil},
		{"evolution/send_text_request.json", KindEvolution,
			PlatformMessage{To: "5531988776655", Text: "Olá, João! O plano anual custa *R$ 1.188,00*. Posso te enviar o link de pagamento?"},
			`{"key":{"id":"3EB0"}}`, "/message/sendText/loja", []string{"delay"}},
		{"chatwoot/create_message_request.json", KindChatwoot,
			PlatformMessage{To: "128", Text: "Olá, Maria! O plano anual custa R$ 1.188,00. Posso te enviar o link de pagamento?"},
			`{"id":2202}`, "/api/v1/accounts/1/conversations/128/messages", nil},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			srv := newPlatformServer(t, func(int) string { return tt.answer })
			ch := Channel{ID: uuid.New(), Kind: tt.kind,
				Settings: map[string]string{"base_url": srv.URL, "phone_number_id": "1", "instagram_id": "2", "instance": "loja", "account_id": "1"},
				Secrets:  map[string]string{"access_token": "tok", "bot_token": "T", "apikey": "k", "api_access_token": "cw"}}
			if _, err := NewPlatforms(nil, nil, nil).Send(context.Background(), ch, tt.msg); err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := json.Unmarshal(readFixture(t, tt.fixture), &want); err != nil {
				t.Fatal(err)
			}
			for _, k := range tt.ignore {
				delete(want, k)
			}
			got := srv.all()[0]
			if got.Path != tt.path {
				t.Errorf("path %s, want %s", got.Path, tt.path)
			}
			if !reflect.DeepEqual(got.Body, want) {
				g, _ := json.Marshal(got.Body)
				w, _ := json.Marshal(want)
				t.Fatalf("body differs from the fixture:\n got %s\nwant %s", g, w)
			}
		})
	}
}
