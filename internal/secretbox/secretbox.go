// Package secretbox encrypts the secrets Atende must keep usable (channel
// tokens, webhook and tool signing secrets) before they reach the database,
// so a dump, a backup or a read-only SQL session does not hand them out.
//
// A sealed value is a string, so it fits the columns the secrets already
// live in:
//
//	enc:v1:<key id, 8 hex>:<base64url(nonce || AES-256-GCM ciphertext)>
//
// A Box holds one or more keys: the first seals, any of them opens (that is
// key rotation: put the new key first, re-seal, then drop the old one). A
// value without the "enc:" prefix is returned as it is, so a database from
// before encryption keeps working until its rows are written again or
// re-sealed.
package secretbox

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a key in bytes: AES-256.
const KeySize = 32

// prefix marks a sealed value; version names its format, so a later one can
// be told apart and read alongside.
const (
	prefix  = "enc:"
	version = "v1"
)

// Errors callers branch on. Neither ever carries key material or plaintext:
// they name the key only by its id, which is a hash fragment.
var (
	// ErrUnknownKey is returned by Open for a value sealed with a key the
	// Box does not hold (the key was dropped too early, or is wrong).
	ErrUnknownKey = errors.New("secretbox: sealed with a key that is not configured")
	// ErrCorrupt is returned by Open for a value that looks sealed but cannot
	// be opened: truncated, altered, or of an unknown format version.
	ErrCorrupt = errors.New("secretbox: sealed value is corrupt")
)

// Box seals and opens secrets. It is safe for concurrent use.
type Box struct {
	keys []key // keys[0] seals
}

type key struct {
	id   string
	aead cipher.AEAD
	// base is derived from the key for Derive, so the key itself is only
	// ever used by the AEAD.
	base []byte
}

// New returns a Box on the given keys, each KeySize bytes. The first seals
// new values; all of them open, so values sealed with a retired key stay
// readable while they are re-sealed.
func New(keys ...[]byte) (*Box, error) {
	if len(keys) == 0 {
		return nil, errors.New("secretbox: no key")
	}
	b := &Box{}
	seen := map[string]bool{}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("secretbox: key %d of %d is %d bytes, want %d", i+1, len(keys), len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("secretbox: key %d of %d: %w", i+1, len(keys), err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secretbox: key %d of %d: %w", i+1, len(keys), err)
		}
		id := KeyID(k)
		if seen[id] {
			return nil, fmt.Errorf("secretbox: key %d of %d is given twice (id %s)", i+1, len(keys), id)
		}
		seen[id] = true
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte("atende derived keys\x00"))
		b.keys = append(b.keys, key{id: id, aead: aead, base: mac.Sum(nil)})
	}
	return b, nil
}

// KeyID names a key in sealed values and errors without revealing it: the
// first four bytes of a SHA-256 of it, in hex. Opening finds the key by it,
// and an operator can tell which key a row needs.
func KeyID(k []byte) string {
	sum := sha256.Sum256(append([]byte("atende secretbox key id\x00"), k...))
	return hex.EncodeToString(sum[:4])
}

// Derive returns keys for another purpose than sealing (signing the links
// platforms fetch an attendant's files from), one per configured key in the
// same order: the first signs, all verify, so a rotation keeps recent
// signatures valid. Each is an HMAC of purpose, never the key itself.
func (b *Box) Derive(purpose string) [][]byte {
	out := make([][]byte, len(b.keys))
	for i, k := range b.keys {
		mac := hmac.New(sha256.New, k.base)
		mac.Write([]byte(purpose))
		out[i] = mac.Sum(nil)
	}
	return out
}

// String shows the Box by its key ids only, so a Box printed or logged by
// mistake (inside a settings struct, say) never shows a key.
func (b *Box) String() string { return "secretbox.Box{keys: " + b.ids() + "}" }

// SealingKeyID is the id of the key Seal uses, for reports.
func (b *Box) SealingKeyID() string { return b.keys[0].id }

// ParseKeys reads keys as ATENDE_SECRET_KEY holds them: comma-separated,
// each 32 bytes as base64 (standard or URL alphabet, padded or not) or as
// 64 hex digits, the sealing key first. Errors say which key is wrong by
// position, never what it holds.
func ParseKeys(s string) ([][]byte, error) {
	var out [][]byte
	parts := strings.Split(s, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("secretbox: key %d of %d is empty", i+1, len(parts))
		}
		k, ok := decodeKey(p)
		if !ok {
			return nil, fmt.Errorf("secretbox: key %d of %d is not %d bytes in base64 or %d hex digits", i+1, len(parts), KeySize, 2*KeySize)
		}
		out = append(out, k)
	}
	return out, nil
}

