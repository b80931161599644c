package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/database"
)

// channelsCmd is `atende channels telegram set-webhook`: register the
// channel's webhook URL, with its secret token, with Telegram.
func channelsCmd(ctx context.Context, log *slog.Logger, args []string) error {
	if len(args) < 2 || args[0] != "telegram" || args[1] != "set-webhook" {
		return errors.New("usage: atende channels telegram set-webhook -account SLUG -channel ID -public-url https://your-atende")
	}
	fs := flag.NewFlagSet("channels telegram set-webhook", flag.ContinueOnError)
	account := fs.String("account", DemoAccountSlug, "account slug")
	channel := fs.String("channel", "", "the Telegram channel's id")
	s, err := serverSettings()
	if err != nil {
		return err
	}
	public := fs.String("public-url", s.PublicURL, "the public https base URL Telegram reaches this server at")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	id, err := uuid.Parse(*channel)
	if err != nil {
		return fmt.Errorf("-channel must be the channel's id: %w", err)
	}
	box, err := s.SecretBox()
	if err != nil {
		return err
	}
	pool, err := database.Open(ctx, s.DatabaseURL, 0)
	if err != nil {
		return err
	}
	defer pool.Close()
	acct, err := accounts.NewStore(pool).BySlug(ctx, *account)
	if err != nil {
		return err
	}
	ch, err := channels.NewStore(pool, box).Get(ctx, acct.ID, id)
	if err != nil {
		return err
	}
	hook := channels.WebhookURL(*public, ch)
	if err := channels.NewPlatforms(s.Outbound, nil, nil).SetTelegramWebhook(ctx, ch, hook); err != nil {
		return err
	}
	log.Info("telegram webhook set", "channel_id", ch.ID, "url", hook)
	fmt.Println("Telegram will deliver updates to", hook)
	return nil
}
