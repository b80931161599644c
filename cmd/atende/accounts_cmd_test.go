package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/atende/atende/accounts"
)

// A second tenant is a command away: its key works on the API, and the two
// accounts see nothing of each other.
func TestASecondTenantGetsItsOwnKey(t *testing.T) {
	demo := startServer(t, "atd_accounts_demo_key_0123456789", 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var out bytes.Buffer
	if err := runAccounts(context.Background(), log, []string{"create", "-slug", "loja-b", "-name", "Loja B"}, &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`api key: (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no key printed: %s", out.String())
	}
	b := &runningServer{base: demo.base, key: m[1], dbURL: demo.dbURL}
	var created struct{ Contact struct{ ID string } }
	if code := b.call("POST", "/api/v1/contacts", map[string]any{"name": "Cliente da B", "identities": []map[string]string{{"kind": "whatsapp", "value": "5511955554444"}}}, &created); code != 201 && code != 200 {
		t.Fatalf("the new key creates a contact: %d", code)
	}
	var found struct{ Contacts []struct{ ID string } }
	if code := demo.call("GET", "/api/v1/contacts?identity=whatsapp:5511955554444", nil, &found); code != 200 || len(found.Contacts) != 0 {
		t.Fatalf("the demo account must not see loja-b's contact: %d %+v", code, found)
	}
	if code := b.call("GET", "/api/v1/contacts?identity=whatsapp:5511955554444", nil, &found); code != 200 || len(found.Contacts) != 1 {
		t.Fatalf("loja-b sees its own contact: %d %+v", code, found)
	}
	out.Reset()
	if err := runAccounts(context.Background(), log, []string{"key", "-slug", "loja-b"}, &out); err != nil || !regexp.MustCompile(`api key: atd_`).MatchString(out.String()) {
		t.Fatalf("another key for loja-b: %v %s", err, out.String())
	}
	if err := runAccounts(context.Background(), log, []string{"create", "-slug", "Bad Slug!", "-name", "x"}, &out); err == nil {
		t.Fatal("a bad slug is refused")
	}
}

// `make run` seeds at every start: a demo password changed since is kept.
func TestSeedingAgainKeepsAChangedDemoPassword(t *testing.T) {
	srv := startServer(t, "atd_seed_again_key_0123456789", 1)
	if code := srv.call("PUT", "/api/v1/attendants", map[string]any{"email": DemoAttendantEmail, "name": "Ana (demo)",
		"password": "uma-senha-so-minha", "role": "admin"}, nil); code != 200 {
		t.Fatalf("change the demo password: %d", code)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := seed(context.Background(), log, []string{"-api-key", srv.key}); err != nil {
		t.Fatal(err)
	}
	s, err := loadSettings(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	s.DatabaseURL = srv.dbURL
	app, err := newApp(context.Background(), log, s)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Pool.Close()
	acct, err := app.Accounts.BySlug(context.Background(), DemoAccountSlug)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Handoffs.Login(context.Background(), acct.ID, DemoAttendantEmail, "uma-senha-so-minha"); err != nil {
		t.Fatalf("the changed password still logs in after seeding: %v", err)
	}
	if _, err := app.Handoffs.Login(context.Background(), acct.ID, DemoAttendantEmail, DemoAttendantPassword); err == nil {
		t.Fatal("seeding must not put the demo password back")
	}
}

// runCLI runs one of the CLI's commands as `atende ...` would and returns
// what it printed.
func runCLI(t *testing.T, cmd func(context.Context, *slog.Logger, []string, io.Writer) error, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := cmd(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), args, &out); err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return out.String()
}

// Issue 10, item 5, done: a second tenant created by command, its key issued
// by command and used over HTTP, the two accounts blind to each other, the
// key listed without its secret and revoked by command — refused at once.
func TestASecondTenantEndToEndByCommand(t *testing.T) {
	demo := startServer(t, "atd_keys_e2e_demo_key_0123456789", 1)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	out := runCLI(t, runAccounts, "create", "loja-c", "-name", "Loja C Ltda", "-no-key")
	if !strings.Contains(out, "Loja C Ltda (loja-c,") || strings.Contains(out, "atd_") {
		t.Fatalf("create without a key: %s", out)
	}
	out = runCLI(t, runKeys, "create", "-account", "loja-c", "-name", "integração n8n")
	m := regexp.MustCompile(`api key: (atd_\S+)\nkey id: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no key printed: %s", out)
	}
	key, keyID := m[1], m[2]
	c := &runningServer{base: demo.base, key: key, dbURL: demo.dbURL}

	// What loja-c creates, the demo account does not see, and the other way round.
	var ch struct{ ID string }
	if code := c.call("POST", "/api/v1/channels", map[string]any{"kind": "webchat", "name": "Site da C"}, &ch); code != 201 {
		t.Fatalf("loja-c creates a channel: %d", code)
	}
	var contact struct{ ID string }
	if code := c.call("POST", "/api/v1/contacts", map[string]any{"name": "Cliente da C",
		"identities": []map[string]string{{"kind": "email", "value": "cliente@loja-c.com.br"}}}, &contact); code != 201 {
		t.Fatalf("loja-c creates a contact: %d", code)
	}
	if ch.ID == "" || contact.ID == "" {
		t.Fatalf("ids: channel %q, contact %q", ch.ID, contact.ID)
	}
	if code := demo.call("GET", "/api/v1/channels/"+ch.ID, nil, nil); code != 404 {
		t.Fatalf("the demo key reads loja-c's channel: %d", code)
	}
	if code := demo.call("GET", "/api/v1/contacts/"+contact.ID, nil, nil); code != 404 {
		t.Fatalf("the demo key reads loja-c's contact: %d", code)
	}
	var demoChannels, cChannels struct{ Channels []struct{ ID string } }
	if code := demo.call("GET", "/api/v1/channels", nil, &demoChannels); code != 200 || len(demoChannels.Channels) == 0 {
		t.Fatalf("the demo account's channels: %d %+v", code, demoChannels)
	}
	if code := c.call("GET", "/api/v1/channels", nil, &cChannels); code != 200 || len(cChannels.Channels) != 1 || cChannels.Channels[0].ID != ch.ID {
		t.Fatalf("loja-c sees its one channel only: %d %+v", code, cChannels)
	}
	var demoContact struct{ ID string }
	if code := demo.call("POST", "/api/v1/contacts", map[string]any{"name": "Cliente do demo",
		"identities": []map[string]string{{"kind": "email", "value": "cliente@demo.com.br"}}}, &demoContact); code != 201 {
		t.Fatalf("demo creates a contact: %d", code)
	}
	if demoContact.ID == "" {
		t.Fatal("no id for the demo's contact")
	}
	if code := c.call("GET", "/api/v1/contacts/"+demoContact.ID, nil, nil); code != 404 {
		t.Fatalf("loja-c's key reads the demo's contact: %d", code)
	}
	var found struct{ Contacts []struct{ ID string } }
	if code := c.call("GET", "/api/v1/contacts?identity=email:cliente@demo.com.br", nil, &found); code != 200 || len(found.Contacts) != 0 {
		t.Fatalf("loja-c finds the demo's contact: %d %+v", code, found)
	}

	out = runCLI(t, runAccounts, "list")
	if !regexp.MustCompile(`(?m)^demo\s`).MatchString(out) || !regexp.MustCompile(`(?m)^loja-c\s+Loja C Ltda\s+\S+\s+\S+ \S+\s+1$`).MatchString(out) {
		t.Fatalf("accounts list: %s", out)
	}
	// The list shows the prefix and the label, never the key.
	out = runCLI(t, runKeys, "list", "-account", "loja-c")
	if !strings.Contains(out, keyID) || !strings.Contains(out, key[:8]) || !strings.Contains(out, "integração n8n") ||
		strings.Contains(out, key[:12]) || !regexp.MustCompile(keyID+`.*\d\d:\d\d\s+-\n`).MatchString(out) {
		t.Fatalf("keys list (prefix, label, used, not revoked; no key): %s", out)
	}

	// Revoking is scoped to the account: the demo account has no such key.
	if err := runKeys(ctx, log, []string{"revoke", "-account", DemoAccountSlug, keyID}, io.Discard); !errors.Is(err, accounts.ErrKeyNotFound) {
		t.Fatalf("revoke loja-c's key as demo: %v", err)
	}
	if code := c.call("GET", "/api/v1/contacts", nil, nil); code != 200 {
		t.Fatalf("the key survives another account's revoke: %d", code)
	}
	out = runCLI(t, runKeys, "revoke", "-account", "loja-c", key[:8])
	if !strings.Contains(out, "revoked: "+keyID) || !strings.Contains(out, "warning: loja-c has no active API key left") {
		t.Fatalf("revoke: %s", out)
	}
	if code := c.call("GET", "/api/v1/contacts", nil, nil); code != 401 {
		t.Fatalf("a revoked key's next request: %d, want 401", code)
	}
	if code := demo.call("GET", "/api/v1/contacts", nil, nil); code != 200 {
		t.Fatalf("the demo key still works: %d", code)
	}
	if out = runCLI(t, runKeys, "list", "-account", "loja-c"); regexp.MustCompile(keyID + `.*\s-\n`).MatchString(out) {
		t.Fatalf("the list says the key is revoked: %s", out)
	}

	// The first spelling still issues keys; the slug is not given twice.
	if out = runCLI(t, runAccounts, "key", "-slug", "loja-c", "-key-name", "again"); !strings.Contains(out, "api key: atd_") {
		t.Fatalf("accounts key: %s", out)
	}
	if err := runAccounts(ctx, log, []string{"create", "loja-d", "-slug", "loja-e"}, io.Discard); err == nil {
		t.Fatal("two slugs for one account must be refused")
	}
	if err := runKeys(ctx, log, []string{"revoke", "-account", "loja-c"}, io.Discard); err == nil {
		t.Fatal("revoke names a key")
	}
}
