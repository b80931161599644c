package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"testing"
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
	app, err := newApp(context.Background(), log, srv.dbURL)
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
