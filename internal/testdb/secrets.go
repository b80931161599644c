package testdb

import (
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/atende/atende/internal/secretbox"
)

// SecretKey returns a fresh ATENDE_SECRET_KEY value (one random key, base64),
// for tests that start commands reading it.
func SecretKey(t testing.TB) string {
	t.Helper()
	k := make([]byte, secretbox.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatalf("make a secret key: %v", err)
	}
	return base64.StdEncoding.EncodeToString(k)
}

// SecretBox returns a Box on a fresh random key, for tests that build the
// stores holding secrets. Stores sharing one database must share the Box.
func SecretBox(t testing.TB) *secretbox.Box {
	t.Helper()
	return BoxFor(t, SecretKey(t))
}

// BoxFor returns the Box of an ATENDE_SECRET_KEY value.
func BoxFor(t testing.TB, keys string) *secretbox.Box {
	t.Helper()
	parsed, err := secretbox.ParseKeys(keys)
	if err != nil {
		t.Fatal(err)
	}
	box, err := secretbox.New(parsed...)
	if err != nil {
		t.Fatal(err)
	}
	return box
}
