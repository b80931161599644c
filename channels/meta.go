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

// graphThrottled are Graph API error codes that mean "not now" rather than
// "never": rate limits, pair rate limit (131056), spam rate limit.
var graphThrottled = map[int]bool{4: true, 80007: true, 130429: true, 131048: true, 131056: true}

// graphMeanings are the WhatsApp Cloud and Instagram error codes an attendant
// can do something about, in words of ours.
var graphMeanings = map[int]string{
	4: "rate limited", 80007: "rate limited", 130429: "rate limited", 131048: "rate limited", 131056: "rate limited",
	10:     "the access token lacks a permission",
	100:    "a parameter was refused",
	190:    "the access token is invalid or expired",
	200:    "the access token lacks a permission",
	368:    "the number is temporarily blocked for policy violations",
	551:    "this person cannot be reached now",
	131026: "the message could not be delivered to this number",
	131047: "more than 24 hours since the customer last wrote: only an approved template can be sent",
	131051: "the message type is not supported",
	131052: "the media could not be downloaded",
	131053: "the media could not be uploaded",
	132000: "the template's parameters do not match",
	132001: "the template does not exist in this language",
	133010: "the number is not registered on the Cloud API",
}
