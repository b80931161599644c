package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/outbound"
)

// The counters can fail: a turn with two replies is answered twice, an
// acked message the timeline lacks is lost, an unread timeline is
// unverified, a burst answered once is answered, a reply before the first
// message is stray.
func TestSoakReportCounts(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	msg := func(turn, started, acked int, stored storedState) *soakMessage {
		m := &soakMessage{Text: "pergunta", Turn: turn, Attempts: 1, Stored: stored}
		if started >= 0 {
			m.Started = at(started)
		}
		if acked >= 0 {
			m.AckedAt = at(acked)
		}
		return m
	}
	customer := func(kind, recipient string, msgs ...*soakMessage) *soakCustomer {
		return &soakCustomer{Step: ScenarioStep{Channel: kind}, Recipient: recipient, Identity: recipient, Messages: msgs}
	}
	twice := customer("whatsapp", "whatsapp:1", msg(0, 0, 10, storedYes), msg(1, 3000, 3010, storedYes))
	lost := customer("telegram", "telegram:2", msg(0, 0, 20, storedNo), msg(1, -1, -1, storedUnknown))
	burst := customer("webchat", "webchat:3", msg(0, 0, 10, storedYes), msg(0, 15, 30, storedYes))
	unread := customer("email", "email:4", msg(0, 0, 10, storedUnknown))
	good := customer("instagram", "instagram:5", msg(0, 0, 10, storedYes))
	replies := map[string][]sinkReply{
		// Before its first message (stray), then twice to turn 0, once to turn 1.
		"whatsapp:1":  {{At: at(-500), Text: "?"}, {At: at(2010), Text: "Aceitamos pix."}, {At: at(2500), Text: "Aceitamos pix."}, {At: at(5010), Text: "Vou te passar para uma pessoa da nossa equipe."}},
		"webchat:3":   {{At: at(2030), Text: "Resposta única."}},
		"email:4":     {{At: at(1010), Text: "Olá."}},
		"instagram:5": {{At: at(4010), Text: "Oi."}},
	}
	rep := buildReport([]*soakCustomer{twice, lost, burst, unread, good}, replies, soakObservations{})
	want := map[string][2]int{
		"planned": {rep.Planned, 8}, "sent": {rep.Sent, 7}, "acked": {rep.Acked, 7}, "stored": {rep.Stored, 5},
		"answered": {rep.Answered, 6}, "answered_twice": {rep.AnsweredTwice, 1}, "unanswered": {rep.Unanswered, 2},
		"lost": {rep.Lost, 1}, "unverified": {rep.Unverified, 1}, "extra_replies": {rep.ExtraReplies, 1}, "stray": {rep.StrayReplies, 1},
		"handoff notices": {rep.ReplyKinds["handoff_notice"], 1}, "p50": {int(rep.TimeToAnswerP50MS), 2000},
		"max": {int(rep.TimeToAnswerMaxMS), 4000}, "whatsapp twice": {rep.ByChannel["whatsapp"].AnsweredTwice, 1},
		"telegram lost": {rep.ByChannel["telegram"].Lost, 1}, "problems": {len(rep.Problems), 4},
	}
	for name, v := range want {
		if v[0] != v[1] {
			t.Errorf("%s = %d, want %d", name, v[0], v[1])
		}
	}
	if rep.Passed || !errors.Is(rep.verdict(), ErrSoakFailed) {
		t.Errorf("a soak with losses passed: %+v", rep)
	}
	if ok := buildReport([]*soakCustomer{good}, replies, soakObservations{}); !ok.Passed || ok.verdict() != nil {
		t.Errorf("one customer answered once should pass: %+v", ok)
	}
}

// Every platform's real sender reaches the sink, which records the reply
// for the right recipient: WhatsApp Cloud, Evolution, Instagram, Telegram,
// Chatwoot over HTTP, e-mail over SMTP.
func TestSoakSinkRecordsEveryPlatform(t *testing.T) {
	var ids atomic.Int64
	sink, err := startSoakSink(&ids)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	send := channels.NewPlatforms(outbound.TestRig(), channels.NewSMTPMailer(outbound.TestRig()), nil)
	cases := []struct {
		kind      channels.Kind
		settings  map[string]string
		to, wants string
	}{
		{channels.KindWhatsApp, map[string]string{"phone_number_id": "1"}, "5511987650001", "whatsapp:5511987650001"},
		{channels.KindEvolution, map[string]string{"instance": "i"}, "5511987650002", "evolution:5511987650002"},
		{channels.KindInstagram, map[string]string{"instagram_id": "2"}, "991", "instagram:991"},
		{channels.KindTelegram, nil, "7001", "telegram:7001"},
		{channels.KindChatwoot, map[string]string{"account_id": "1"}, "5050", "chatwoot:5050"},
		{channels.KindEmail, map[string]string{"smtp_host": sink.SMTPHost, "smtp_port": sink.SMTPPort, "address": "a@soak.atende.dev"},
			"cliente@soak.atende.dev", "email:cliente@soak.atende.dev"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, c := range cases {
		settings := map[string]string{"base_url": sink.URL + "/" + string(c.kind)}
		for k, v := range c.settings {
			settings[k] = v
		}
		ch := channels.Channel{Kind: c.kind, Settings: settings, Secrets: map[string]string{"access_token": "t", "bot_token": "1:x", "apikey": "k", "api_access_token": "t"}}
		before := time.Now()
		if _, err := send.Send(ctx, ch, channels.PlatformMessage{To: c.to, Text: "Aceitamos pix (5% de desconto)."}); err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		if !sink.waitAfter(ctx, c.wants, before) {
			t.Fatalf("%s: nothing recorded for %s", c.kind, c.wants)
		}
	}
	got, unknown := sink.snapshot()
	for _, c := range cases {
		if rs := got[c.wants]; len(rs) != 1 || rs[0].Text != "Aceitamos pix (5% de desconto)." {
			t.Errorf("%s: recorded %+v", c.wants, rs)
		}
	}
	if unknown != 0 || len(got) != len(cases) {
		t.Errorf("%d unknown sends, %d recipients", unknown, len(got))
	}
}
