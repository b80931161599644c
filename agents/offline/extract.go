package offline

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/atende/atende/memory"
)

// Extraction is a field value found in a customer's message.
type Extraction struct {
	Field  string `json:"field"` // email, phone, cpf, order_number, date, money
	Value  string `json:"value"` // normalized (E.164, 11-digit CPF, ISO date, amount in cents + currency)
	Raw    string `json:"raw"`   // as written
	Valid  bool   `json:"valid"`
	Reason string `json:"reason,omitempty"` // why an identifier was refused (a CPF with wrong check digits)
}

var (
	reEmail = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	reCPF   = regexp.MustCompile(`\b\d{3}\.\d{3}\.\d{3}-\d{2}\b|\b\d{11}\b`)
	rePhone = regexp.MustCompile(`(?:\+?55[\s.-]?)?\(?\b\d{2}\)?[\s.-]?9?\d{4}[\s.-]?\d{4}\b`)
	reOrder = regexp.MustCompile(`(?i)\b(?:pedido|encomenda|compra|order|protocolo|chamado|ticket|os)\s*(?:n[º°o.]*|numero|número|number|#|:)?\s*#?\s*([A-Z]{0,3}-?\d{4,12})\b`)
	reDate  = regexp.MustCompile(`\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b`)
	// reInterest is what a customer says they want to buy: "quanto custa o
	// plano anual", "tenho interesse no liquidificador turbo", "quero
	// contratar o plano família". The product runs to a stop word or the
	// end of the sentence.
	reInterest = regexp.MustCompile(`(?i)\b(?:tenho interesse (?:n[oa]s?|em)|interessad[oa] (?:n[oa]s?|em)|(?:quero|queria|gostaria de|vou) (?:comprar|contratar|assinar|adquirir|encomendar)|or[çc]amento (?:d[oea]s?|para|pra)|pre[çc]o (?:d[oea]s?)|valor (?:d[oea]s?)|quanto (?:custa|custam|sai|fica|é|e) (?:o|a|os|as|um|uma)?|interested in|price of|how much (?:is|are|does) (?:the|a)?)\s+([^.,;:!?\n]{2,60}?)(?:\s+(?:para|pra|por|com|que|e|mas|porque|pois|hoje|amanh[ãa]|agora|sem|se|no cart[ãa]o|no pix|à vista|a vista|parcelado|for|with|and)\b|[.,;:!?\n]|$)`)
	reMoney    = regexp.MustCompile(`(?i)(R\$|US\$|\$)\s?(\d{1,3}(?:[.,]\d{3})*(?:[.,]\d{2})?|\d+(?:[.,]\d{2})?)|(\d+(?:[.,]\d{2})?)\s?(reais|real|dólares|dolares|dollars)`)
)

