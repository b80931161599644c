package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/fixtures"
	"github.com/atende/atende/memory"
	"github.com/jackc/pgx/v5"
)

// The fake secrets of the channel fixtures' signature_vectors.json (internal/fixtures).
const (
	metaSecret     = "c0ffee0ddba11f00dfacade5eed5a1t5"
	telegramSecret = "tg-wh_8f3KqZ2mVx9LpR4sT7yB"
	evolutionKey   = "B6D711FC-DE4D-4FD5-9365-44120E713976"
	mailgunKey     = "mailgun-signing-key-for-tests-0001"
	verifyToken    = "atende-verify-token-123"
	inboundToken   = "postmark-inbound-token-0001"
)

// signatureHeaders returns the headers signature_vectors.json gives for a fixture.
func signatureHeaders(t *testing.T, file string) map[string]string {
	t.Helper()
	var doc struct {
		Vectors []struct {
			File    string
			Headers map[string]string
		}
	}
	if err := json.Unmarshal(fixtures.Read(t, "signature_vectors.json"), &doc); err != nil {
		t.Fatal(err)
	}
	for _, v := range doc.Vectors {
		if v.File == file {
			return v.Headers
		}
	}
	return map[string]string{}
}

type webhookReply struct {
	Stored, Duplicates, Statuses int
	EventIDs                     []int64 `json:"event_ids"`
	Skipped                      []struct {
		ExternalID string `json:"external_id"`
		Reason     string
	}
	Error struct{ Code, Message string }
}

