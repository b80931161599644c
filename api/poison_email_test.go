package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/atende/atende/channels"
)

// bigText is n bytes of words, the way a long e-mail reads.
func bigText(n int) string {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "linha %d do relatório que o cliente colou no e-mail.\n", i)
	}
	return b.String()[:n]
}

func TestALongEmailIsKeptWholeAndTheAgentsReadABoundedText(t *testing.T) {
	s := newTestServer(t)
	pm := s.channel(t, channels.NewChannel{Kind: channels.KindEmail, Name: "postmark",
		Settings: map[string]string{"provider": "postmark", "address": "a@lojaexemplo.com.br"}, Secrets: map[string]string{"inbound_token": inboundToken}})
	full := "Bom dia, segue o log do erro.\n" + bigText(200<<10)
	body, err := json.Marshal(map[string]any{"From": "gil@exemplo.com.br", "FromName": "Gil", "Subject": "Erro no app",
		"TextBody": full, "Headers": []map[string]string{{"Name": "Message-ID", "Value": "<long-1@exemplo.com.br>"}}})
	if err != nil {
		t.Fatal(err)
	}
	code, reply := s.post(t, webhookPath(pm)+"?token="+inboundToken, body, nil)
	if code != 200 || reply.Stored != 1 {
		t.Fatalf("a 200 KiB e-mail: %d %+v", code, reply)
	}
	c := s.contactBy(t, "email:gil@exemplo.com.br")
	msgs := messagesOf(s.timeline(t, c.ID))
	if len(msgs) != 1 {
		t.Fatalf("timeline %+v", msgs)
	}
	// What the agents (routing, LLM, embedding) read is the start of the
	// e-mail, cut at a word with a marker, well under the 64 KiB an event holds.
	text := msgs[0].Text
	head, _, cut := strings.Cut(text, "[… mensagem cortada")
	head = strings.TrimSpace(head)
	if !cut || len(text) > 20<<10 || len(head) < 4<<10 || !strings.HasPrefix(full, head) || !strings.ContainsAny(full[len(head):len(head)+1], " \n") {
		t.Fatalf("the agents' text (%d bytes) must be the start of the e-mail cut at a word, then the marker: ...%q", len(text), text[max(0, len(text)-300):])
	}
	email, _ := msgs[0].Payload["email"].(map[string]any)
	if got, _ := email["body"].(string); got != full {
		t.Fatalf("the stored body has %d bytes, want the whole %d", len(got), len(full))
	}
	if n := s.turnsQueued(t, c.ID); n != 1 {
		t.Fatalf("%d answers queued", n)
	}
	// Abuse is still bounded: a body past the e-mail cap is a clear 413.
	huge := bytes.Repeat([]byte(" "), 26<<20)
	if code, reply := s.post(t, webhookPath(pm)+"?token="+inboundToken, huge, nil); code != 413 || reply.Error.Code != "too_large" {
		t.Fatalf("a 26 MiB e-mail: %d %+v", code, reply)
	}
}
