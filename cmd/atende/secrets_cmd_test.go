package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/agents"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/secretbox"
	"github.com/atende/atende/internal/testdb"
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

// `atende secrets rotate` from key A to "B,A" re-seals everything (channels,
// subscriptions, tools, including rows stored in clear before encryption),
// says how many, writes nothing when run again; then B alone reads it all,
// and A alone is refused with the channel it cannot read.
func TestSecretsRotate(t *testing.T) {
	srv := startServer(t, "atd_secrets_rotate_key_0123456789", 1)
	ctx := context.Background()
	var wa struct{ ID string }
	if code := srv.call("POST", "/api/v1/channels", map[string]any{"kind": "whatsapp", "name": "WhatsApp",
		"settings": map[string]string{"phone_number_id": "110220330440551"},
		"secrets":  map[string]string{"app_secret": "wa-app-secret", "verify_token": "wa-verify", "access_token": "EAAG-token"}}, &wa); code != 201 {
		t.Fatalf("create whatsapp channel: %d", code)
	}
	if code := srv.call("POST", "/api/v1/webhooks", map[string]any{"url": "https://n8n.example/hook", "secret": "whsec-api",
		"events": []string{"handoff.created"}}, nil); code != 201 {
		t.Fatalf("subscribe: %d", code)
	}
	pool := srvPool(t, srv)
	acct, err := accounts.NewStore(pool).BySlug(ctx, DemoAccountSlug)
	if err != nil {
		t.Fatal(err)
	}
	// What a database from before encryption holds.
	legacyChannel := uuid.Must(uuid.NewV7())
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO channels (id, account_id, kind, name, secrets) VALUES ($1, $2, 'telegram', 'Bot legado', '{"bot_token": "123:legacy-bot", "secret_token": "legacy-st"}')`,
			[]any{legacyChannel, acct.ID}},
		{`INSERT INTO webhook_subscriptions (id, account_id, url, secret, events) VALUES ($1, $2, 'https://n8n.example/old', 'legacy-whsec', '{csat.received}')`,
			[]any{uuid.Must(uuid.NewV7()), acct.ID}},
		{`INSERT INTO agent_tools (account_id, name, definition, secret) VALUES ($1, 'legado', '{"name":"legado","description":"d","url":"https://n8n.example/t"}', 'legacy-tool')`,
			[]any{acct.ID}},
	} {
		if _, err := pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}

	a, b := srv.secretKey, testdb.SecretKey(t)
	rotate := func(keys string) (string, error) {
		t.Setenv("ATENDE_SECRET_KEY", keys)
		var out bytes.Buffer
		err := secretsRun(ctx, &out, []string{"rotate", "-batch", "2"})
		return out.String(), err
	}
	out, err := rotate(b + "," + a)
	if err != nil {
		t.Fatal(err)
	}
	// Channels: the demo webchat, WhatsApp and the legacy bot.
	for _, want := range []string{"channels               3 read, 3 re-sealed", "webhook subscriptions  2 read, 2 re-sealed", "tools                  1 read, 1 re-sealed"} {
		if !strings.Contains(out, want) {
			t.Fatalf("rotate printed:\n%s\nwant %q", out, want)
		}
	}
	if out, err := rotate(b + "," + a); err != nil || strings.Count(out, " 0 re-sealed") != 3 {
		t.Fatalf("rotating again: %v\n%s", err, out)
	}

	onlyB := testdb.BoxFor(t, b)
	chs, err := channels.NewStore(pool, onlyB).List(ctx, acct.ID)
	if err != nil || len(chs) != 3 {
		t.Fatalf("channels with B alone: %d %v", len(chs), err)
	}
	got := map[string]string{}
	for _, c := range chs {
		for k, v := range c.Secrets {
			got[c.Name+"."+k] = v
		}
	}
	if got["WhatsApp.access_token"] != "EAAG-token" || got["Bot legado.bot_token"] != "123:legacy-bot" || got["Site.session_key"] == "" {
		t.Fatalf("secrets read with B alone: %v", got)
	}
	tools, err := agents.NewSectorStore(pool, onlyB).Tools(ctx, acct.ID)
	if err != nil || tools["legado"].Secret != "legacy-tool" {
		t.Fatalf("tools with B alone: %+v %v", tools, err)
	}
	var dump string
	if err := pool.QueryRow(ctx, `SELECT (SELECT string_agg(secrets::text, ' ') FROM channels) || ' ' ||
		(SELECT string_agg(secret, ' ') FROM webhook_subscriptions) || ' ' || (SELECT string_agg(secret, ' ') FROM agent_tools)`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	keyB, _ := secretbox.ParseKeys(b)
	if strings.Contains(dump, "legacy-") || strings.Contains(dump, "whsec-api") || strings.Count(dump, "enc:") != strings.Count(dump, "enc:v1:"+secretbox.KeyID(keyB[0])+":") {
		t.Fatalf("after rotating, the database holds: %s", dump)
	}

	_, err = rotate(a)
	if !errors.Is(err, secretbox.ErrUnknownKey) || !strings.Contains(err.Error(), "rotate channels") || !strings.Contains(err.Error(), "channel ") ||
		!strings.Contains(err.Error(), "keep the old key in ATENDE_SECRET_KEY") ||
		strings.Contains(err.Error(), a) || strings.Contains(err.Error(), b) {
		t.Fatalf("rotating with the old key alone: %v", err)
	}
	t.Logf("with the old key alone: %v", err)
}
