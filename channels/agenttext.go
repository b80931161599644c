package channels

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxAgentTextBytes bounds the text of an inbound message as the agents read
// it (routing, the LLM, embeddings, the inbox timeline). It is above the
// longest message any chat platform allows (4096 characters of up to 4 bytes),
// so only long e-mails and abuse are cut; the whole text is kept with the
// message (the e-mail body, or full_text in its payload).
const MaxAgentTextBytes = 16 << 10

// wordWindow is how far back from the limit a cut looks for a space, so a
// text without spaces is still cut near the limit.
const wordWindow = 1 << 10

// cutMarker ends a cut text, saying that the rest is kept.
func cutMarker(total int) string {
	return fmt.Sprintf("[… mensagem cortada: o texto completo, de %d KiB, está guardado com a mensagem]", (total+1023)/1024)
}

// boundText returns s when it fits in max bytes; else its start cut at a word
// boundary (at a character boundary when no space is near), followed by the
// cut marker, and true.
func boundText(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	head := s[:cut]
	if i := strings.LastIndexFunc(head, unicode.IsSpace); i >= 0 && i >= cut-wordWindow {
		head = head[:i]
	}
	return strings.TrimRightFunc(head, unicode.IsSpace) + "\n\n" + cutMarker(len(s)), true
}

// boundInbound cuts a message's text to what the agents read. It returns the
// whole text when the message does not keep it elsewhere (an e-mail keeps its
// body), for the payload to keep it.
func boundInbound(m *Inbound) (full string) {
	text, cut := boundText(m.Text, MaxAgentTextBytes)
	if !cut {
		return ""
	}
	full, m.Text = m.Text, text
	if m.Email != nil && strings.Contains(m.Email.Body, full) {
		return ""
	}
	return full
}
