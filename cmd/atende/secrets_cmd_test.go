package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// Without ATENDE_SECRET_KEY, every command that reads or writes stored
// secrets refuses to start, and says how to make a key.
func TestCommandsRefuseToStartWithoutASecretKey(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://atende@127.0.0.1:1/never?sslmode=disable")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	commands := map[string]func() error{
		"serve": func() error { return serve(ctx, log, nil) },
		"seed":  func() error { return seed(ctx, log, []string{"-api-key", "atd_refuse_key_0123456789"}) },
		"channels": func() error {
			return channelsCmd(ctx, log, []string{"telegram", "set-webhook", "-channel", "0190a000-0000-7000-8000-000000000000"})
		},
	}
	for name, run := range commands {
		t.Setenv("ATENDE_SECRET_KEY", "")
		err := run()
		if err == nil || !strings.Contains(err.Error(), "ATENDE_SECRET_KEY is not set") || !strings.Contains(err.Error(), "openssl rand -base64 32") ||
			!strings.Contains(err.Error(), "make run") {
			t.Errorf("%s without a key: %v", name, err)
		}
		t.Setenv("ATENDE_SECRET_KEY", "not-a-key-of-32-bytes")
		err = run()
		if err == nil || !strings.Contains(err.Error(), "ATENDE_SECRET_KEY: secretbox: key 1 of 1 is not 32 bytes") || strings.Contains(err.Error(), "not-a-key-of-32-bytes") {
			t.Errorf("%s with a bad key: %v", name, err)
		}
	}
}

// Secrets given to the REST API are sealed in the database: a SQL session
// sees none of them, and the server still verifies webhooks with them.
func TestSecretsGivenToTheAPIAreSealedAtRest(t *testing.T) {
	srv := startServer(t, "atd_secrets_api_key_0123456789", 1)
	var wa, tg, sub struct{ ID, Secret string }
	if code := srv.call("POST", "/api/v1/channels", map[string]any{"kind": "whatsapp", "name": "WhatsApp",
		"settings": map[string]string{"phone_number_id": "110220330440551"},
		"secrets":  map[string]string{"app_secret": "wa-app-secret-in-clear", "verify_token": "wa-verify-in-clear", "access_token": "EAAG-token-in-clear"}}, &wa); code != 201 {
		t.Fatalf("create whatsapp channel: %d", code)
	}
	if code := srv.call("POST", "/api/v1/channels", map[string]any{"kind": "telegram", "name": "Bot",
		"secrets": map[string]string{"bot_token": "123:tg-bot-token-in-clear"}}, &tg); code != 201 {
		t.Fatalf("create telegram channel: %d", code)
	}
	if code := srv.call("POST", "/api/v1/webhooks", map[string]any{"url": "https://n8n.example/hook", "secret": "whsec-in-clear",
		"events": []string{"handoff.created"}}, &sub); code != 201 || sub.Secret != "whsec-in-clear" {
		t.Fatalf("subscribe: %d %+v", code, sub)
	}
	pool := srvPool(t, srv)
	var dump string
	if err := pool.QueryRow(context.Background(), `SELECT (SELECT string_agg(secrets::text, ' ') FROM channels) || ' ' ||
		(SELECT string_agg(secret, ' ') FROM webhook_subscriptions)`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"wa-app-secret-in-clear", "wa-verify-in-clear", "EAAG-token-in-clear", "tg-bot-token-in-clear", "whsec-in-clear"} {
		if strings.Contains(dump, plain) {
			t.Fatalf("the database holds %q in clear: %s", plain, dump)
		}
	}
	// The verification handshake answers only to the (sealed) verify token.
	for token, want := range map[string]int{"wa-verify-in-clear": 200, "wrong": 403} {
		if code := srv.call("GET", "/webhooks/whatsapp/"+wa.ID+"?hub.mode=subscribe&hub.verify_token="+token+"&hub.challenge=42", nil, nil); code != want {
			t.Errorf("verify with %q: %d, want %d", token, code, want)
		}
	}
}
