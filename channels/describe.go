package channels

import (
	"cmp"
	"fmt"
	"strings"
)

// describe is the timeline text of a message that brought no words of its
// own — a place, contact cards, a cart, a form, media without caption — in
// Portuguese, so the attendant and the agents read what it holds instead of
// "[order]".
func describe(m Inbound) string {
	var parts []string
	if l := m.Location; l != nil {
		place := strings.TrimSpace(strings.Join(nonEmpty(l.Name, l.Address), ", "))
		s := fmt.Sprintf("Localização: %.6f, %.6f", l.Latitude, l.Longitude)
		if place != "" {
			s = "Localização: " + place + fmt.Sprintf(" (%.6f, %.6f)", l.Latitude, l.Longitude)
		}
		if l.URL != "" {
			s += " " + l.URL
		}
		parts = append(parts, s)
	}
	for _, c := range m.Contacts {
		parts = append(parts, "Contato compartilhado: "+strings.Join(nonEmpty(append(append([]string{c.Name}, c.Phones...), c.Emails...)...), ", "))
	}
	if o := m.Order; o != nil {
		var items []string
		for _, it := range o.Items {
			items = append(items, fmt.Sprintf("%d× %s (%s)", it.Quantity, it.ProductID, money(it.Price, it.Currency)))
		}
		s := "Pedido pelo catálogo"
		if o.CatalogID != "" {
			s += " " + o.CatalogID
		}
		parts = append(parts, s+": "+strings.Join(items, "; "))
		if o.Note != "" {
			parts = append(parts, o.Note)
		}
	}
	if f := m.Form; f != nil {
		parts = append(parts, "Formulário respondido"+prefixed(": ", f.Name)+prefixed(" ", string(f.Response)))
	}
	for _, md := range m.Media {
		parts = append(parts, strings.TrimSpace(mediaWord(md.Type)+prefixed(" ", md.FileName)+prefixed(" — ", md.Title)))
	}
	if m.PlatformError != "" {
		parts = append(parts, "Mensagem que a plataforma não entrega: "+m.PlatformError)
	}
	if len(parts) == 0 {
		return "[" + cmp.Or(m.Type, "message") + "]"
	}
	return strings.Join(parts, "\n")
}

func mediaWord(kind string) string {
	if w, ok := map[string]string{"image": "[imagem]", "audio": "[áudio]", "voice": "[áudio]", "video": "[vídeo]",
		"document": "[documento]", "sticker": "[figurinha]", "reel": "[reel]", "ig_reel": "[reel]", "share": "[compartilhamento]"}[kind]; ok {
		return w
	}
	return "[" + kind + "]"
}

// money writes a price the Brazilian way: "R$ 79,90", "USD 1.250,00".
func money(v float64, currency string) string {
	s := fmt.Sprintf("%.2f", v)
	whole, cents, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 && r != '-' && whole[i-1] != '-' {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	symbol := cmp.Or(currency, "BRL")
	if symbol == "BRL" {
		symbol = "R$"
	}
	return symbol + " " + b.String() + "," + cents
}

func nonEmpty(xs ...string) []string {
	var out []string
	for _, x := range xs {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}
