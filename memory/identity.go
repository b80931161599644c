package memory

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// IdentityKind names what an identifier is: a strong identifier (phone, e-mail,
// CPF) or a channel's own id for a person.
type IdentityKind string

// The identity kinds Atende resolves. A WhatsApp id is a phone number, so it is
// stored as a phone identity: the same person writing on WhatsApp and giving
// their number on webchat is one contact.
const (
	KindPhone     IdentityKind = "phone"
	KindEmail     IdentityKind = "email"
	KindCPF       IdentityKind = "cpf"
	KindWhatsApp  IdentityKind = "whatsapp"
	KindInstagram IdentityKind = "instagram"
	KindTelegram  IdentityKind = "telegram"
	KindWebchat   IdentityKind = "webchat"
	// KindWhatsAppUser is WhatsApp's business-scoped user id (BSUID, "BR.…"),
	// which identifies people who hide their number behind a username.
	KindWhatsAppUser IdentityKind = "whatsapp_user"
	// KindWhatsAppLID is a WhatsApp Web linked-device id (a remoteJid ending in
	// @lid), which Evolution API reports instead of the phone for some chats.
	KindWhatsAppLID IdentityKind = "whatsapp_lid"
	// KindWhatsAppID is a WhatsApp id, as the platform gave it, that is not a
	// phone number libphonenumber accepts (test numbers, ranges newer than
	// its tables): still who the platform delivers replies to, kept apart
	// from phones so it merges no one.
	KindWhatsAppID IdentityKind = "whatsapp_id"
	// KindChatwoot is a contact id in the business's Chatwoot.
	KindChatwoot IdentityKind = "chatwoot"
)

// maxChannelIDLength bounds channel ids: no platform issues longer ones, and an
// unbounded value would let one request bloat the unique index.
const maxChannelIDLength = 256

// ErrInvalidIdentifier is returned (wrapped in an *InvalidIdentifierError) when
// a value cannot be an identifier of its kind; callers answer 422.
var ErrInvalidIdentifier = errors.New("invalid identifier")

// InvalidIdentifierError says which identifier was refused and why, in words a
// user can act on ("CPF check digits do not match").
type InvalidIdentifierError struct {
	Kind   IdentityKind
	Value  string
	Reason string
}

// Error implements error without echoing the full value: identifiers are personal data.
func (e *InvalidIdentifierError) Error() string {
	return fmt.Sprintf("invalid %s identifier: %s", e.Kind, e.Reason)
}

// Unwrap lets callers branch on ErrInvalidIdentifier.
func (e *InvalidIdentifierError) Unwrap() error { return ErrInvalidIdentifier }

func invalid(kind IdentityKind, value, reason string) error {
	return &InvalidIdentifierError{Kind: kind, Value: value, Reason: reason}
}

// Identity is one normalized identifier of a contact, unique per account.
type Identity struct {
	Kind  IdentityKind `json:"kind"`
	Value string       `json:"value"`
}

// String renders the identity as "kind:value", the form the API accepts.
func (i Identity) String() string { return string(i.Kind) + ":" + i.Value }

// IsStrong reports whether the identity proves who a person is across channels
// (phone, e-mail, CPF). Channel ids identify an account on one platform only.
func (i Identity) IsStrong() bool {
	return i.Kind == KindPhone || i.Kind == KindEmail || i.Kind == KindCPF
}

// ParseIdentity reads "kind:value" (as in ?identity=phone:+5511987654321) and normalizes it.
func ParseIdentity(s string) (Identity, error) {
	kind, value, ok := strings.Cut(s, ":")
	if !ok {
		return Identity{}, invalid("", s, `expected "kind:value", e.g. "phone:+5511987654321"`)
	}
	return NormalizeIdentity(IdentityKind(strings.ToLower(strings.TrimSpace(kind))), value)
}

