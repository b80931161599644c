package secretbox

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func mustBox(t *testing.T, keys ...[]byte) *Box {
	t.Helper()
	b, err := New(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := newKey(t)
	b := mustBox(t, k)
	for _, plain := range []string{"EAAG-access-token", "ünïcødé ✓", strings.Repeat("x", 4096), "enc:v1:looks-sealed-but-is-plaintext"} {
		sealed, err := b.Seal(plain)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sealed, "enc:v1:"+KeyID(k)+":") || strings.Contains(sealed, plain) {
			t.Fatalf("sealed %q as %q", plain, sealed)
		}
		got, err := b.Open(sealed)
		if err != nil || got != plain {
			t.Fatalf("Open = %q, %v; want %q", got, err, plain)
		}
	}
	one, _ := b.Seal("same")
	two, _ := b.Seal("same")
	if one == two {
		t.Fatal("two seals of one plaintext are equal: the nonce is not random")
	}
	if s, err := b.Seal(""); err != nil || s != "" {
		t.Fatalf("Seal(\"\") = %q, %v; want it left empty", s, err)
	}
}

func TestOpenPassesLegacyPlaintextThrough(t *testing.T) {
	b := mustBox(t, newKey(t))
	for _, legacy := range []string{"", "EAAG-access-token", "1234:bot-token", "v1:abc"} {
		if got, err := b.Open(legacy); err != nil || got != legacy {
			t.Fatalf("Open(%q) = %q, %v", legacy, got, err)
		}
	}
}

func TestRotationOpensWithAnyKeyAndSealsWithTheFirst(t *testing.T) {
	a, bk := newKey(t), newKey(t)
	oldBox := mustBox(t, a)
	sealedA, _ := oldBox.Seal("token")
	both := mustBox(t, bk, a)
	if got, err := both.Open(sealedA); err != nil || got != "token" {
		t.Fatalf("B,A opens an A value: %q, %v", got, err)
	}
	resealed, changed, err := both.Reseal(sealedA)
	if err != nil || !changed || !strings.HasPrefix(resealed, "enc:v1:"+KeyID(bk)+":") {
		t.Fatalf("Reseal = %q, %v, %v", resealed, changed, err)
	}
	again, changed, err := both.Reseal(resealed)
	if err != nil || changed || again != resealed {
		t.Fatalf("second Reseal changed it: %q, %v, %v", again, changed, err)
	}
	legacy, changed, err := both.Reseal("plain")
	if err != nil || !changed {
		t.Fatalf("Reseal of plaintext: %q, %v, %v", legacy, changed, err)
	}
	onlyB := mustBox(t, bk)
	for _, s := range []string{resealed, legacy} {
		if _, err := onlyB.Open(s); err != nil {
			t.Fatalf("B alone cannot open a resealed value: %v", err)
		}
	}
	_, err = onlyB.Open(sealedA)
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), KeyID(a)) {
		t.Fatalf("B alone opening an A value: %v", err)
	}
	if strings.Contains(err.Error(), hex.EncodeToString(a)) || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(a)) {
		t.Fatalf("the error shows the key: %v", err)
	}
}

func TestCorruptValues(t *testing.T) {
	k := newKey(t)
	b := mustBox(t, k)
	sealed, _ := b.Seal("token")
	id := KeyID(k)
	flipped := []byte(sealed)
	flipped[len(flipped)-3] ^= 1
	for name, s := range map[string]string{
		"flipped byte":    string(flipped),
		"truncated":       sealed[:len("enc:v1:")+8+1+10],
		"bad base64":      "enc:v1:" + id + ":!!!",
		"unknown version": strings.Replace(sealed, "enc:v1:", "enc:v9:", 1),
		"no payload":      "enc:v1:" + id,
	} {
		got, err := b.Open(s)
		if !errors.Is(err, ErrCorrupt) || got != "" {
			t.Errorf("%s: Open = %q, %v; want ErrCorrupt", name, got, err)
		}
		if _, _, err := b.Reseal(s); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Reseal = %v; want ErrCorrupt", name, err)
		}
	}
	// A value whose key id is garbage is not echoed back.
	_, err := b.Open("enc:v1:secret-looking-text:AAAA")
	if !errors.Is(err, ErrUnknownKey) || strings.Contains(err.Error(), "secret-looking-text") {
		t.Fatalf("garbage key id: %v", err)
	}
}

func TestParseKeys(t *testing.T) {
	k1, k2, k3, k4 := newKey(t), newKey(t), newKey(t), newKey(t)
	in := strings.Join([]string{
		base64.StdEncoding.EncodeToString(k1),
		" " + base64.RawURLEncoding.EncodeToString(k2),
		hex.EncodeToString(k3),
		base64.URLEncoding.EncodeToString(k4) + " ",
	}, ",")
	keys, err := ParseKeys(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 4 || !bytes.Equal(keys[0], k1) || !bytes.Equal(keys[1], k2) || !bytes.Equal(keys[2], k3) || !bytes.Equal(keys[3], k4) {
		t.Fatalf("ParseKeys read other keys")
	}
	short := base64.StdEncoding.EncodeToString(k1[:16])
	for _, bad := range []string{"", base64.StdEncoding.EncodeToString(k1) + ",", short, "not a key at all", hex.EncodeToString(k1)[:62] + "zz"} {
		_, err := ParseKeys(bad)
		if err == nil {
			t.Errorf("ParseKeys(%q) accepted it", bad)
			continue
		}
		if bad != "" && strings.Contains(err.Error(), strings.TrimSuffix(bad, ",")) {
			t.Errorf("the error shows the key: %v", err)
		}
	}
	box := mustBox(t, k1, k2)
	for _, shown := range []string{fmt.Sprint(box), fmt.Sprintf("%+v", box), fmt.Sprintf("%v", struct{ B *Box }{box})} {
		if strings.Contains(shown, string(k1)) || strings.Contains(shown, hex.EncodeToString(k1)) || strings.Contains(shown, base64.StdEncoding.EncodeToString(k1)) {
			t.Fatalf("a printed Box shows its key: %s", shown)
		}
	}
	if fmt.Sprint(box) != "secretbox.Box{keys: "+KeyID(k1)+", "+KeyID(k2)+"}" {
		t.Fatalf("a printed Box: %s", box)
	}
	if _, err := New(k1, k1); err == nil {
		t.Error("New accepted the same key twice")
	}
	if _, err := New(); err == nil {
		t.Error("New accepted no key")
	}
	if _, err := New(k1[:31]); err == nil {
		t.Error("New accepted a 31-byte key")
	}
}
