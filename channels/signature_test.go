package channels

import (
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"testing"
	"time"
)

type signatureVector struct {
	File    string            `json:"file"`
	Scheme  string            `json:"scheme"`
	Secret  string            `json:"secret"`
	Headers map[string]string `json:"headers"`
}

func signatureVectors(t *testing.T, scheme string) []signatureVector {
	t.Helper()
	var doc struct{ Vectors []signatureVector }
	if err := json.Unmarshal(readFixture(t, "signature_vectors.json"), &doc); err != nil {
		t.Fatal(err)
	}
	var out []signatureVector
	for _, v := range doc.Vectors {
		if v.Scheme == scheme {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s vectors", scheme)
	}
	return out
}

func TestMetaSignatures(t *testing.T) {
	for _, v := range signatureVectors(t, "meta_x_hub_signature_256") {
		t.Run(v.File, func(t *testing.T) {
			body := readFixture(t, v.File)
			header := v.Headers["X-Hub-Signature-256"]
			if err := VerifyMetaSignature(v.Secret, body, header); err != nil {
				t.Fatalf("valid signature refused: %v", err)
			}
			tampered := append([]byte{}, body...)
			tampered[len(tampered)/2] ^= 1
			cases := map[string]error{
				"tampered body": VerifyMetaSignature(v.Secret, tampered, header),
				"wrong secret":  VerifyMetaSignature("another-secret", body, header),
				"missing":       VerifyMetaSignature(v.Secret, body, ""),
				"sha1 only":     VerifyMetaSignature(v.Secret, body, v.Headers["X-Hub-Signature"]),
				"not hex":       VerifyMetaSignature(v.Secret, body, "sha256=zz"),
				"no secret":     VerifyMetaSignature("", body, header),
			}
			for name, err := range cases {
				if !errors.Is(err, ErrBadSignature) {
					t.Errorf("%s: want ErrBadSignature, got %v", name, err)
				}
			}
		})
	}
}

func TestMetaHandshake(t *testing.T) {
	var d struct {
		Request struct {
			Query map[string]string `json:"query"`
		} `json:"request"`
		Token    string `json:"configured_verify_token"`
		Expected struct {
			Body string `json:"body"`
		} `json:"expected_response"`
	}
	if err := json.Unmarshal(readFixture(t, "whatsapp_cloud/verify_handshake.json"), &d); err != nil {
		t.Fatal(err)
	}
	q := url.Values{}
	for k, v := range d.Request.Query {
		q.Set(k, v)
	}
	if got, ok := MetaHandshake(q, d.Token); !ok || got != d.Expected.Body {
		t.Fatalf("handshake: %q %v", got, ok)
	}
	if _, ok := MetaHandshake(q, "other"); ok {
		t.Fatal("a wrong verify token passed")
	}
	q.Set("hub.mode", "unsubscribe")
	if _, ok := MetaHandshake(q, d.Token); ok {
		t.Fatal("a mode other than subscribe passed")
	}
}

func TestTelegramSecretToken(t *testing.T) {
	for _, v := range signatureVectors(t, "telegram_secret_token") {
		if err := VerifyTelegramSecret(v.Secret, v.Headers["X-Telegram-Bot-Api-Secret-Token"]); err != nil {
			t.Fatalf("%s: valid token refused: %v", v.File, err)
		}
		for name, header := range map[string]string{"wrong": "tg-wh_other", "missing": ""} {
			if err := VerifyTelegramSecret(v.Secret, header); !errors.Is(err, ErrBadSignature) {
				t.Errorf("%s: %s token: %v", v.File, name, err)
			}
		}
	}
}

func TestMailgunSignatureAndReplay(t *testing.T) {
	v := signatureVectors(t, "mailgun_hmac_timestamp_token")[0]
	form := formFixture(t, v.File)
	ts, token, sig := form.Get("timestamp"), form.Get("token"), form.Get("signature")
	secs, _ := strconv.ParseInt(ts, 10, 64)
	now := time.Unix(secs, 0).Add(30 * time.Second)
	used := map[string]bool{}
	seen := func(tok string) bool {
		was := used[tok]
		used[tok] = true
		return was
	}
	if err := VerifyMailgun(v.Secret, ts, token, sig, now, 5*time.Minute, seen); err != nil {
		t.Fatalf("valid signature refused: %v", err)
	}
	cases := map[string]error{
		"replayed":      VerifyMailgun(v.Secret, ts, token, sig, now, 5*time.Minute, seen),
		"wrong key":     VerifyMailgun("other-key", ts, token, sig, now, 5*time.Minute, nil),
		"tampered":      VerifyMailgun(v.Secret, ts, token+"x", sig, now, 5*time.Minute, nil),
		"missing":       VerifyMailgun(v.Secret, ts, token, "", now, 5*time.Minute, nil),
		"too old":       VerifyMailgun(v.Secret, ts, token, sig, now.Add(time.Hour), 5*time.Minute, nil),
		"from the past": VerifyMailgun(v.Secret, ts, token, sig, now.Add(-time.Hour), 5*time.Minute, nil),
	}
	for name, err := range cases {
		if !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: want ErrBadSignature, got %v", name, err)
		}
	}
}

func TestChatwootSignature(t *testing.T) {
	for _, v := range signatureVectors(t, "chatwoot_signature") {
		body := readFixture(t, v.File)
		ts, sig := v.Headers["X-Chatwoot-Timestamp"], v.Headers["X-Chatwoot-Signature"]
		secs, _ := strconv.ParseInt(ts, 10, 64)
		now := time.Unix(secs, 0).Add(time.Minute)
		if err := VerifyChatwootSignature(v.Secret, body, sig, ts, now, 5*time.Minute); err != nil {
			t.Fatalf("%s: valid signature refused: %v", v.File, err)
		}
		cases := map[string]error{
			"tampered":      VerifyChatwootSignature(v.Secret, append([]byte(" "), body...), sig, ts, now, 5*time.Minute),
			"other stamp":   VerifyChatwootSignature(v.Secret, body, sig, strconv.FormatInt(secs+1, 10), now, 5*time.Minute),
			"missing":       VerifyChatwootSignature(v.Secret, body, "", ts, now, 5*time.Minute),
			"replayed late": VerifyChatwootSignature(v.Secret, body, sig, ts, now.Add(time.Hour), 5*time.Minute),
		}
		for name, err := range cases {
			if !errors.Is(err, ErrBadSignature) {
				t.Errorf("%s %s: want ErrBadSignature, got %v", v.File, name, err)
			}
		}
	}
}