// post sends raw bytes to a webhook, as the platform would.
func (s *testServer) post(t *testing.T, path string, body []byte, headers map[string]string) (int, webhookReply) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+path, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out webhookReply
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func (s *testServer) channel(t *testing.T, n channels.NewChannel) channels.Channel {
	t.Helper()
	ch, err := s.channels.Create(context.Background(), s.acctA, n)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func webhookPath(ch channels.Channel) string {
	return "/webhooks/" + string(ch.Kind) + "/" + ch.ID.String()
}

func (s *testServer) contactBy(t *testing.T, identity string) contactJSON {
	t.Helper()
	var found struct{ Contacts []contactJSON }
	s.call(t, s.keyA, "GET", "/api/v1/contacts?identity="+url.QueryEscape(identity), nil, &found)
	if len(found.Contacts) != 1 {
		t.Fatalf("no contact for %s", identity)
	}
	return found.Contacts[0]
}

type eventJSON struct {
	Kind, Direction, Author, Channel, Text string
	ExternalID                             string `json:"external_id"`
	Payload                                map[string]any
}

func (s *testServer) timeline(t *testing.T, contactID string) []eventJSON {
	t.Helper()
	var page struct{ Events []eventJSON }
	s.call(t, s.keyA, "GET", "/api/v1/contacts/"+contactID+"/timeline?limit=500", nil, &page)
	return page.Events
}

func messagesOf(events []eventJSON) []eventJSON {
	var out []eventJSON
	for _, e := range events {
		if e.Kind == "message" {
			out = append(out, e)
		}
	}
	return out
}

func TestEveryMetaFixtureThroughTheWebhook(t *testing.T) {
	s := newTestServer(t)
	wa := s.channel(t, channels.NewChannel{Kind: channels.KindWhatsApp, Name: "WhatsApp loja",
		Settings: map[string]string{"phone_number_id": "110220330440550"},
		Secrets:  map[string]string{"app_secret": metaSecret, "verify_token": verifyToken, "access_token": "EAAG-test"}})
	ig := s.channel(t, channels.NewChannel{Kind: channels.KindInstagram, Name: "Instagram loja",
		Settings: map[string]string{"instagram_id": "17841400123456789"},
		Secrets:  map[string]string{"app_secret": metaSecret, "verify_token": verifyToken, "access_token": "IGQ-test"}})
	cases := []struct {
		ch      channels.Channel
		file    string
		contact string
		text    string
	}{
		{wa, "whatsapp_cloud/webhook_text.json", "phone:+5511987654321", "Oi, quero saber o preço do plano anual"},
		{wa, "whatsapp_cloud/webhook_text_no_ninth_digit.json", "phone:+5531988776655", ""},
		{wa, "whatsapp_cloud/webhook_text_with_bsuid.json", "whatsapp_user:BR.1502576394655843", "Consegue me mandar o boleto de novo? Perdi o e-mail 😅"},
		{wa, "whatsapp_cloud/webhook_image.json", "phone:+5511987654321", "Segue o comprovante do Pix"},
		{wa, "whatsapp_cloud/webhook_audio_voice.json", "phone:+5531988776655", ""},
		{wa, "whatsapp_cloud/webhook_interactive_button_reply.json", "phone:+5511987654321", "Plano anual"},
		{wa, "whatsapp_cloud/webhook_template_quick_reply_button.json", "phone:+5511987654321", ""},
		{ig, "instagram/webhook_text.json", "instagram:7654321098765432", "Oi, quero saber o preço do plano anual"},
		{ig, "instagram/webhook_image_attachment.json", "instagram:7654321098765432", ""},
		{ig, "instagram/webhook_story_reply.json", "instagram:7654321098765432", "Esse tênis ainda tem no 38?"},
		{ig, "instagram/webhook_story_mention.json", "instagram:7654321098765432", ""},
		{ig, "instagram/webhook_postback.json", "instagram:7654321098765432", "Ver planos e preços"},
		{ig, "instagram/webhook_quick_reply.json", "instagram:7654321098765432", "Plano anual"},
		{ig, "instagram/webhook_echo.json", "instagram:7654321098765432", "O plano anual sai por R$ 1.188,00. Quer o link de pagamento?"},
	}
	for _, tc := range cases {
		body := fixtures.Read(t, tc.file)
		headers := signatureHeaders(t, tc.file)
		code, reply := s.post(t, webhookPath(tc.ch), body, headers)
		if code != 200 || reply.Stored != 1 {
			t.Fatalf("%s: %d %+v", tc.file, code, reply)
		}
		// The platform retries: 200 and nothing new.
		if code, again := s.post(t, webhookPath(tc.ch), body, headers); code != 200 || again.Stored != 0 || again.Duplicates != 1 {
			t.Fatalf("%s retry: %d %+v", tc.file, code, again)
		}
		c := s.contactBy(t, tc.contact)
		found := false
		for _, e := range messagesOf(s.timeline(t, c.ID)) {
			if strings.HasSuffix(e.ExternalID, "/"+firstMessageID(t, body)) {
				found = true
				if tc.text != "" && e.Text != tc.text {
					t.Errorf("%s: text %q, want %q", tc.file, e.Text, tc.text)
				}
			}
		}
		if !found {
			t.Errorf("%s: message not on %s's timeline", tc.file, tc.contact)
		}
	}
	// WhatsApp's profile name named the contact; the BSUID is the same person as the phone.
	maria := s.contactBy(t, "phone:+5511987654321")
	if maria.Name != "Maria Silva" || s.contactBy(t, "whatsapp_user:BR.1502576394655843").ID != maria.ID {
		t.Fatalf("maria: %+v", maria)
	}
	// The echo is the business's own message: out, by a human.
	for _, e := range messagesOf(s.timeline(t, s.contactBy(t, "instagram:7654321098765432").ID)) {
		if strings.Contains(e.Text, "1.188,00") && (e.Direction != "out" || e.Author != "human") {
			t.Fatalf("echo stored as %s/%s", e.Direction, e.Author)
		}
	}
}

// firstMessageID digs the platform id of the first message out of a fixture.
func firstMessageID(t *testing.T, body []byte) string {
	t.Helper()
	var wa struct {
		Entry []struct {
			Changes []struct {
				Value struct{ Messages []struct{ ID string } }
			}
			Messaging []struct {
				Message  *struct{ MID string }
				Postback *struct{ MID string }
			}
		}
	}
	if err := json.Unmarshal(body, &wa); err != nil {
		t.Fatal(err)
	}
	e := wa.Entry[0]
	if len(e.Changes) > 0 {
		return e.Changes[0].Value.Messages[0].ID
	}
	if m := e.Messaging[0]; m.Message != nil {
		return m.Message.MID
	}
	return e.Messaging[0].Postback.MID
}

func TestWebhookRefusesWhatItCannotTrust(t *testing.T) {
	s := newTestServer(t)
	wa := s.channel(t, channels.NewChannel{Kind: channels.KindWhatsApp, Name: "wa",
		Settings: map[string]string{"phone_number_id": "1"},
		Secrets:  map[string]string{"app_secret": metaSecret, "verify_token": verifyToken, "access_token": "x"}})
	body := fixtures.Read(t, "whatsapp_cloud/webhook_text.json")
	good := signatureHeaders(t, "whatsapp_cloud/webhook_text.json")
	tampered := bytes.Replace(body, []byte("plano anual"), []byte("plano mensal"), 1)
	// Not WhatsApp's envelope. (A bad message inside a good envelope is
	// skipped with a 200: TestOneBadMessageNeverRefusesTheOthers.)
	garbage := []byte(`{"object":"page","entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":"x","from":"5511987654321","timestamp":"1"}]}}]}]}`)
	sign := func(b []byte) map[string]string {
		mac := hmacHex(metaSecret, b)
		return map[string]string{"X-Hub-Signature-256": "sha256=" + mac}
	}
	tests := []struct {
		name    string
		path    string
		body    []byte
		headers map[string]string
		status  int
	}{
		{"bad signature", webhookPath(wa), tampered, good, 401},
		{"missing signature", webhookPath(wa), body, nil, 401},
		{"unknown channel", "/webhooks/whatsapp/0199f0a0-0000-7000-8000-000000000000", body, good, 404},
		{"wrong kind", "/webhooks/telegram/" + wa.ID.String(), body, good, 404},
		{"not an id", "/webhooks/whatsapp/abc", body, good, 404},
		{"malformed", webhookPath(wa), garbage, sign(garbage), 400},
		{"not json", webhookPath(wa), []byte("<xml/>"), sign([]byte("<xml/>")), 400},
		{"oversized", webhookPath(wa), bytes.Repeat([]byte(" "), 2<<20), nil, 413},
	}
	for _, tt := range tests {
		if code, reply := s.post(t, tt.path, tt.body, tt.headers); code != tt.status || reply.Error.Code == "" {
			t.Errorf("%s: %d %+v, want %d with an error body", tt.name, code, reply, tt.status)
		}
	}
	var none struct{ Contacts []contactJSON }
	s.call(t, s.keyA, "GET", "/api/v1/contacts", nil, &none)
	if len(none.Contacts) != 0 {
		t.Fatalf("a refused webhook stored %d contacts", len(none.Contacts))
	}
	// Meta's GET handshake.
	q := "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" + verifyToken
	resp, err := http.Get(s.URL + webhookPath(wa) + q)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != "1158201444" {
		t.Fatalf("handshake: %d %q", resp.StatusCode, got)
	}
	resp, _ = http.Get(s.URL + webhookPath(wa) + "?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope")
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("handshake with a wrong token: %d", resp.StatusCode)
	}
}

