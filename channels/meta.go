package channels

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
)

// VerifyMetaSignature checks X-Hub-Signature-256 ("sha256=<hex>"), the
// HMAC-SHA256 of the raw body with the app secret, as WhatsApp Cloud and
// Instagram send it. The body must be the bytes received, not re-encoded JSON.
func VerifyMetaSignature(appSecret string, body []byte, header string) error {
	if appSecret == "" {
		return fmt.Errorf("%w: channel has no app secret", ErrBadSignature)
	}
	got, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return fmt.Errorf("%w: missing X-Hub-Signature-256", ErrBadSignature)
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return fmt.Errorf("%w: X-Hub-Signature-256 is not hex", ErrBadSignature)
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return fmt.Errorf("%w: X-Hub-Signature-256 does not match", ErrBadSignature)
	}
	return nil
}

// MetaHandshake answers Meta's GET verification (hub.mode=subscribe,
// hub.verify_token, hub.challenge): the challenge when the token matches.
func MetaHandshake(query url.Values, verifyToken string) (string, bool) {
	if query.Get("hub.mode") != "subscribe" || verifyToken == "" {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(query.Get("hub.verify_token")), []byte(verifyToken)) != 1 {
		return "", false
	}
	return query.Get("hub.challenge"), true
}
