package channels

import "strings"

// parseVCard reads the name, phones and e-mails of a shared contact's vCard
// (WhatsApp sends vCard 3.0: "FN:Carol Souza", "TEL;type=CELL;waid=…:+55 …").
func parseVCard(displayName, vcard string) SharedContact {
	c := SharedContact{Name: displayName}
	for _, line := range strings.Split(strings.ReplaceAll(vcard, "\r\n", "\n"), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		prop, _, _ := strings.Cut(strings.ToUpper(key), ";")
		value = strings.TrimSpace(value)
		switch {
		case prop == "FN" && c.Name == "":
			c.Name = value
		case prop == "TEL" || strings.HasSuffix(prop, ".TEL"):
			c.Phones = append(c.Phones, value)
		case prop == "EMAIL" || strings.HasSuffix(prop, ".EMAIL"):
			c.Emails = append(c.Emails, value)
		}
	}
	return c
}
