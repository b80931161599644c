package agents

import (
	"regexp"

	"github.com/atende/atende/memory"
)

// ReasonPaymentProof is a photo or PDF of a payment ("segue o comprovante
// do Pix"): the offline engine cannot read it, and only a person of the
// billing team can confirm the money arrived, so it goes to them with the
// file on the card.
const ReasonPaymentProof = "payment_proof"

// paymentWords are the words a caption of a payment proof carries (folded:
// no accents, lower case): a proof, or a payment said to be made. A means
// of payment named alone is not one ("o boleto veio errado", "qual a chave
// pix?" with a photo of the bill): the customer asks, and is not told
// their proof arrived.
var paymentWords = regexp.MustCompile(`\b(comprovantes?|recibo|paguei|pagamos|pago|paga|quitei|quitad[oa]|transferi|depositei|` +
	`(pix|ted|doc|pagamento|pagto|transferencia|deposito)( ja)? (feito|enviado|realizado|efetuado|pago|concluido)|` +
	`fiz (o|a|um|uma) (pix|ted|doc|pagamento|transferencia|deposito))\b`)

// notPaid is a payment said not to be made ("não consigo pagar", "ainda
// não paguei"): a file beside it shows the problem, not a proof.
var notPaid = regexp.MustCompile(`\bnao (\w+ ){0,2}(pag|quit|transfer|deposit)\w*`)

// paymentProofNextAction is the card's next step for a payment proof.
const paymentProofNextAction = "Conferir o comprovante anexado e dar baixa no pagamento"

// paymentProof says the turn's messages are a payment proof: an image or a
// document came with billing words in its caption or beside it.
func paymentProof(attached []string, text string) bool {
	file := false
	for _, k := range attached {
		if k == "image" || k == "document" || k == "file" {
			file = true
		}
	}
	folded := memory.Fold(text)
	return file && paymentWords.MatchString(folded) && !notPaid.MatchString(folded)
}

// billingSector is the business's billing sector: the one named billing or
// like it.
func billingSector(sectors []Sector) (Sector, bool) {
	for _, s := range sectors {
		if s.Name == "billing" || s.Like == "billing" {
			return s, true
		}
	}
	return Sector{}, false
}

// attachedKinds are the media kinds of the turn's messages, captioned or not.
func attachedKinds(events []memory.Event) []string {
	var kinds []string
	for _, e := range events {
		if e.Direction != memory.DirectionIn {
			continue
		}
		for _, m := range e.Media {
			kinds = append(kinds, m.Type)
		}
	}
	return kinds
}
