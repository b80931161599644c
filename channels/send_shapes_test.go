package channels

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atende/atende/internal/outbound"
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
		answer  string // a fixture file name, or the answer itself
		wantID  string
		path    string
		ignore  []string // fixture fields Atende does not send
	}{
		{"whatsapp_cloud/send_text_request.json", KindWhatsApp,
			PlatformMessage{To: "+5531988776655", Text: "Olá, João! O plano anual custa *R$ 1.188,00* (equivale a R$ 99,00/mês). Posso te enviar o link de pagamento?"},
			"whatsapp_cloud/send_text_response.json", "wamid.GAw1NTMxODg3NzY2NTUVAgASGCBEMEExQkU0RDA2NzM0Njk2Q0M4NzEzRTZCQzJGMDM0QgA=", "/1/messages", nil},
		// a username customer without a phone is addressed by "recipient", with no "to"
		{"whatsapp_cloud/send_text_bsuid_request.json", KindWhatsApp,
			PlatformMessage{To: "BR.1839204756610284", Text: "Oi, Rafael! Entregamos em Curitiba, sim: o frete sai por R$ 19,90 e chega em até 3 dias úteis."},
			"whatsapp_cloud/send_text_bsuid_response.json", "wamid.HBgNMTgzOTIwNDc1NjYxMDI4NAFQIARGBI4QzFBMkQ0RTVGNjA3MTgyOTNBNEI1QzZEN0U4RjkA", "/1/messages", nil},
		{"whatsapp_cloud/send_template_request.json", KindWhatsApp,
			PlatformMessage{To: "5511987654321", Template: &Template{Name: "retomada_atendimento", Language: "pt_BR", Params: []string{"Maria", "plano anual"}}},
			"whatsapp_cloud/send_template_response.json", "wamid.GA01NTExOTg3NjU0MzIxFQIAEhggNUUwQkYzMkVEQTFGQ0I4RTUyNzgzRTUzMDdGMDExRjYA", "/1/messages", nil},
		{"instagram/send_text_request.json", KindInstagram,
			PlatformMessage{To: "7654321098765432", Text: "O plano anual sai por R$ 1.188,00. Quer o link de pagamento?"},
			"instagram/send_text_response.json", "aWdfbWVzc2FnZV9pdGVtOjE6SUdNZXNzYWdlVGhyZWFkOjE3ODQxNDAwMTIzNDU2Nzg5OjMyODQyMjc2NzI4ODI3NDI0NTI1MDkzNzk4ODc", "/2/messages", nil},
		{"instagram/send_human_agent_request.json", KindInstagram,
			PlatformMessage{To: "7654321098765432", Tag: "HUMAN_AGENT", Text: "Oi! Aqui é a Ana, do atendimento. Conferi seu pedido e a troca foi aprovada."},
			`{"recipient_id":"7654321098765432","message_id":"m"}`, "m", "/2/messages", nil},
		{"telegram/sendMessage_request.json", KindTelegram,
			PlatformMessage{To: "5123456789", ReplyTo: "5123456789:1042", Text: "Olá, Maria! O plano anual custa <b>R$ 1.188,00</b> (R$ 99,00/mês). Quer o link de pagamento?"},
			"telegram/sendMessage_response.json", "5123456789:1045", "/botT/sendMessage", nil},
		{"evolution/send_text_request.json", KindEvolution,
			PlatformMessage{To: "5531988776655", Text: "Olá, João! O plano anual custa *R$ 1.188,00*. Posso te enviar o link de pagamento?"},
			"evolution/send_text_response.json", "3EB08F0B590C3166115367", "/message/sendText/loja", []string{"delay"}},
		{"chatwoot/create_message_request.json", KindChatwoot,
			PlatformMessage{To: "128", Text: "Olá, Maria! O plano anual custa R$ 1.188,00. Posso te enviar o link de pagamento?"},
			`{"id":2202}`, "2202", "/api/v1/accounts/1/conversations/128/messages", nil},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			answer := tt.answer
			if strings.HasSuffix(answer, ".json") {
				answer = string(readFixture(t, answer))
			}
			srv := newPlatformServer(t, func(int) string { return answer })
			ch := Channel{ID: uuid.New(), Kind: tt.kind,
				Settings: map[string]string{"base_url": srv.URL, "phone_number_id": "1", "instagram_id": "2", "instance": "loja", "account_id": "1"},
				Secrets:  map[string]string{"access_token": "tok", "bot_token": "T", "apikey": "k", "api_access_token": "cw"}}
			id, err := NewPlatforms(outbound.TestRig(), nil, nil).Send(context.Background(), ch, tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if id != tt.wantID {
				t.Errorf("platform id %q read from the answer, want %q", id, tt.wantID)
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

// TestPlatformErrorsAreClassified reads the error bodies the platforms send.
func TestPlatformErrorsAreClassified(t *testing.T) {
	tests := []struct {
		fixture    string
		kind       Kind
		status     int
		retryable  bool
		retryAfter time.Duration
		says       string
	}{
		{"telegram/error_429_too_many_requests.json", KindTelegram, 429, true, 7 * time.Second, "platform error code 429: rate limited"},
		{"telegram/error_403_blocked.json", KindTelegram, 403, false, 0, "platform error code 403: the customer blocked the bot"},
		{"whatsapp_cloud/send_error_pair_rate_limit.json", KindWhatsApp, 400, true, 0, "platform error code 131056: rate limited"},
		{"whatsapp_cloud/send_error_pair_rate_limit.json", KindWhatsApp, 500, true, 0, "platform error code 131056: rate limited"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			srv := newPlatformServer(t, nil, scripted{status: tt.status, body: string(readFixture(t, tt.fixture))})
			ch := Channel{ID: uuid.New(), Kind: tt.kind, Settings: map[string]string{"base_url": srv.URL, "phone_number_id": "1"},
				Secrets: map[string]string{"access_token": "tok", "bot_token": "T"}}
			_, err := NewPlatforms(outbound.TestRig(), nil, nil).Send(context.Background(), ch, PlatformMessage{To: "5123456789", Text: "oi"})
			var se *SendError
			if !errors.As(err, &se) || se.Retryable != tt.retryable || se.RetryAfter != tt.retryAfter || !strings.Contains(se.Reason, tt.says) {
				t.Fatalf("got %#v", err)
			}
		})
	}
}
