package api

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/url"
	"strconv"
	"testing"

	"github.com/atende/atende/channels"
)

// A customer's text carrying a NUL (a \u0000 escape in JSON, a raw 0x00 in a
// form) and a byte that is not UTF-8, as each platform would deliver it, and
// what the timeline must show.
const (
	poisonRaw   = "Oi\x00, quero o boleto \xff"
	poisonJSON  = `"Oi\u0000, quero o boleto ` + "\xff" + `"`
	poisonClean = "Oi, quero o boleto \uFFFD"
)

// turnsQueued counts the answer jobs waiting for a contact.
func (s *testServer) turnsQueued(t *testing.T, contactID string) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM river_job WHERE kind = 'agent_turn' AND args->>'contact_id' = $1`, contactID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// metaHeaders signs a body as Meta does.
func metaHeaders(body []byte) map[string]string {
	return map[string]string{"X-Hub-Signature-256": "sha256=" + hmacHex(metaSecret, body)}
}

func (s *testServer) unixNow() int64 { return s.clock.Load().Unix() }

func TestPoisonTextIsStoredAndAnsweredOnEveryChannel(t *testing.T) {
	s := newTestServer(t)
	metaSecrets := map[string]string{"app_secret": metaSecret, "verify_token": verifyToken, "access_token": "x"}
	wa := s.channel(t, channels.NewChannel{Kind: channels.KindWhatsApp, Name: "wa", Settings: map[string]string{"phone_number_id": "1"}, Secrets: metaSecrets})
	ig := s.channel(t, channels.NewChannel{Kind: channels.KindInstagram, Name: "ig", Settings: map[string]string{"instagram_id": "17841400123456789"}, Secrets: metaSecrets})
	evo := s.channel(t, channels.NewChannel{Kind: channels.KindEvolution, Name: "evo",
		Settings: map[string]string{"instance": "atende-loja-centro", "base_url": "http://127.0.0.1:1"}, Secrets: map[string]string{"apikey": evolutionKey}})
	tg := s.channel(t, channels.NewChannel{Kind: channels.KindTelegram, Name: "tg", Secrets: map[string]string{"bot_token": "1:x", "secret_token": telegramSecret}})
	wc := s.channel(t, channels.NewChannel{Kind: channels.KindWebchat, Name: "site"})
	pm := s.channel(t, channels.NewChannel{Kind: channels.KindEmail, Name: "postmark",
		Settings: map[string]string{"provider": "postmark", "address": "a@lojaexemplo.com.br"}, Secrets: map[string]string{"inbound_token": inboundToken}})
	sg := s.channel(t, channels.NewChannel{Kind: channels.KindEmail, Name: "sendgrid",
		Settings: map[string]string{"provider": "sendgrid", "address": "b@lojaexemplo.com.br"}, Secrets: map[string]string{"inbound_token": inboundToken}})
	mg := s.channel(t, channels.NewChannel{Kind: channels.KindEmail, Name: "mailgun",
		Settings: map[string]string{"provider": "mailgun", "address": "c@lojaexemplo.com.br"}, Secrets: map[string]string{"signing_key": mailgunKey}})
	cwSecret := "cw-webhook-secret-for-tests-0001"
	cw := s.channel(t, channels.NewChannel{Kind: channels.KindChatwoot, Name: "cw",
		Settings: map[string]string{"base_url": "http://127.0.0.1:1", "account_id": "1"}, Secrets: map[string]string{"webhook_secret": cwSecret, "api_access_token": "x"}})
	now := s.unixNow()

	tests := []struct {
		name     string
		send     func(t *testing.T) (int, webhookReply)
		identity string
		wantName string
	}{
		{"whatsapp cloud", func(t *testing.T) (int, webhookReply) {
			body := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
				"metadata":{"display_phone_number":"5511900000000","phone_number_id":"1"},"contacts":[{"profile":{"name":"Maria\u0000 Silva"},"wa_id":"5511987650001"}],
				"messages":[{"from":"5511987650001","id":"wamid.poison1","timestamp":"%d","type":"text","text":{"body":%s}}]}}]}]}`, now, poisonJSON)
			return s.post(t, webhookPath(wa), body, metaHeaders(body))
		}, "phone:+5511987650001", "Maria Silva"},
		{"instagram", func(t *testing.T) (int, webhookReply) {
			body := fmt.Appendf(nil, `{"object":"instagram","entry":[{"id":"17841400123456789","time":%d,"messaging":[{"sender":{"id":"7654321000000001"},
				"recipient":{"id":"17841400123456789"},"timestamp":%d,"message":{"mid":"aWdfZAG1poison1","text":%s}}]}]}`, now*1000, now*1000, poisonJSON)
			return s.post(t, webhookPath(ig), body, metaHeaders(body))
		}, "instagram:7654321000000001", ""},
		{"evolution", func(t *testing.T) (int, webhookReply) {
			body := fmt.Appendf(nil, `{"event":"messages.upsert","instance":"atende-loja-centro","data":{"key":{"remoteJid":"5511987650002@s.whatsapp.net","fromMe":false,
				"id":"3EB0POISON0001"},"pushName":"Ana\u0000 Lima","message":{"conversation":%s},"messageType":"conversation","messageTimestamp":%d}}`, poisonJSON, now)
			return s.post(t, webhookPath(evo), body, map[string]string{"apikey": evolutionKey})
		}, "phone:+5511987650002", "Ana Lima"},
		{"telegram", func(t *testing.T) (int, webhookReply) {
			body := fmt.Appendf(nil, `{"update_id":900000001,"message":{"message_id":77,"from":{"id":5100000001,"is_bot":false,"first_name":"Jo\u0000ão"},
				"chat":{"id":5100000001,"type":"private"},"date":%d,"text":%s}}`, now, poisonJSON)
			return s.post(t, webhookPath(tg), body, map[string]string{"X-Telegram-Bot-Api-Secret-Token": telegramSecret})
		}, "telegram:5100000001", "João"},
		{"webchat", func(t *testing.T) (int, webhookReply) {
			var sess struct{ Token string }
			if code := s.call(t, "", "POST", "/webchat/"+wc.ID.String()+"/sessions", map[string]string{"visitor_id": "poisonvisitor01"}, &sess); code != 200 {
				t.Fatalf("webchat session: %d", code)
			}
			body := []byte(`{"visitor_id":"poisonvisitor01","client_id":"c-poison-1","text":` + poisonJSON + `}`)
			return s.post(t, "/webchat/"+wc.ID.String()+"/messages", body, map[string]string{"X-Webchat-Token": sess.Token})
		}, "webchat:poisonvisitor01", ""},
		{"e-mail, postmark json", func(t *testing.T) (int, webhookReply) {
			body := []byte(`{"FromName":"Carla\u0000 Dias","From":"carla.poison@exemplo.com.br","Subject":"Boleto\u0000","Date":"Fri, 21 Nov 2025 13:31:00 -0300",
				"TextBody":` + poisonJSON + `,"StrippedTextReply":` + poisonJSON + `,"Headers":[{"Name":"Message-ID","Value":"<poison-pm-1@exemplo.com.br>"}]}`)
			return s.post(t, webhookPath(pm)+"?token="+inboundToken, body, nil)
		}, "email:carla.poison@exemplo.com.br", "Carla Dias"},
		{"e-mail, sendgrid multipart", func(t *testing.T) (int, webhookReply) {
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			for k, v := range map[string]string{"from": "Dani\x00 Reis <dani.poison@exemplo.com.br>", "subject": "Boleto\x00", "text": poisonRaw,
				"headers": "Message-ID: <poison-sg-1@exemplo.com.br>\nSubject: Boleto\n", "attachments": "0"} {
				if err := w.WriteField(k, v); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			return s.post(t, webhookPath(sg)+"?token="+inboundToken, buf.Bytes(), map[string]string{"Content-Type": w.FormDataContentType()})
		}, "email:dani.poison@exemplo.com.br", ""},
		{"e-mail, mailgun form", func(t *testing.T) (int, webhookReply) {
			ts, token := strconv.FormatInt(now, 10), "poison-token-000000000000000000000000000001"
			form := url.Values{"from": {"Eva <eva.poison@exemplo.com.br>"}, "subject": {"Boleto"}, "body-plain": {poisonRaw},
				"Message-Id": {"<poison-mg-1@exemplo.com.br>"}, "timestamp": {ts}, "token": {token},
				"signature": {hmacHex(mailgunKey, []byte(ts+token))}}
			return s.post(t, webhookPath(mg), []byte(form.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		}, "email:eva.poison@exemplo.com.br", ""},
		{"chatwoot", func(t *testing.T) (int, webhookReply) {
			body := []byte(`{"event":"message_created","id":3301,"content":` + poisonJSON + `,"message_type":"incoming","private":false,
				"sender":{"id":4201,"name":"Bia\u0000 Melo","email":null,"phone_number":"+5511987650003","identifier":null,"custom_attributes":{},"type":"contact"},
				"conversation":{"id":901}}`)
			ts := strconv.FormatInt(now, 10)
			return s.post(t, webhookPath(cw), body, map[string]string{"X-Chatwoot-Timestamp": ts,
				"X-Chatwoot-Signature": "sha256=" + hmacHex(cwSecret, append([]byte(ts+"."), body...))})
		}, "chatwoot:4201", "Bia Melo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, reply := tt.send(t)
			if code != 200 || reply.Stored != 1 {
				t.Fatalf("%d %+v, want 200 with the message stored", code, reply)
			}
			c := s.contactBy(t, tt.identity)
			msgs := messagesOf(s.timeline(t, c.ID))
			if len(msgs) != 1 || msgs[0].Text != poisonClean {
				t.Fatalf("timeline %+v, want one message %q", msgs, poisonClean)
			}
			if tt.wantName != "" && c.Name != tt.wantName {
				t.Errorf("contact named %q, want %q", c.Name, tt.wantName)
			}
			if n := s.turnsQueued(t, c.ID); n != 1 {
				t.Errorf("%d answers queued, want 1", n)
			}
			// A retry is the same message, not a second one.
			if code, again := tt.send(t); code >= 500 {
				t.Errorf("retry: %d %+v", code, again)
			}
		})
	}
}

