package agents

import (
	"strings"
	"testing"

	"github.com/atende/atende/channels"
)

// The same answer, shaped by the channel as an attendant writing there would.
func TestOfflineRepliesTakeTheirChannelsShape(t *testing.T) {
	article := "Aceitamos pix (5% de desconto), cartão em até 12x sem juros e boleto. O pix é confirmado na hora; o boleto, em até 2 dias úteis. " +
		"No cartão, a primeira parcela vem na próxima fatura. Para compras acima de R$ 2.000, também parcelamos no boleto em até 3x, com análise de crédito.\n\n" +
		"Notas fiscais são enviadas por e-mail no dia do faturamento."
	email := shapeOffline(channels.KindEmail, article, "Marcos", "Loja Demo")
	if !strings.HasPrefix(email, "Olá, Marcos,\n\n") || !strings.HasSuffix(email, "Atenciosamente,\nEquipe Loja Demo") {
		t.Fatalf("e-mail: %q", email)
	}
	ig := shapeOffline(channels.KindInstagram, article, "Marcos", "Loja Demo")
	if len([]rune(ig)) > instagramMaxRunes+60 || !strings.Contains(ig, "Aceitamos pix") || !strings.HasSuffix(ig, "Quer que eu te mande os detalhes?") {
		t.Fatalf("instagram (%d runes): %q", len([]rune(ig)), ig)
	}
	for _, k := range []channels.Kind{channels.KindWhatsApp, channels.KindTelegram, channels.KindWebchat} {
		if got := shapeOffline(k, article, "Marcos", "Loja Demo"); got != article {
			t.Errorf("%s changed the reply: %q", k, got)
		}
	}
	if got := shapeOffline(channels.KindEmail, "Olá, Marcos! Sou o assistente virtual da Loja Demo.", "Marcos", "Loja Demo"); strings.Count(got, "Olá") != 1 {
		t.Fatalf("a greeting is not greeted again: %q", got)
	}
	if got := shapeOffline(channels.KindInstagram, "Vou te passar para uma pessoa da equipe.", "", ""); got != "Vou te passar para uma pessoa da equipe." {
		t.Fatalf("a short DM stays as it is: %q", got)
	}
}

// The engine's own sentences take the channel's register: five channels,
// five ways of asking for the same thing and of closing an answer, WhatsApp
// informal with one emoji at most, the webchat direct with none.
func TestOfflineSentencesReadInTheChannelsRegister(t *testing.T) {
	kinds := []channels.Kind{channels.KindWhatsApp, channels.KindInstagram, channels.KindTelegram, channels.KindWebchat, channels.KindEmail}
	asked, closed := map[string]channels.Kind{}, map[string]channels.Kind{}
	for _, k := range kinds {
		q := collectQuestion([]string{"email"}, channels.DefaultRules(k))
		if !strings.Contains(q, "seu e-mail") {
			t.Errorf("%s does not ask for the e-mail: %q", k, q)
		}
		if other, dup := asked[q]; dup {
			t.Errorf("%s and %s ask the same way: %q", k, other, q)
		}
		asked[q] = k
		reg := registerOf(k)
		if other, dup := closed[reg.moreHelp]; dup {
			t.Errorf("%s and %s close the same way: %q", k, other, reg.moreHelp)
		}
		closed[reg.moreHelp] = k
		emoji := strings.Count(q+reg.moreHelp+reg.thanks, "🙂")
		switch k {
		case channels.KindWhatsApp:
			if emoji > 1 || !strings.HasPrefix(reg.hello, "Oi") {
				t.Errorf("whatsapp is not informal with one emoji at most: %q %q", q, reg.hello)
			}
		case channels.KindWebchat, channels.KindEmail:
			if emoji != 0 {
				t.Errorf("%s has an emoji: %q", k, q)
			}
		}
	}
	if got := registerOf(channels.KindEmail).askOne; !strings.HasPrefix(got, "Poderia nos informar") {
		t.Errorf("e-mail asks informally: %q", got)
	}
}