// NormalizeIdentity turns a raw value into the canonical form stored and
// matched: phones in E.164 with the Brazilian ninth digit restored, e-mails
// lower-cased and validated, CPFs as 11 digits with valid check digits, channel
// ids as given (trimmed). WhatsApp ids become phone identities.
func NormalizeIdentity(kind IdentityKind, raw string) (Identity, error) {
	value := strings.TrimSpace(raw)
	if value == "" {
		return Identity{}, invalid(kind, raw, "empty value")
	}
	switch kind {
	case KindPhone, KindWhatsApp:
		phone, err := NormalizePhone(value)
		if err != nil {
			return Identity{}, invalid(kind, raw, err.Error())
		}
		return Identity{Kind: KindPhone, Value: phone}, nil
	case KindEmail:
		email, err := NormalizeEmail(value)
		if err != nil {
			return Identity{}, invalid(kind, raw, err.Error())
		}
		return Identity{Kind: KindEmail, Value: email}, nil
	case KindCPF:
		cpf, err := NormalizeCPF(value)
		if err != nil {
			return Identity{}, invalid(kind, raw, err.Error())
		}
		return Identity{Kind: KindCPF, Value: cpf}, nil
	case KindWhatsAppID:
		// E.164 is at most 15 digits, and no country's numbers are shorter
		// than 8 with the country code: "5678" is a publisher's placeholder
		if len(value) < 8 || len(value) > 15 || strings.Trim(value, "0123456789") != "" {
			return Identity{}, invalid(kind, raw, "not a WhatsApp id (8 to 15 digits)")
		}
		return Identity{Kind: kind, Value: value}, nil
	case KindInstagram, KindTelegram, KindWebchat, KindWhatsAppUser, KindWhatsAppLID, KindChatwoot:
		if utf8.RuneCountInString(value) > maxChannelIDLength || strings.ContainsAny(value, "\x00\n\r") {
			return Identity{}, invalid(kind, raw, "not a channel id")
		}
		return Identity{Kind: kind, Value: value}, nil
	default:
		return Identity{}, invalid(kind, raw, fmt.Sprintf("unknown kind %q (phone, email, cpf, whatsapp, instagram, telegram, webchat, whatsapp_user, whatsapp_lid, whatsapp_id, chatwoot)", kind))
	}
}

// NormalizeEmail lower-cases and validates an e-mail address.
func NormalizeEmail(value string) (string, error) {
	addr, err := mail.ParseAddress(value)
	if err != nil || addr.Address != value {
		return "", errors.New("not an e-mail address")
	}
	email := strings.ToLower(addr.Address)
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", errors.New("not an e-mail address")
	}
	return email, nil
}

// NormalizeCPF keeps the 11 digits of a CPF ("123.456.789-09" or "12345678909")
// and checks both check digits. Repeated-digit CPFs (111.111.111-11) pass the
// arithmetic but are never issued, so they are refused too.
func NormalizeCPF(value string) (string, error) {
	digits := make([]byte, 0, 11)
	for _, r := range value {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r-'0'))
		case r == '.' || r == '-' || r == ' ':
		default:
			return "", errors.New("a CPF has only digits, dots and a dash")
		}
	}
	if len(digits) != 11 {
		return "", fmt.Errorf("a CPF has 11 digits, got %d", len(digits))
	}
	same := true
	for _, d := range digits[1:] {
		same = same && d == digits[0]
	}
	if same {
		return "", errors.New("a CPF of one repeated digit is not a real CPF")
	}
	if cpfCheckDigit(digits[:9]) != digits[9] || cpfCheckDigit(digits[:10]) != digits[10] {
		return "", errors.New("CPF check digits do not match")
	}
	out := make([]byte, 11)
	for i, d := range digits {
		out[i] = '0' + d
	}
	return string(out), nil
}

func cpfCheckDigit(digits []byte) byte {
	sum, weight := 0, len(digits)+1
	for _, d := range digits {
		sum += int(d) * weight
		weight--
	}
	rest := (sum * 10) % 11
	if rest == 10 {
		rest = 0
	}
	return byte(rest)
}

// IdentityTimes says when each of a contact's identities ("kind:value") was
// linked, so a replay can see the contact as it was at a past turn.
func (s *Store) IdentityTimes(ctx context.Context, accountID, contactID uuid.UUID) (map[string]time.Time, error) {
	rows, err := s.pool.Query(ctx, `SELECT kind, value, created_at FROM contact_identities WHERE account_id = $1 AND contact_id = $2`, accountID, contactID)
	if err != nil {
		return nil, fmt.Errorf("read identity times of %s: %w", contactID, err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var kind, value string
		var at time.Time
		if err := rows.Scan(&kind, &value, &at); err != nil {
			return nil, fmt.Errorf("read identity times of %s: %w", contactID, err)
		}
		out[kind+":"+value] = at
	}
	return out, rows.Err()
}

// WhatsAppSender is the identity of a WhatsApp id: its phone when it is one,
// else the id itself (KindWhatsAppID); false for what is neither.
func WhatsAppSender(waID string) (Identity, bool) {
	if id, err := NormalizeIdentity(KindWhatsApp, waID); err == nil {
		return id, true
	}
	if id, err := NormalizeIdentity(KindWhatsAppID, waID); err == nil {
		return id, true
	}
	return Identity{}, false
}
