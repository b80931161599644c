package agents

import (
	"strings"

	"github.com/atende/atende/channels"
)

// instagramMaxRunes is how long an offline reply on Instagram may be: a DM
// is read on a phone between stories, so a knowledge article is cut to its
// opening and the rest offered.
const instagramMaxRunes = 300

// shapeOffline gives an offline reply the shape of its channel, as an
// attendant writing there would: an e-mail greets and signs off in the
// business's name; an Instagram DM is short; WhatsApp, Telegram and the
// webchat take the reply as it is (direct and informal already).
func shapeOffline(kind channels.Kind, reply, name, business string) string {
	reply = strings.TrimSpace(reply)
	if reply == "" {
		return reply
	}
	switch kind {
	case channels.KindEmail:
		var b strings.Builder
		if !strings.HasPrefix(reply, "Olá") && !strings.HasPrefix(reply, "Oi") {
			if name != "" {
				b.WriteString("Olá, " + name + ",\n\n")
			} else {
				b.WriteString("Olá,\n\n")
			}
		}
		b.WriteString(reply)
		b.WriteString("\n\nAtenciosamente,\n")
		if business != "" {
			b.WriteString("Equipe " + business)
		} else {
			b.WriteString("Equipe de atendimento")
		}
		return b.String()
	case channels.KindInstagram:
		if len([]rune(reply)) <= instagramMaxRunes {
			return reply
		}
		return shortened(reply, instagramMaxRunes) + "\n\nQuer que eu te mande os detalhes?"
	}
	return reply
}

// shortened is the opening of text that fits in max runes: its first
// paragraph, else whole sentences, else words.
func shortened(text string, max int) string {
	if p, _, ok := strings.Cut(text, "\n\n"); ok && len([]rune(p)) <= max {
		return strings.TrimSpace(p)
	}
	out := ""
	for _, s := range strings.SplitAfter(text, ". ") {
		if len([]rune(out+s)) > max {
			break
		}
		out += s
	}
	if out != "" {
		return strings.TrimSpace(out)
	}
	r := []rune(text)
	cut := string(r[:max])
	if i := strings.LastIndex(cut, " "); i > 0 {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut) + "…"
}
