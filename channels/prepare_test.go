package channels

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atende/atende/memory"
)

func TestPrepareInboundMakesAMessageStorable(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m := Inbound{ExternalID: "wamid.1\x00", At: time.Unix(99999999999999, 0), Type: "text", Text: "Oi\x00 \xff",
		From: Sender{Name: "Maria\x00", Identities: []memory.Identity{
			{Kind: memory.KindInstagram, Value: strings.Repeat("9", 500)}, // not a channel id: dropped
			{Kind: memory.KindTelegram, Value: "51\x0023"},
		}},
		Media:          []memory.Media{{Type: "image", Caption: "\x00legenda"}},
		MessageContext: MessageContext{ReplyTo: &Reply{ExternalID: "x", Text: "cit\x00ação"}, Email: &EmailThread{References: []string{"<a\x00@b>"}}},
	}
	got, err := prepareInbound(m, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.ExternalID != "wamid.1" || got.Text != "Oi \uFFFD" || got.From.Name != "Maria" || got.Media[0].Caption != "legenda" ||
		got.ReplyTo.Text != "citação" || got.Email.References[0] != "<a@b>" {
		t.Fatalf("not cleaned: %+v", got)
	}
	if len(got.From.Identities) != 1 || got.From.Identities[0] != (memory.Identity{Kind: memory.KindTelegram, Value: "5123"}) {
		t.Fatalf("identities %+v", got.From.Identities)
	}
	if !got.At.IsZero() {
		t.Fatalf("a timestamp past year 5000 must give way to the arrival time: %v", got.At)
	}
	for name, bad := range map[string]Inbound{
		"no id":     {ExternalID: "\x00", From: Sender{Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "1"}}}},
		"no sender": {ExternalID: "1", From: Sender{Identities: []memory.Identity{{Kind: memory.KindEmail, Value: "not an address"}}}},
	} {
		if _, err := prepareInbound(bad, now); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestSaneTime(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		at   time.Time
		keep bool
	}{
		{time.Time{}, false},
		{time.Unix(0, 0), false},
		{time.Unix(-5, 0), false},
		{now.Add(-72 * time.Hour), true},
		{now.Add(time.Hour), true},
		{now.Add(48 * time.Hour), false},
	} {
		want := time.Time{}
		if tc.keep {
			want = tc.at
		}
		if got := saneTime(tc.at, now); !got.Equal(want) {
			t.Errorf("saneTime(%v) = %v", tc.at, got)
		}
	}
}
