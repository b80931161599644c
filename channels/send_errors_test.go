package channels

import (
	"context"
	"strings"
	"testing"

	"github.com/atende/atende/internal/outbound"
	"github.com/google/uuid"
)

// A network error sending on Telegram never carries the bot token (it is in
// the API's path): that text reaches the log, River's job errors and the
// timeline, which every API key and attendant can read.
func TestASendErrorNeverCarriesTheBotToken(t *testing.T) {
	const token = "7312345678:AAHsecretSECRETsecret"
	h := NewPlatforms(outbound.TestRig(), nil, nil)
	ch := Channel{ID: uuid.New(), Kind: KindTelegram, Settings: map[string]string{"base_url": "http://127.0.0.1:1"},
		Secrets: map[string]string{"bot_token": token}}
	_, err := h.Send(context.Background(), ch, PlatformMessage{To: "424242", Text: "oi"})
	if err == nil {
		t.Fatal("nothing listens on port 1: the send must fail")
	}
	if strings.Contains(err.Error(), "AAHsecret") || strings.Contains(err.Error(), "7312345678") {
		t.Fatalf("the error carries the token: %v", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("the error still says where: %v", err)
	}
	if retry, _ := IsRetryable(err); !retry {
		t.Fatal("a network error is retried")
	}
}
