package api

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/atende/atende/channels"
)

func TestOneBadMessageNeverRefusesTheOthers(t *testing.T) {
	s := newTestServer(t)
	metaSecrets := map[string]string{"app_secret": metaSecret, "verify_token": verifyToken, "access_token": "x"}
	wa := s.channel(t, channels.NewChannel{Kind: channels.KindWhatsApp, Name: "wa", Settings: map[string]string{"phone_number_id": "1"}, Secrets: metaSecrets})
	ig := s.channel(t, channels.NewChannel{Kind: channels.KindInstagram, Name: "ig", Settings: map[string]string{"instagram_id": "17841400123456789"}, Secrets: metaSecrets})
	evo := s.channel(t, channels.NewChannel{Kind: channels.KindEvolution, Name: "evo",
		Settings: map[string]string{"instance": "atende-loja-centro", "base_url": "http://127.0.0.1:1"}, Secrets: map[string]string{"apikey": evolutionKey}})
	cwSecret := "cw-webhook-secret-for-tests-0001"
	cw := s.channel(t, channels.NewChannel{Kind: channels.KindChatwoot, Name: "cw",
		Settings: map[string]string{"base_url": "http://127.0.0.1:1", "account_id": "1"}, Secrets: map[string]string{"webhook_secret": cwSecret, "api_access_token": "x"}})
	now := s.unixNow()
	cwHeaders := func(body []byte) map[string]string {
		ts := strconv.FormatInt(now, 10)
		return map[string]string{"X-Chatwoot-Timestamp": ts, "X-Chatwoot-Signature": hmacHex(cwSecret, append([]byte(ts+"."), body...))}
	}

	waBody := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[
		{"id":"1","changes":[{"field":"messages","value":{"contacts":[{"profile":{"name":"Rui"},"wa_id":"5511987650010"}],"messages":[
			{"from":"5678","id":"wamid.badsender","timestamp":"%[1]d","type":"text","text":{"body":"sender is no phone"}},
			{"from":"5511987650010","id":"wamid.good","timestamp":"%[1]d","type":"text","text":{"body":"Quero cancelar meu pedido"}},
			{"from":"5511987650010","id":"wamid.soon","timestamp":"soon","type":"text","text":{"body":"bad timestamp"}},
			{"from":"5511987650010","id":"wamid.poll","timestamp":"%[1]d","type":"unsupported","unsupported":{"type":"poll"}},
			{"from":"5511987650010","timestamp":"%[1]d","type":"text","text":{"body":"no id"}},
			{"from":"5511987650010","id":"wamid.wrongtype","timestamp":"%[1]d","type":"text","text":"not an object"}
		],"statuses":[{"id":"wamid.x","status":"read","timestamp":"later"}]}}]},
		{"id":"2","changes":"not a list"}]}`, now)
	igBody := fmt.Appendf(nil, `{"object":"instagram","entry":[{"id":"17841400123456789","messaging":[
		{"recipient":{"id":"17841400123456789"},"timestamp":%[1]d,"message":{"mid":"m.nosender","text":"who?"}},
		42,
		{"sender":{"id":"7654321000000010"},"recipient":{"id":"17841400123456789"},"timestamp":%[1]d,"message":{"mid":"m.good","text":"Tem no tamanho 40?"}}
	]}]}`, now*1000)
	evoBody := fmt.Appendf(nil, `{"event":"messages.upsert","instance":"atende-loja-centro","data":[
		{"key":{"fromMe":false,"id":"NOJID"},"message":{"conversation":"no remoteJid"},"messageTimestamp":%[1]d},
		"not a message",
		{"key":{"remoteJid":"5511987650011@s.whatsapp.net","fromMe":false,"id":"EVOGOOD"},"pushName":"Lia","message":{"conversation":"Vocês abrem sábado?"},"messageTimestamp":%[1]d}
	]}`, now)
	cwBody := []byte(`{"event":"message_created","id":3401,"content":"sem conversa","message_type":"incoming","private":false,
		"sender":{"id":4301,"name":"Téo","type":"contact"},"conversation":{}}`)

	tests := []struct {
		name            string
		path            string
		body            []byte
		headers         map[string]string
		stored, skipped int
		identity, text  string
	}{
		{"whatsapp cloud", webhookPath(wa), waBody, metaHeaders(waBody), 2, 6, "phone:+5511987650010", "Quero cancelar meu pedido"},
		{"instagram", webhookPath(ig), igBody, metaHeaders(igBody), 1, 2, "instagram:7654321000000010", "Tem no tamanho 40?"},
		{"evolution", webhookPath(evo), evoBody, map[string]string{"apikey": evolutionKey}, 1, 2, "phone:+5511987650011", "Vocês abrem sábado?"},
		{"chatwoot, nothing usable", webhookPath(cw), cwBody, cwHeaders(cwBody), 0, 1, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, reply := s.post(t, tt.path, tt.body, tt.headers)
			if code != 200 || reply.Stored != tt.stored || len(reply.Skipped) != tt.skipped {
				t.Fatalf("%d %+v, want 200 with %d stored and %d skipped", code, reply, tt.stored, tt.skipped)
			}
			for _, sk := range reply.Skipped {
				if sk.Reason == "" {
					t.Errorf("a skipped item without its reason: %+v", sk)
				}
			}
			if tt.identity == "" {
				return
			}
			c := s.contactBy(t, tt.identity)
			found := false
			for _, m := range messagesOf(s.timeline(t, c.ID)) {
				found = found || m.Text == tt.text
			}
			if !found {
				t.Fatalf("the good message %q is not on the timeline", tt.text)
			}
			if n := s.turnsQueued(t, c.ID); n < 1 {
				t.Fatal("the good message must be answered")
			}
			// The platform does not retry a 200; if it did, nothing is stored twice.
			if code, again := s.post(t, tt.path, tt.body, tt.headers); code != 200 || again.Stored != 0 || again.Duplicates != tt.stored {
				t.Fatalf("retry: %d %+v", code, again)
			}
		})
	}
	// What was skipped is counted for the operator, by channel kind (the
	// WhatsApp delivery was sent twice: 6 skipped each time).
	req, _ := http.NewRequest("GET", s.URL+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`atende_webhook_items_skipped_total{kind="whatsapp"} 12`, `atende_webhook_items_skipped_total{kind="chatwoot"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Not even the platform's envelope: a clear 4xx, on every kind that batches.
	for _, ch := range []struct {
		path    string
		headers func([]byte) map[string]string
	}{
		{webhookPath(wa), metaHeaders},
		{webhookPath(ig), metaHeaders},
		{webhookPath(evo), func([]byte) map[string]string { return map[string]string{"apikey": evolutionKey} }},
		{webhookPath(cw), cwHeaders},
	} {
		for _, body := range [][]byte{[]byte("<xml/>"), []byte(`{"object":"page","entry":[]}`)} {
			if ch.path == webhookPath(evo) || ch.path == webhookPath(cw) {
				if body[0] == '{' {
					body = []byte(`{"data":{}}`) // no event
				}
			}
			if code, reply := s.post(t, ch.path, body, ch.headers(body)); code != 400 || reply.Error.Code != "malformed" {
				t.Errorf("%s %s: %d %+v, want 400 malformed", ch.path, body, code, reply)
			}
		}
	}
}