func TestWebchatPreChatWithANulAndAMessageOfOnlyNuls(t *testing.T) {
	s := newTestServer(t)
	wc := s.channel(t, channels.NewChannel{Kind: channels.KindWebchat, Name: "site"})
	var sess struct{ Token string }
	body := `{"visitor_id":"poisonvisitor02","name":"Ana\u0000 Paula","email":"ana.poison@exemplo.com.br\u0000"}`
	if code := s.call(t, "", "POST", "/webchat/"+wc.ID.String()+"/sessions", body, &sess); code != 200 || sess.Token == "" {
		t.Fatalf("a NUL in the pre-chat form: %d", code)
	}
	if c := s.contactBy(t, "email:ana.poison@exemplo.com.br"); c.Name != "Ana Paula" {
		t.Fatalf("contact named %q", c.Name)
	}
	// Nothing but NULs is an empty message: the widget is told so, nothing is stored.
	msg := []byte(`{"visitor_id":"poisonvisitor02","client_id":"c-nul","text":"\u0000\u0000 "}`)
	if code, reply := s.post(t, "/webchat/"+wc.ID.String()+"/messages", msg, map[string]string{"X-Webchat-Token": sess.Token}); code != 400 || reply.Error.Code == "" {
		t.Fatalf("a message of only NULs: %d %+v", code, reply)
	}
	if msgs := messagesOf(s.timeline(t, s.contactBy(t, "webchat:poisonvisitor02").ID)); len(msgs) != 0 {
		t.Fatalf("stored %+v", msgs)
	}
}
