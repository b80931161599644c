package channels

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBoundText(t *testing.T) {
	if got, cut := boundText("Oi, tudo bem?", 100); cut || got != "Oi, tudo bem?" {
		t.Fatalf("a short text must be kept: %q %v", got, cut)
	}
	words := strings.Repeat("palavra ", 100) // 800 bytes
	got, cut := boundText(words, 100)
	if !cut || !strings.HasPrefix(got, "palavra palavra") || !strings.HasSuffix(got, cutMarker(800)) {
		t.Fatalf("cut: %q", got)
	}
	head := strings.TrimSuffix(got, "\n\n"+cutMarker(800))
	if len(head) > 100 || !strings.HasSuffix(head, "palavra") {
		t.Fatalf("the cut must fall between words, within the limit: %q", head)
	}
	// No space near the limit: cut at a character, never inside one.
	emoji := strings.Repeat("😅", 100) // 4 bytes each
	got, _ = boundText(emoji, 102)
	head = strings.TrimSuffix(got, "\n\n"+cutMarker(400))
	if !utf8.ValidString(got) || head != strings.Repeat("😅", 25) {
		t.Fatalf("cut inside a character: %q", head)
	}
}

func TestBoundInboundKeepsTheWholeText(t *testing.T) {
	long := strings.Repeat("texto longo ", 3000)
	m := Inbound{Text: long}
	if full := boundInbound(&m); full != long || len(m.Text) > MaxAgentTextBytes+200 {
		t.Fatalf("a chat message keeps its whole text in the payload: %d, text %d", len(full), len(m.Text))
	}
	e := Inbound{Text: long, MessageContext: MessageContext{Email: &EmailThread{Body: "Oi\n" + long + "\n> citação"}}}
	if full := boundInbound(&e); full != "" || len(e.Text) > MaxAgentTextBytes+200 {
		t.Fatalf("an e-mail keeps its whole text in the body, not twice: %d", len(full))
	}
}

func FuzzBoundText(f *testing.F) {
	f.Add("palavra palavra palavra", 10)
	f.Add("😅😅😅\x00\xff", 5)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		got, cut := boundText(s, max)
		if !cut {
			if got != s || len(s) > max {
				t.Fatalf("uncut %q from %q (max %d)", got, s, max)
			}
			return
		}
		head, ok := strings.CutSuffix(got, "\n\n"+cutMarker(len(s)))
		if !ok || len(head) > max || !strings.HasPrefix(s, head) {
			t.Fatalf("cut %q from %q (max %d)", got, s, max)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("a cut broke a character: %q", got)
		}
	})
}
