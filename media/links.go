package media

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrBadLink is a file link whose signature does not hold (altered, or
// signed with a key no longer configured).
var ErrBadLink = errors.New("media link: bad signature")

// ErrExpiredLink is a file link past its expiry.
var ErrExpiredLink = errors.New("media link: expired")

// LinkLifetime is how long a file link an attendant's reply carries stays
// valid: the platform fetches it within seconds, and a customer's webchat or
// e-mail may open it days later.
const LinkLifetime = 7 * 24 * time.Hour

// LinkPurpose names the keys links are signed with (secretbox.Box.Derive).
const LinkPurpose = "media links v1"

// Links signs the public URLs platforms fetch an attendant's files from:
// WhatsApp, Telegram, Instagram and Evolution send media by URL, so the file
// must be reachable without an API key, by a link nobody can forge or
// change (the signature covers the file, its type, name and expiry).
type Links struct {
	base string   // ATENDE_PUBLIC_URL
	keys [][]byte // the first signs, all verify
}

// NewLinks returns the signer for links under base (the server's public
// URL); without a base or a key there are no links (Enabled is false).
func NewLinks(base string, keys [][]byte) *Links {
	return &Links{base: strings.TrimRight(base, "/"), keys: keys}
}

// Enabled says links can be made: a public URL and a key are configured.
func (l *Links) Enabled() bool { return l != nil && l.base != "" && len(l.keys) > 0 }

// URL is the signed link to the blob sha, served as mime under name.
func (l *Links) URL(sha, mime, name string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	q := url.Values{"type": {mime}, "exp": {exp}, "sig": {l.sign(l.keys[0], sha, mime, name, exp)}}
	if name != "" {
		q.Set("name", name)
	}
	return l.base + "/media/" + sha + "?" + q.Encode()
}

// Verify checks a link's query for the blob sha at now.
func (l *Links) Verify(sha string, q url.Values, now time.Time) error {
	exp := q.Get("exp")
	at, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !isAddress(sha) {
		return ErrBadLink
	}
	got, err := base64.RawURLEncoding.DecodeString(q.Get("sig"))
	if err != nil {
		return ErrBadLink
	}
	for _, k := range l.keys {
		want, _ := base64.RawURLEncoding.DecodeString(l.sign(k, sha, q.Get("type"), q.Get("name"), exp))
		if hmac.Equal(got, want) {
			if now.Unix() > at {
				return ErrExpiredLink
			}
			return nil
		}
	}
	return ErrBadLink
}

func (l *Links) sign(key []byte, sha, mime, name, exp string) string {
	mac := hmac.New(sha256.New, key)
	_, _ = fmt.Fprintf(mac, "%s\x00%s\x00%s\x00%s", sha, mime, name, exp)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
