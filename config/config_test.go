package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/agents"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/testdb"
	"github.com/atende/atende/prompts"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func stores(pool *pgxpool.Pool) Stores {
	return Stores{Accounts: accounts.NewStore(pool), Channels: channels.NewStore(pool), Sectors: agents.NewSectorStore(pool),
		Prompts: prompts.NewLibrary(pool, "")}
}

func TestApplyTheBusinessFile(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	st := stores(pool)
	accts, chs := st.Accounts, st.Channels
	vars := map[string]string{"WHATSAPP_APP_SECRET": "s3cr3t", "WHATSAPP_VERIFY_TOKEN": "vt", "WHATSAPP_ACCESS_TOKEN": "EAAG1", "N8N_SECRET": "n8n"}
	f, err := Load("testdata/atende.yaml", env(vars))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // every start applies it; the second time changes nothing
		if err := f.Apply(ctx, st); err != nil {
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
	if err := f.Apply(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got, _ := chs.Get(ctx, acct.ID, wa.ID); got.Secret("app_secret") != "rotated" {
		t.Fatal("the new secret was not applied")
	}
	// An account without sectors in the file keeps the built-in ones.
	if sectors, err := st.Sectors.Sectors(ctx, acct.ID); err != nil || len(sectors) != 3 || sectors[2].Name != "billing" {
		t.Fatalf("default sectors: %+v %v", sectors, err)
	}
}

func TestSectorsAndToolsOfTheBusinessFile(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	st := stores(pool)
	vars := map[string]string{"WHATSAPP_APP_SECRET": "s", "WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_ACCESS_TOKEN": "a", "N8N_SECRET": "n8n-secret"}
	f, err := Load("testdata/atende.yaml", env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Apply(ctx, st); err != nil {
		t.Fatal(err)
	}
	clinica, err := st.Accounts.BySlug(ctx, "clinica")
	if err != nil {
		t.Fatal(err)
	}
	sectors, err := st.Sectors.Sectors(ctx, clinica.ID)
	if err != nil || len(sectors) != 4 {
		t.Fatalf("sectors: %+v %v", sectors, err)
	}
	ag := sectors[0]
	if ag.Name != "agendamento" || ag.Team != "recepcao" || time.Duration(ag.SLA) != 10*time.Minute || !ag.Allows("agendar_consulta") ||
		ag.Allows("transfer_to_sector") || !ag.Allows("handoff_to_human") || len(ag.Examples) != 4 {
		t.Fatalf("agendamento: %+v", ag)
	}
	if sectors[1].Like != "sales" || sectors[3].Handoff.Always != true || sectors[2].Handoff.Keywords[0] != "convênio negou" {
		t.Fatalf("sectors: %+v", sectors)
	}
	tools, err := st.Sectors.Tools(ctx, clinica.ID)
	if err != nil || tools["agendar_consulta"].Secret != "n8n-secret" || time.Duration(tools["agendar_consulta"].Timeout) != 15*time.Second {
		t.Fatalf("tools: %+v %v", tools, err)
	}
	p, err := st.Prompts.Get(ctx, clinica.ID, "sectors.agendamento")
	if err != nil || !strings.Contains(p.Text, "Clínica Sorriso") || p.Source != prompts.SourceStored {
		t.Fatalf("the sector prompt is a stored, active version: %+v %v", p, err)
	}
	// An API activation of another version stands across restarts while the file is unchanged.
	v2, _, err := st.Prompts.Create(ctx, clinica.ID, "sectors.agendamento", "Recepção, versão 2.", "", "ana", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Apply(ctx, st); err != nil {
		t.Fatal(err)
	}
	if p, _ := st.Prompts.Get(ctx, clinica.ID, "sectors.agendamento"); p.Version != v2.Version {
		t.Fatalf("a restart undid the API activation: %s", p.Version)
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
	if err := f.Apply(context.Background(), stores(pool)); !errors.Is(err, channels.ErrInvalidConfig) {
		t.Fatalf("an unknown kind must be refused: %v", err)
	}
	for _, body := range []string{
		"accounts:\n  - slug: y\n    sectors:\n      - name: vendas\n        tools: [emitir_boleto]\n",
		"accounts:\n  - slug: y\n    sectors:\n      - name: Vendas\n",
		"accounts:\n  - slug: y\n    sectors:\n      - name: none\n",
		"accounts:\n  - slug: y\n    sectors:\n      - name: a\n        like: marketing\n",
		"accounts:\n  - slug: y\n    tools:\n      - name: t\n        description: d\n        url: ftp://x\n",
	} {
		f, err := Load(write(body), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Apply(context.Background(), stores(pool)); !errors.Is(err, agents.ErrInvalidSector) {
			t.Errorf("%q: %v, want ErrInvalidSector", body, err)
		}
	}
}
