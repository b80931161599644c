// Package sign signs what Atende sends out (HTTP tool calls, webhook
// deliveries) the same way, so a receiver checks both with one recipe:
// "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body).
package sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Signature is the X-Atende-Signature header value for a body sent at timestamp.
func Signature(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