func decodeKey(s string) ([]byte, bool) {
	if len(s) == 2*KeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, true
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, true
		}
	}
	return nil, false
}

// Seal encrypts plaintext with the first key and a random nonce. The empty
// string stays empty: it means "no secret set", which callers test for, and
// an empty ciphertext would protect nothing.
func (b *Box) Seal(plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	k := b.keys[0]
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secretbox: make nonce: %w", err)
	}
	head := header(k.id)
	// The header is authenticated too: a ciphertext cannot be relabelled
	// with another key id or version.
	sealed := k.aead.Seal(nonce, nonce, []byte(plaintext), []byte(head))
	return head + ":" + base64.RawURLEncoding.EncodeToString(sealed), nil
}

func header(id string) string { return prefix + version + ":" + id }

// Open returns the plaintext of a sealed value, with whichever configured key
// sealed it. A value without the "enc:" prefix is legacy plaintext (stored
// before encryption) and is returned as it is.
func (b *Box) Open(s string) (string, error) {
	if !strings.HasPrefix(s, prefix) {
		return s, nil
	}
	k, data, err := b.parse(s)
	if err != nil {
		return "", err
	}
	n := k.aead.NonceSize()
	if len(data) < n+k.aead.Overhead() {
		return "", fmt.Errorf("%w: too short", ErrCorrupt)
	}
	plain, err := k.aead.Open(nil, data[:n], data[n:], []byte(header(k.id)))
	if err != nil {
		return "", fmt.Errorf("%w: authentication failed with key %s", ErrCorrupt, k.id)
	}
	return string(plain), nil
}

func (b *Box) parse(s string) (key, []byte, error) {
	parts := strings.SplitN(s, ":", 4)
	if len(parts) != 4 || parts[1] != version {
		return key{}, nil, fmt.Errorf("%w: not an %s%s value", ErrCorrupt, prefix, version)
	}
	id := parts[2]
	data, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil {
		return key{}, nil, fmt.Errorf("%w: bad base64", ErrCorrupt)
	}
	for _, k := range b.keys {
		if k.id == id {
			return k, data, nil
		}
	}
	return key{}, nil, fmt.Errorf("%w (key id %s; configured: %s)", ErrUnknownKey, safeID(id), b.ids())
}

// safeID shows a key id from a value only when it looks like one, so an
// error never echoes an arbitrary stored string.
func safeID(id string) string {
	if _, err := hex.DecodeString(id); err != nil || len(id) != 8 {
		return "?"
	}
	return id
}

func (b *Box) ids() string {
	ids := make([]string, len(b.keys))
	for i, k := range b.keys {
		ids[i] = k.id
	}
	return strings.Join(ids, ", ")
}

// Reseal brings a stored value to the first key: legacy plaintext and values
// sealed with another configured key are sealed anew (changed is true);
// values already sealed with the first key, and empty ones, are returned
// unchanged. Running it twice changes nothing the second time, which is what
// makes a rotation safe to interrupt and repeat.
func (b *Box) Reseal(stored string) (out string, changed bool, err error) {
	if stored == "" || strings.HasPrefix(stored, header(b.keys[0].id)+":") {
		if _, err := b.Open(stored); err != nil {
			return "", false, err
		}
		return stored, false, nil
	}
	plain, err := b.Open(stored)
	if err != nil {
		return "", false, err
	}
	out, err = b.Seal(plain)
	if err != nil {
		return "", false, err
	}
	return out, true, nil
}

// Tally is what a rotation did with one table's secrets: rows read, and of
// those, rows written back re-sealed with the first key.
type Tally struct {
	Rows     int
	Resealed int
}

// ResealRows is key rotation over one table, whose store owns the SQL: list
// returns the next keys after the last one (nil: from the start), as many
// as a batch; reseal re-seals one row in its own transaction and says
// whether it still existed and whether it was written.
func ResealRows[K any](ctx context.Context, list func(ctx context.Context, after *K) ([]K, error),
	reseal func(ctx context.Context, key K) (found, changed bool, err error)) (Tally, error) {
	var tally Tally
	var after *K
	for {
		keys, err := list(ctx, after)
		if err != nil || len(keys) == 0 {
			return tally, err
		}
		for _, k := range keys {
			found, changed, err := reseal(ctx, k)
			if err != nil {
				return tally, err
			}
			if found {
				tally.Rows++
			}
			if changed {
				tally.Resealed++
			}
		}
		after = &keys[len(keys)-1]
	}
}
