package prompts_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atende/atende/internal/testdb"
	"github.com/atende/atende/prompts"
)

func TestLibraryPrecedenceAndVersions(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t)
	acct := testdb.NewAccount(t, pool, "loja")
	other := testdb.NewAccount(t, pool, "outra")
	dir := t.TempDir()
	lib := prompts.NewLibrary(pool, dir)

	embedded, err := lib.Get(ctx, acct, "sectors.sales")
	if err != nil || embedded.Source != prompts.SourceEmbedded || !strings.Contains(embedded.Text, "agente de vendas") {
		t.Fatalf("embedded sales prompt: %+v %v", embedded, err)
	}
	if embedded.Version != prompts.VersionOf("sectors.sales", embedded.Text) || !strings.HasPrefix(embedded.Version, "sectors.sales@") {
		t.Fatalf("version %s", embedded.Version)
	}

	// The override directory wins over the embedded file.
	if err := os.MkdirAll(filepath.Join(dir, "sectors"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sectors", "sales.md"), []byte("Você vende óculos.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	over, err := lib.Get(ctx, acct, "sectors.sales")
	if err != nil || over.Source != prompts.SourceOverride || over.Text != "Você vende óculos." {
		t.Fatalf("override: %+v %v", over, err)
	}

	// A stored version is inert until activated; activated, it wins — for its account only.
	v1, created, err := lib.Create(ctx, acct, "sectors.sales", "Você vende óculos e lentes.", "primeira", "ana", false)
	if err != nil || !created || v1.Active {
		t.Fatalf("create: %+v %v %v", v1, created, err)
	}
	if p, _ := lib.Get(ctx, acct, "sectors.sales"); p.Source != prompts.SourceOverride {
		t.Fatalf("an inactive version took effect: %+v", p)
	}
	if _, err := lib.Activate(ctx, acct, v1.Version); err != nil {
		t.Fatal(err)
	}
	if p, _ := lib.Get(ctx, acct, "sectors.sales"); p.Version != v1.Version {
		t.Fatalf("active: %+v", p)
	}
	if p, _ := lib.Get(ctx, other, "sectors.sales"); p.Source != prompts.SourceOverride {
		t.Fatalf("another account sees the version: %+v", p)
	}
	again, created, err := lib.Create(ctx, acct, "sectors.sales", "  Você vende óculos e lentes.\n", "", "bia", false)
	if err != nil || created || again.Version != v1.Version {
		t.Fatalf("same text must be the same version: %+v %v %v", again, created, err)
	}

	versions, err := lib.Versions(ctx, acct, "sectors.sales")
	if err != nil || len(versions) != 3 {
		t.Fatalf("versions: %d %v", len(versions), err)
	}
	active := 0
	for _, v := range versions {
		if v.Active {
			active++
		}
	}
	if active != 1 || !versions[0].Active {
		t.Fatalf("exactly the stored version must be active: %+v", versions)
	}

	// Activating a file version puts the files back in effect.
	if _, err := lib.Activate(ctx, acct, embedded.Version); err != nil {
		t.Fatal(err)
	}
	if p, _ := lib.Get(ctx, acct, "sectors.sales"); p.Source != prompts.SourceOverride {
		t.Fatalf("after activating a file version: %+v", p)
	}

	// New names (a sector the business added) and bad input.
	if _, _, err := lib.Create(ctx, acct, "sectors.agendamento", "Você agenda consultas.", "", "", true); err != nil {
		t.Fatal(err)
	}
	list, err := lib.List(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range list {
		names[p.Name] = true
	}
	for _, want := range []string{"sectors.agendamento", "sectors.sales", "channels.whatsapp", "handoff.summary", "sectors.common"} {
		if !names[want] {
			t.Errorf("list lacks %s: %v", want, names)
		}
	}
	for _, bad := range []struct{ name, text string }{{"Sales", "x"}, {"sectors", "x"}, {"sectors.sales", "  "}, {"../etc.passwd", "x"}} {
		if _, _, err := lib.Create(ctx, acct, bad.name, bad.text, "", "", false); !errors.Is(err, prompts.ErrInvalid) {
			t.Errorf("create %q %q: %v, want ErrInvalid", bad.name, bad.text, err)
		}
	}
	if _, err := lib.Version(ctx, acct, "sectors.sales@000000000000"); !errors.Is(err, prompts.ErrNotFound) {
		t.Errorf("unknown version: %v", err)
	}
}

func TestDiff(t *testing.T) {
	got, err := prompts.Diff("a\nb\nc", "a\nc\nd")
	if err != nil {
		t.Fatal(err)
	}
	if want := "  a\n- b\n  c\n+ d\n"; got != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
	}
	if same, _ := prompts.Diff("x", "x"); same != "  x\n" {
		t.Fatalf("same: %q", same)
	}
}
