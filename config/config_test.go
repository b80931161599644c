package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/testdb"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestApplyTheBusinessFile(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	accts, chs := accounts.NewStore(pool), channels.NewStore(pool)
	vars := map[string]string{"WHATSAPP_APP_SECRET": "s3cr3t", "WHATSAPP_VERIFY_TOKEN": "vt", "WHATSAPP_ACCESS_TOKEN": "EAAG1"}
	f, err := Load("testdata/atende.yaml", env(vars))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // every start applies it; the second time changes nothing
		if err := f.Apply(ctx, accts, chs); err != nil {
			t.Fatal(err)
		}
	}
	acct, err := accts.BySlug(ctx, "loja")
	if err != nil || acct.Name != "Loja Exemplo" {
		t.Fatalf("account: %+v %v", acct, err)
	}
	list, err := chs.List(ctx, acct.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("channels: %+v %v", list, err)
	}
	wa := list[1]
	if wa.Name != "WhatsApp principal" || wa.Secret("app_secret") != "s3cr3t" || wa.Settings["response_time"] != "10m" {
		t.Fatalf("whatsapp: %+v", wa)
	}
	if list[0].Secret("session_key") == "" {
		t.Fatal("the webchat's session key must be generated")
	}
	// A rotated secret in the environment reaches the channel on the next start.
	vars["WHATSAPP_APP_SECRET"] = "rotated"
	f, _ = Load("testdata/atende.yaml", env(vars))
	if err := f.Apply(ctx, accts, chs); err != nil {
		t.Fatal(err)
	}
	if got, _ := chs.Get(ctx, acct.ID, wa.ID); got.Secret("app_secret") != "rotated" {
		t.Fatal("the new secret was not applied")
	}
}

func TestBadBusinessFiles(t *testing.T) {
	if _, err := Load("testdata/atende.yaml", env(nil)); !errors.Is(err, ErrMissingEnv) || !strings.Contains(err.Error(), "WHATSAPP_APP_SECRET") {
		t.Fatalf("a missing variable must be named: %v", err)
	}
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "f.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := Load(write("accounts:\n  - slug: x\n    chanels: []\n"), env(nil)); err == nil {
		t.Fatal("a misspelt key must be an error, not silently ignored")
	}
	if _, err := Load(write("accounts:\n  - name: sem slug\n"), env(nil)); err == nil {
		t.Fatal("an account without a slug must be refused")
	}
	pool, _ := testdb.New(t)
	f, err := Load(write("accounts:\n  - slug: x\n    channels:\n      - kind: fax\n        name: f\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Apply(context.Background(), accounts.NewStore(pool), channels.NewStore(pool)); !errors.Is(err, channels.ErrInvalidConfig) {
		t.Fatalf("an unknown kind must be refused: %v", err)
	}
}