func TestWhatsAppStatusesLandOnTheMessageTheyAreAbout(t *testing.T) {
	s := newTestServer(t)
	wa := s.channel(t, channels.NewChannel{Kind: channels.KindWhatsApp, Name: "wa",
		Settings: map[string]string{"phone_number_id": "1"},
		Secrets:  map[string]string{"app_secret": metaSecret, "verify_token": verifyToken, "access_token": "x"}})
	// The message Atende sent, as the outbound path will store it.
	res, err := s.store.Resolve(context.Background(), s.acctA, memory.KindWhatsApp, "553188776655", memory.Profile{Name: "João"})
	if err != nil {
		t.Fatal(err)
	}
	wamid := "wamid.GAw1NTMxODg3NzY2NTUVAgASGCA1ODM2NjNGQjA2REZBRTREQTMyMUJFMTBBRDU2QzQxOAA="
	err = database.InTx(context.Background(), s.pool, func(tx pgx.Tx) error {
		_, err := s.store.AppendTx(context.Background(), tx, s.acctA, memory.Event{ContactID: res.Contact.ID, Kind: memory.EventMessage,
			Direction: memory.DirectionOut, Author: memory.AuthorAI, Channel: "whatsapp", Text: "Oi João!",
			ExternalID: channels.ScopedID(wa.ID, wamid)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"webhook_status_sent.json", "webhook_status_delivered.json", "webhook_status_read.json", "webhook_status_failed.json"} {
		name := "whatsapp_cloud/" + f
		code, reply := s.post(t, webhookPath(wa), fixtures.Read(t, name), signatureHeaders(t, name))
		if code != 200 {
			t.Fatalf("%s: %d %+v", f, code, reply)
		}
	}
	var statuses []string
	for _, e := range s.timeline(t, res.Contact.ID.String()) {
		if e.Kind == "status" {
			statuses = append(statuses, e.Text)
		}
	}
	joined := strings.Join(statuses, " | ")
	if !strings.Contains(joined, "failed: Re-engagement message") {
		t.Fatalf("the failure and its reason must be on the timeline: %q", joined)
	}
}

func TestTelegramEvolutionAndEmailThroughTheWebhook(t *testing.T) {
	s := newTestServer(t)
	tg := s.channel(t, channels.NewChannel{Kind: channels.KindTelegram, Name: "bot",
		Secrets: map[string]string{"bot_token": "123:abc", "secret_token": telegramSecret}})
	evo := s.channel(t, channels.NewChannel{Kind: channels.KindEvolution, Name: "evo",
		Settings: map[string]string{"instance": "atende-loja-centro", "base_url": "http://127.0.0.1:1"},
		Secrets:  map[string]string{"apikey": evolutionKey}})
	mg := s.channel(t, channels.NewChannel{Kind: channels.KindEmail, Name: "mailgun",
		Settings: map[string]string{"provider": "mailgun", "address": "atendimento@mg.lojaexemplo.com.br"},
		Secrets:  map[string]string{"signing_key": mailgunKey}})
	pm := s.channel(t, channels.NewChannel{Kind: channels.KindEmail, Name: "postmark",
		Settings: map[string]string{"provider": "postmark", "address": "atendimento@lojaexemplo.com.br"},
		Secrets:  map[string]string{"inbound_token": inboundToken}})

	for _, f := range []string{"update_start_command.json", "update_text_private.json", "update_photo.json", "update_voice.json"} {
		name := "telegram/" + f
		if code, reply := s.post(t, webhookPath(tg), fixtures.Read(t, name), signatureHeaders(t, name)); code != 200 || reply.Stored != 1 {
			t.Fatalf("%s: %d %+v", f, code, reply)
		}
	}
	if code, _ := s.post(t, webhookPath(tg), fixtures.Read(t, "telegram/update_text_private.json"), map[string]string{"X-Telegram-Bot-Api-Secret-Token": "wrong"}); code != 401 {
		t.Fatalf("telegram with a wrong secret: %d", code)
	}
	tgMsgs := messagesOf(s.timeline(t, s.contactBy(t, "telegram:5123456789").ID))
	if len(tgMsgs) != 4 || tgMsgs[1].Text != "Oi, quero saber o preço do plano anual" {
		t.Fatalf("telegram timeline: %+v", tgMsgs)
	}

	for _, f := range []string{"messages_upsert_text.json", "messages_upsert_text_no_ninth_digit.json", "messages_upsert_quoted_reply.json",
		"messages_upsert_extended_text_v2_0.json", "messages_upsert_image.json", "messages_upsert_audio_ptt.json", "messages_upsert_lid_addressing.json"} {
		if code, reply := s.post(t, webhookPath(evo), fixtures.Read(t, "evolution/"+f), nil); code != 200 || reply.Stored != 1 {
			t.Fatalf("%s: %d %+v", f, code, reply)
		}
	}
	// fromMe carries no apikey in its body: the configured header must be there.
	fromMe := fixtures.Read(t, "evolution/messages_upsert_from_me.json")
	if code, _ := s.post(t, webhookPath(evo), fromMe, nil); code != 401 {
		t.Fatalf("evolution without apikey: %d", code)
	}
	if code, reply := s.post(t, webhookPath(evo), fromMe, map[string]string{"apikey": evolutionKey}); code != 200 || reply.Stored != 1 {
		t.Fatalf("evolution fromMe: %d %+v", code, reply)
	}
	maria := s.contactBy(t, "phone:+5511987654321")
	var human int
	for _, e := range messagesOf(s.timeline(t, maria.ID)) {
		if e.Author == "human" && e.Direction == "out" {
			human++
		}
	}
	if human != 1 {
		t.Fatalf("the business's own phone message must be a human reply: %d", human)
	}
	carla := s.contactBy(t, "whatsapp_lid:209876543210987")
	if carla.ID != s.contactBy(t, "phone:+5521998877665").ID {
		t.Fatal("a LID message must map to the same contact as its phone")
	}

	// Mailgun: signed, and a token is accepted once.
	form := url.Values{}
	var fields map[string]string
	if err := json.Unmarshal(fixtures.Read(t, "email/mailgun_route_forward_fields.json"), &fields); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		form.Set(k, v)
	}
	ts, _ := strconv.ParseInt(fields["timestamp"], 10, 64)
	s.setNow(time.Unix(ts, 0).Add(10 * time.Second))
	formHeaders := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	if code, reply := s.post(t, webhookPath(mg), []byte(form.Encode()), formHeaders); code != 200 || reply.Stored != 1 {
		t.Fatalf("mailgun: %d %+v", code, reply)
	}
	if code, _ := s.post(t, webhookPath(mg), []byte(form.Encode()), formHeaders); code != 401 {
		t.Fatalf("a replayed mailgun request must be refused: %d", code)
	}
	s.setNow(time.Now())
	if code, _ := s.post(t, webhookPath(mg), []byte(form.Encode()), formHeaders); code != 401 {
		t.Fatalf("a stale mailgun timestamp must be refused: %d", code)
	}
	postmark := fixtures.Read(t, "email/postmark_inbound.json")
	if code, _ := s.post(t, webhookPath(pm), postmark, nil); code != 401 {
		t.Fatalf("postmark without its token: %d", code)
	}
	if code, reply := s.post(t, webhookPath(pm)+"?token="+inboundToken, postmark, nil); code != 200 || reply.Stored != 1 {
		t.Fatalf("postmark: %d %+v", code, reply)
	}
	email := s.contactBy(t, "email:maria.silva@exemplo.com.br")
	var subjects []string
	for _, e := range messagesOf(s.timeline(t, email.ID)) {
		if em, ok := e.Payload["email"].(map[string]any); ok {
			subjects = append(subjects, em["subject"].(string))
		}
	}
	if len(subjects) != 2 {
		t.Fatalf("e-mail messages with their subjects: %q", subjects)
	}
}

func TestSendMessageThroughTheAPI(t *testing.T) {
	s := newTestServer(t)
	tg := s.channel(t, channels.NewChannel{Kind: channels.KindTelegram, Name: "bot", Secrets: map[string]string{"bot_token": "1:x"}})
	var c contactJSON
	s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{"name": "Maria", "identities": []map[string]string{{"kind": "telegram", "value": "5123456789"}}}, &c)
	var ev eventJSON
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts/"+c.ID+"/messages", map[string]any{"channel_id": tg.ID, "text": "Seu pedido **saiu**!"}, &ev); code != 202 || ev.Direction != "out" || ev.Author != "human" || ev.Channel != "telegram" {
		t.Fatalf("send: %d %+v", code, ev)
	}
	var jobs int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'channel_send'`).Scan(&jobs); err != nil || jobs != 1 {
		t.Fatalf("want one delivery job, got %d (%v)", jobs, err)
	}
	other, err := s.channels.Create(context.Background(), s.acctB, channels.NewChannel{Kind: channels.KindTelegram, Name: "theirs", Secrets: map[string]string{"bot_token": "2:y"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		body   map[string]any
		status int
	}{
		"no content":              {map[string]any{"channel_id": tg.ID}, 400},
		"another account channel": {map[string]any{"channel_id": other.ID, "text": "x"}, 404},
		"unknown channel":         {map[string]any{"channel_id": "0199f0a0-0000-7000-8000-000000000000", "text": "x"}, 404},
		"media not by url":        {map[string]any{"channel_id": tg.ID, "media": []map[string]string{{"type": "image", "url": "file:///etc/passwd"}}}, 400},
		"bot author":              {map[string]any{"channel_id": tg.ID, "text": "x", "author": "ai"}, 400},
	} {
		var e apiError
		if code := s.call(t, s.keyA, "POST", "/api/v1/contacts/"+c.ID+"/messages", tc.body, &e); code != tc.status || e.Error.Code == "" {
			t.Errorf("%s: %d %+v", name, code, e)
		}
	}
}

func TestChatwootThroughTheWebhook(t *testing.T) {
	s := newTestServer(t)
	cw := s.channel(t, channels.NewChannel{Kind: channels.KindChatwoot, Name: "chatwoot",
		Settings: map[string]string{"base_url": "http://127.0.0.1:1", "account_id": "1"},
		Secrets:  map[string]string{"webhook_secret": "cw-webhook-secret-for-tests-0001", "api_access_token": "x"}})
	name := "chatwoot/webhook_message_created.json"
	headers := signatureHeaders(t, name)
	ts, _ := strconv.ParseInt(headers["X-Chatwoot-Timestamp"], 10, 64)
	s.setNow(time.Unix(ts, 0).Add(30 * time.Second))
	if code, reply := s.post(t, webhookPath(cw), fixtures.Read(t, name), headers); code != 200 || reply.Stored != 1 {
		t.Fatalf("chatwoot: %d %+v", code, reply)
	}
	maria := s.contactBy(t, "cpf:12345678909")
	if maria.ID != s.contactBy(t, "phone:+5511987654321").ID || maria.ID != s.contactBy(t, "chatwoot:42").ID {
		t.Fatal("Chatwoot's phone, CPF and contact id must name one contact")
	}
	s.setNow(time.Unix(ts, 0).Add(time.Hour))
	if code, _ := s.post(t, webhookPath(cw), fixtures.Read(t, name), headers); code != 401 {
		t.Fatalf("an old timestamp must be refused: %d", code)
	}
}

// An Evolution instance that sends media in its webhooks (WEBHOOK_BASE64)
// posts the file inside the message: a video or a contract PDF of a few
// megabytes is a body well over a megabyte, and the message (its caption,
// its file) is stored, not refused as too large and lost.
func TestEvolutionWebhookWithAFileOfSeveralMegabytes(t *testing.T) {
	s := newTestServer(t)
	evo := s.channel(t, channels.NewChannel{Kind: channels.KindEvolution, Name: "evo",
		Settings: map[string]string{"instance": "atende-loja-centro", "base_url": "http://127.0.0.1:1"},
		Secrets:  map[string]string{"apikey": evolutionKey}})
	var doc map[string]any
	if err := json.Unmarshal(fixtures.Read(t, "evolution/messages_upsert_image.json"), &doc); err != nil {
		t.Fatal(err)
	}
	file := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0xAB, 0x01, 0x7F}, 1<<20)...) // 3 MB
	doc["data"].(map[string]any)["message"].(map[string]any)["base64"] = base64.StdEncoding.EncodeToString(file)
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if code, reply := s.post(t, webhookPath(evo), body, nil); code != 200 || reply.Stored != 1 {
		t.Fatalf("a %d-byte Evolution webhook with its file: %d %+v", len(body), code, reply)
	}
}
