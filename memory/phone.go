package memory

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// NormalizePhone returns a phone number in E.164. Numbers written without a
// country code are read as Brazilian. Brazilian mobiles that arrive with only
// eight subscriber digits (WhatsApp drops the ninth for older numbers:
// 55 + DDD + 8 digits starting 6-9) get the ninth digit back, so both forms
// resolve to one contact; phonenumbers alone does not do this.
func NormalizePhone(value string) (string, error) {
	international := strings.HasPrefix(strings.TrimSpace(value), "+")
	var digits strings.Builder
	for _, r := range value {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case strings.ContainsRune(" +-().", r):
		default:
			return "", errors.New("a phone number has only digits, spaces, +, -, ( and )")
		}
	}
	d := digits.String()
	if len(d) < 8 || len(d) > 15 {
		return "", errors.New("a phone number has 8 to 15 digits")
	}
	candidates := []string{"+" + d}
	if !international && (len(d) == 10 || len(d) == 11) {
		// Brazilian national form, DDD + number, before anything else:
		// "(51) 99812-3344" is Porto Alegre, not a Peruvian +51 number.
		candidates = []string{"+55" + d, "+" + d}
	}
	for _, c := range candidates {
		if e164, ok := validE164(restoreNinthDigit(c)); ok {
			return e164, nil
		}
	}
	return "", errors.New("not a valid phone number")
}

// restoreNinthDigit turns +55 DD NNNNNNNN, with N starting 6-9 (a mobile), into
// +55 DD 9NNNNNNNN.
func restoreNinthDigit(e164 string) string {
	if len(e164) == 13 && strings.HasPrefix(e164, "+55") && e164[5] >= '6' && e164[5] <= '9' {
		return e164[:5] + "9" + e164[5:]
	}
	return e164
}

func validE164(candidate string) (string, bool) {
	num, err := phonenumbers.Parse(candidate, "")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}
