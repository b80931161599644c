package agents

import (
	"strings"

	"github.com/atende/atende/channels"
)

// instagramMaxRunes is how long an offline reply on Instagram may be: a DM
// is read on a phone between stories, so a knowledge article is cut to its
// opening and the rest offered.
const instagramMaxRunes = 300

// register is how the offline engine's own sentences read on a channel, the
// way an attendant there writes them: WhatsApp informal (one emoji at most),
// Instagram short and friendly, Telegram plain, the webchat direct (no
// pleasantries to scroll past), e-mail formal. The knowledge article itself is
// the business's text and is never rewritten.
type register struct {
	hello    string // the greeting word before the customer's name
	askOne   string // one missing field: %s is its question ("seu e-mail")
	moreHelp string // the close of an answer when nothing is missing
	thanks   string // the close when there is nothing to answer: %s is ", Name" or ""
	// unheard, unseen and received acknowledge what came without words:
	// an audio or video it cannot listen to, an image or file it cannot
	// look at, anything else; %s is the thing ("seu áudio").
	unheard, unseen, received string
}

var registers = map[channels.Kind]register{
	channels.KindWhatsApp: {hello: "Oi", askOne: "Me manda %s, por favor? 🙂", moreHelp: "Se quiser saber mais alguma coisa, é só falar!",
		thanks:   "Valeu%s! Já anotei tudo aqui e vou verificar. Te respondo já já.",
		unheard:  "Recebi %s, mas por aqui ainda não consigo ouvir 🙈 Pode me escrever em poucas palavras o que precisa? Se preferir, chamo uma pessoa da equipe.",
		unseen:   "Recebi %s, obrigado! Me conta em uma frase do que se trata (um comprovante, um defeito, um pedido?) que eu já sigo daqui.",
		received: "Recebi %s. Como posso ajudar?"},
	channels.KindInstagram: {hello: "Oi", askOne: "Me passa %s?", moreHelp: "Quer saber mais alguma coisa?",
		thanks:   "Obrigado%s! Já anotei e vou verificar. Te respondo por aqui.",
		unheard:  "Recebi %s, mas ainda não consigo ouvir por aqui. Me conta por escrito?",
		unseen:   "Recebi %s! Me conta em uma frase do que se trata?",
		received: "Recebi %s! Como posso ajudar?"},
	channels.KindTelegram: {hello: "Oi", askOne: "Pode me passar %s, por favor?", moreHelp: "Posso ajudar em mais alguma coisa?",
		thanks:   "Obrigado%s! Já registrei tudo por aqui e vou verificar. Te respondo em seguida.",
		unheard:  "Recebi %s, mas ainda não consigo ouvir áudios por aqui. Pode escrever em poucas palavras o que precisa? Se preferir, chamo uma pessoa da equipe.",
		unseen:   "Recebi %s, obrigado. Pode me dizer em uma frase do que se trata (um comprovante, um defeito, um pedido)?",
		received: "Recebi %s. Como posso ajudar?"},
	channels.KindWebchat: {hello: "Olá", askOne: "Informe %s, por favor.", moreHelp: "Posso ajudar com mais alguma coisa?",
		thanks:   "Obrigado%s. Registrei sua mensagem e vou verificar; a resposta aparece aqui nesta conversa.",
		unheard:  "Recebi %s, mas não consigo ouvi-lo por aqui. Escreva em poucas palavras o que precisa, por favor.",
		unseen:   "Recebi %s. Diga em uma frase do que se trata, por favor (um comprovante, um defeito, um pedido).",
		received: "Recebi %s. Como posso ajudar?"},
	channels.KindEmail: {hello: "Olá", askOne: "Poderia nos informar %s?", moreHelp: "Ficamos à disposição para o que precisar.",
		thanks:   "Obrigado pela mensagem%s. Já registramos sua solicitação e retornaremos em breve.",
		unheard:  "Recebemos %s, mas não conseguimos ouvi-lo por este canal. Poderia nos escrever o que precisa?",
		unseen:   "Recebemos %s. Poderia nos dizer em uma frase do que se trata (um comprovante, um defeito, um pedido)?",
		received: "Recebemos %s. Como podemos ajudar?"},
}

// registerOf is the channel's register; a channel without one (Chatwoot
// relays) reads like Telegram: plain and polite.
func registerOf(kind channels.Kind) register {
	if r, ok := registers[kind]; ok {
		return r
	}
	return registers[channels.KindTelegram]
}

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