// Extract finds the fields a message gives: identifiers are validated (an
// invalid CPF comes back with Valid false and the reason, so the agent can ask
// again instead of storing it), dates are read day-first as in Brazil.
func Extract(text string, now time.Time) []Extraction {
	var out []Extraction
	used := map[string]bool{}
	for _, raw := range reEmail.FindAllString(text, -1) {
		if e, err := memory.NormalizeEmail(strings.TrimRight(raw, ".")); err == nil {
			out = append(out, Extraction{Field: "email", Value: e, Raw: raw, Valid: true})
			used[raw] = true
		}
	}
	for _, raw := range reCPF.FindAllString(text, -1) {
		cpf, err := memory.NormalizeCPF(raw)
		ex := Extraction{Field: "cpf", Raw: raw, Value: digits(raw), Valid: err == nil}
		if err != nil {
			// An unformatted 11-digit run is as likely a phone: only a formatted
			// one, or one next to the word CPF, is reported as an invalid CPF.
			if !strings.Contains(raw, ".") && !nearWord(text, raw, "cpf") {
				continue
			}
			ex.Reason = err.Error()
		} else {
			ex.Value = cpf
		}
		out = append(out, ex)
		used[digits(raw)] = true
	}
	for _, raw := range rePhone.FindAllString(text, -1) {
		d := digits(raw)
		if used[d] || len(d) < 10 {
			continue
		}
		if p, err := memory.NormalizePhone(raw); err == nil {
			out = append(out, Extraction{Field: "phone", Value: p, Raw: strings.TrimSpace(raw), Valid: true})
			used[d] = true
		}
	}
	for _, m := range reOrder.FindAllStringSubmatch(text, -1) {
		if used[digits(m[1])] {
			continue
		}
		out = append(out, Extraction{Field: "order_number", Value: strings.ToUpper(m[1]), Raw: m[0], Valid: true})
	}
	for _, m := range reDate.FindAllStringSubmatch(text, -1) {
		day, _ := strconv.Atoi(m[1])
		month, _ := strconv.Atoi(m[2])
		year := now.Year()
		if m[3] != "" {
			year, _ = strconv.Atoi(m[3])
			if year < 100 {
				year += 2000
			}
		}
		d := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
		if month < 1 || month > 12 || day < 1 || d.Day() != day {
			continue
		}
		out = append(out, Extraction{Field: "date", Value: d.Format(time.DateOnly), Raw: m[0], Valid: true})
	}
	for _, m := range reInterest.FindAllStringSubmatch(text, 1) {
		if product := productName(m[1]); product != "" {
			out = append(out, Extraction{Field: "product_interest", Value: product, Raw: strings.TrimSpace(m[0]), Valid: true})
		}
	}
	for _, m := range reMoney.FindAllStringSubmatch(text, -1) {
		currency, amount := m[1], m[2]
		if amount == "" {
			amount, currency = m[3], m[4]
		}
		cents, ok := parseAmount(amount, currency)
		if !ok {
			continue
		}
		code := "BRL"
		if c := strings.ToLower(currency); c == "$" || c == "us$" || strings.HasPrefix(c, "d") {
			code = "USD"
		}
		out = append(out, Extraction{Field: "money", Value: strconv.FormatInt(cents, 10) + " " + code, Raw: strings.TrimSpace(m[0]), Valid: true})
	}
	return out
}

// productName trims the article and the vague words off a product phrase;
// "" when nothing specific is left ("quanto custa isso").
func productName(s string) string {
	words := strings.Fields(s)
	for len(words) > 0 {
		switch strings.ToLower(words[0]) {
		case "o", "a", "os", "as", "um", "uma", "the", "a.":
			words = words[1:]
			continue
		}
		break
	}
	if len(words) == 0 {
		return ""
	}
	switch strings.ToLower(memory.Fold(strings.Join(words, " "))) {
	case "isso", "isto", "esse", "essa", "ele", "ela", "it", "this", "that", "produto", "voces", "vcs":
		return ""
	}
	return strings.Join(words, " ")
}

// parseAmount reads "1.188,00" (Brazilian) or "1,188.00" / "12.50" (US) into cents.
func parseAmount(s, currency string) (int64, bool) {
	us := currency == "$" || strings.EqualFold(currency, "US$") || strings.HasPrefix(strings.ToLower(currency), "d")
	dec := ","
	if us {
		dec = "."
	}
	whole, frac := s, ""
	if i := strings.LastIndex(s, dec); i >= 0 && len(s)-i-1 == 2 {
		whole, frac = s[:i], s[i+1:]
	}
	whole = strings.NewReplacer(".", "", ",", "").Replace(whole)
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	cents := n * 100
	if frac != "" {
		f, err := strconv.ParseInt(frac, 10, 64)
		if err != nil {
			return 0, false
		}
		cents += f
	}
	return cents, true
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// nearWord reports whether word appears within 20 characters before raw.
func nearWord(text, raw, word string) bool {
	i := strings.Index(text, raw)
	if i < 0 {
		return false
	}
	start := max(0, i-20)
	return strings.Contains(strings.ToLower(text[start:i]), word)
}
