package channels

import (
	"context"
	"fmt"
	"strings"
)

// SetTelegramWebhook registers url with Telegram's setWebhook for the bot of
// the channel, with the channel's secret token, so Telegram signs every
// update it sends there.
func (h *Platforms) SetTelegramWebhook(ctx context.Context, ch Channel, url string) error {
	if ch.Kind != KindTelegram {
		return fmt.Errorf("%w: channel %s is %s, not telegram", ErrInvalidConfig, ch.ID, ch.Kind)
	}
	if !strings.HasPrefix(url, "https://") {
		return fmt.Errorf("%w: Telegram only calls https webhooks, got %q", ErrInvalidConfig, url)
	}
	body := map[string]any{
		"url":             url,
		"secret_token":    ch.Secret("secret_token"),
		"allowed_updates": []string{"message", "edited_message", "callback_query"},
		"max_connections": 40,
	}
	var out struct {
		OK          bool   `json:"ok"`
		Description string `json:"description"`
	}
	endpoint := baseURL(ch, defaultTelegramURL) + "/bot" + ch.Secret("bot_token") + "/setWebhook"
	if err := h.postJSON(ctx, endpoint, nil, body, &out); err != nil {
		return fmt.Errorf("telegram setWebhook: %w", err)
	}
	if !out.OK {
		return fmt.Errorf("telegram setWebhook refused: %s", out.Description)
	}
	return nil
}

// WebhookURL is where a platform must send a channel's webhooks, given the
// server's public base URL.
func WebhookURL(publicBase string, ch Channel) string {
	return strings.TrimRight(publicBase, "/") + "/webhooks/" + string(ch.Kind) + "/" + ch.ID.String()
}
