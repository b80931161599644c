package api

import (
	"context"
	"testing"
	"time"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/memory"
)

// A report filtered by tag counts the conversations of tagged contacts only.
func TestReportsFilterByTag(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	ch := s.channel(t, channels.NewChannel{Kind: channels.KindTelegram, Name: "bot", Secrets: map[string]string{"bot_token": "1:x"}})
	ing := channels.NewIngestor(s.pool, s.store, nil)
	for _, who := range []string{"501", "502", "503"} {
		if _, err := ing.Ingest(ctx, ch, channels.Batch{Messages: []channels.Inbound{{ExternalID: who, Type: "text", Text: "oi", At: time.Now(),
			From: channels.Sender{Name: "Cliente " + who, Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: who}}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	vip, err := s.store.FindByIdentity(ctx, s.acctA, memory.Identity{Kind: memory.KindTelegram, Value: "502"})
	if err != nil {
		t.Fatal(err)
	}
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts/"+vip.ID.String()+"/tags", map[string]any{"tag": "VIP"}, nil); code != 201 {
		t.Fatalf("tag: %d", code)
	}
	var rep struct {
		Total struct {
			Conversations int `json:"conversations"`
		} `json:"total"`
	}
	from, to := time.Now().Add(-24*time.Hour).Format(time.RFC3339), time.Now().Add(time.Hour).Format(time.RFC3339)
	if code := s.call(t, s.keyA, "GET", "/api/v1/reports/summary?from="+from+"&to="+to, nil, &rep); code != 200 || rep.Total.Conversations != 3 {
		t.Fatalf("all: %d %+v", code, rep)
	}
	if code := s.call(t, s.keyA, "GET", "/api/v1/reports/summary?tag=vip&from="+from+"&to="+to, nil, &rep); code != 200 || rep.Total.Conversations != 1 {
		t.Fatalf("tagged vip: %d %+v", code, rep)
	}
	// a tag that cannot be a tag is a 400, not a report of every conversation
	if code := s.call(t, s.keyA, "GET", "/api/v1/reports/summary?tag=a%2Fb&from="+from+"&to="+to, nil, &rep); code != 400 {
		t.Fatalf("tag a/b: %d %+v", code, rep)
	}
}
