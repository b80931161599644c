package channels

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/memory"
	"github.com/google/uuid"
)

// A network error sending on Telegram never carries the bot token (it is in
// the API's path): that text reaches the log, River's job errors and the
// timeline, which every API key and attendant can read.
func TestASendErrorNeverCarriesTheBotToken(t *testing.T) {
	const token = "7312345678:AAHsecretSECRETsecret"
	h := NewPlatforms(outbound.TestRig(), nil, nil)
	ch := Channel{ID: uuid.New(), Kind: KindTelegram, Settings: map[string]string{"base_url": "http://127.0.0.1:1"},
		Secrets: map[string]string{"bot_token": token}}
	_, err := h.Send(context.Background(), ch, PlatformMessage{To: "424242", Text: "oi"})
	if err == nil {
		t.Fatal("nothing listens on port 1: the send must fail")
	}
	if strings.Contains(err.Error(), "AAHsecret") || strings.Contains(err.Error(), "7312345678") {
		t.Fatalf("the error carries the token: %v", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("the error still says where: %v", err)
	}
	if retry, _ := IsRetryable(err); !retry {
		t.Fatal("a network error is retried")
	}
}

// The whole path of a Telegram send that fails on the network — retried,
// then given up — leaves the bot token nowhere: not in the log, not in
// River's job errors, not on the timeline every attendant and API key reads.
func TestATelegramNetworkErrorLeavesTheTokenNowhere(t *testing.T) {
	const token = "7312345678:AAHsecretSECRETsecret"
	e := newOutboxEnv(t)
	ctx := context.Background()
	ch, err := e.channels.Create(ctx, e.acct, NewChannel{Kind: KindTelegram, Name: "bot",
		Settings: map[string]string{"base_url": "http://127.0.0.1:1"}, Secrets: map[string]string{"bot_token": token}})
	if err != nil {
		t.Fatal(err)
	}
	contact := e.contactWhoWrote(t, memory.KindTelegram, "424242", KindTelegram, time.Minute)
	ev := e.queue(t, Outgoing{ContactID: contact, ChannelID: ch.ID, Author: memory.AuthorAI, Text: "Oi!"})
	statuses := e.waitStatus(t, ev, "failed", 1)
	var jobErrors string
	if err := e.pool.QueryRow(ctx, `SELECT coalesce(string_agg(errors::text, ' '), '') FROM river_job`).Scan(&jobErrors); err != nil {
		t.Fatal(err)
	}
	timeline, err := e.mem.Timeline(ctx, e.acct, contact, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	var texts strings.Builder
	for _, te := range timeline.Events {
		texts.WriteString(te.Text + " " + string(te.Payload) + "\n")
	}
	for where, text := range map[string]string{"log": e.logs.String(), "job errors": jobErrors, "timeline": texts.String()} {
		if strings.Contains(text, "AAHsecret") || strings.Contains(text, "7312345678") {
			t.Errorf("the bot token is in the %s:\n%s", where, text)
		}
	}
	if !strings.Contains(statuses[len(statuses)-1].Text, "127.0.0.1:1") || jobErrors == "" {
		t.Fatalf("the failure still says where, and River recorded it: %q / %q", statuses[len(statuses)-1].Text, jobErrors)
	}
}
