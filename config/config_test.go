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
	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/internal/testdb"
	"github.com/atende/atende/prompts"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func stores(t *testing.T, pool *pgxpool.Pool) Stores {
	box := testdb.SecretBox(t)
	return Stores{Accounts: accounts.NewStore(pool), Channels: channels.NewStore(pool, box), Sectors: agents.NewSectorStore(pool, box),
		Prompts: prompts.NewLibrary(pool, "")}
}

func TestApplyTheBusinessFile(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	st := stores(t, pool)
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
	// A rotated secret in the environment reaches the channel on the next
	// start, exactly, whatever YAML would make of it written in the file.
	rotated := "rotated#1: \"c'd\n  second line"
	vars["WHATSAPP_APP_SECRET"] = rotated
	f, _ = Load("testdata/atende.yaml", env(vars))
	if err := f.Apply(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got, _ := chs.Get(ctx, acct.ID, wa.ID); got.Secret("app_secret") != rotated {
		t.Fatalf("the new secret was not applied as it is: %q", got.Secret("app_secret"))
	}
	// An account without sectors in the file keeps the built-in ones.
	if sectors, err := st.Sectors.Sectors(ctx, acct.ID); err != nil || len(sectors) != 3 || sectors[2].Name != "billing" {
		t.Fatalf("default sectors: %+v %v", sectors, err)
	}
}

func TestSectorsAndToolsOfTheBusinessFile(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	st := stores(t, pool)
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

// writeFile writes body as a business file in a fresh temporary folder.
func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Secrets are substituted after the file is parsed: a value with YAML's
// special characters or several lines reaches the config exactly as the
// environment holds it, wherever and however the reference is written.
func TestSecretsAreTakenExactly(t *testing.T) {
	nasty := `a#b: "c'd`
	multi := "-----BEGIN KEY-----\nline: two # not a comment\n  'three'\n-----END KEY-----\n"
	vars := map[string]string{
		"NASTY": nasty, "MULTI": multi, "OTHER": "${NASTY}", "DIGITS": "007", "TILDE": "~", "EMPTY": "",
		"CAPACITY": "3", "ALWAYS": "true", "TIMEOUT": "20s", "HOST": "n8n.example.com",
	}
	path := writeFile(t, `# ${UNSET_IN_A_COMMENT} is not expanded
accounts:
  - slug: x
    channels:
      - kind: whatsapp
        name: w
        secrets:
          plain: ${NASTY}
          double: "${NASTY}"
          single: '${NASTY}'
          multi: ${MULTI}
          once: ${OTHER}
          digits: ${DIGITS}
          tilde: ${TILDE}
          empty: ${EMPTY}
          mixed: Bearer ${NASTY} and ${DIGITS}
    tools:
      - name: t
        description: d
        url: https://${HOST}/webhook
        secret: ${MULTI}
        timeout: ${TIMEOUT}
    sectors:
      - name: s
        prompt: |
          Use the key ${NASTY}
          and no other.
        handoff:
          always: ${ALWAYS}
    attendants:
      - email: a@example.com
        password: ${NASTY}
        capacity: ${CAPACITY}
`)
	f, err := Load(path, env(vars))
	if err != nil {
		t.Fatal(err)
	}
	a := f.Accounts[0]
	for key, want := range map[string]string{
		"plain": nasty, "double": nasty, "single": nasty, "multi": multi,
		"once":   "${NASTY}", // a value is never expanded again
		"digits": "007", "tilde": "~", "empty": "", "mixed": "Bearer " + nasty + " and 007",
	} {
		got, ok := a.Channels[0].Secrets[key]
		if !ok || got != want {
			t.Errorf("secrets.%s = %q (present %v), want %q", key, got, ok, want)
		}
	}
	tool := a.Tools[0]
	if tool.URL != "https://n8n.example.com/webhook" || tool.Secret != multi || time.Duration(tool.Timeout) != 20*time.Second {
		t.Errorf("tool: %+v", tool)
	}
	if want := "Use the key " + nasty + "\nand no other.\n"; a.Sectors[0].Prompt != want {
		t.Errorf("prompt = %q, want %q", a.Sectors[0].Prompt, want)
	}
	if !a.Sectors[0].Handoff.Always || a.Attendants[0].Capacity != 3 || a.Attendants[0].Password != nasty {
		t.Errorf("a bare reference fills a boolean or number field: %+v %+v", a.Sectors[0].Handoff, a.Attendants[0])
	}
}

func TestBadBusinessFiles(t *testing.T) {
	_, err := Load("testdata/atende.yaml", env(nil))
	if !errors.Is(err, ErrMissingEnv) || !strings.Contains(err.Error(), "WHATSAPP_APP_SECRET at line 12 (accounts[0].channels[0].secrets.app_secret)") ||
		!strings.Contains(err.Error(), "N8N_SECRET at line 25 (accounts[1].tools[0].secret)") {
		t.Fatalf("each missing variable must be named with where it is: %v", err)
	}
	write := func(body string) string { return writeFile(t, body) }
	if _, err := Load(write("accounts:\n  - slug: x\n    chanels: []\n"), env(nil)); err == nil || !strings.Contains(err.Error(), "line 3: field chanels not found") {
		t.Fatalf("a misspelt key must be an error naming it and its line, not silently ignored: %v", err)
	}
	if _, err := Load(write("accounts:\n  - slug: x\n    sectors:\n      - name: s\n        handoff:\n          alway: true\n"), env(nil)); err == nil || !strings.Contains(err.Error(), "line 6: field alway not found") {
		t.Fatalf("a misspelt nested key must be an error: %v", err)
	}
	if _, err := Load(write("accounts:\n  - slug: x\n    attendants:\n      - email: a@example.com\n        capacity: ${CAP}\n"), env(map[string]string{"CAP": "three"})); err == nil {
		t.Fatal("a variable that is not a number cannot fill a number field")
	}
	for _, body := range []string{
		"accounts:\n  - slug: x\n    api_key: ${LOJA_KEY}\n",
		"accounts:\n  - slug: x\n    keys: [atd_0123456789abcdef0123]\n",
		"api-key: atd_0123456789abcdef0123\naccounts:\n  - slug: x\n",
	} {
		if _, err := Load(write(body), env(nil)); err == nil || !strings.Contains(err.Error(), "line ") ||
			!strings.Contains(err.Error(), "atende keys create") || strings.Contains(err.Error(), "atd_") {
			t.Errorf("%q: a key in the file must be refused, saying where keys come from (and not echoing it): %v", body, err)
		}
	}
	if _, err := Load(write("accounts:\n  - name: sem slug\n"), env(nil)); err == nil {
		t.Fatal("an account without a slug must be refused")
	}
	pool, _ := testdb.New(t)
	f, err := Load(write("accounts:\n  - slug: x\n    channels:\n      - kind: fax\n        name: f\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Apply(context.Background(), stores(t, pool)); !errors.Is(err, channels.ErrInvalidConfig) {
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
		if err := f.Apply(context.Background(), stores(t, pool)); !errors.Is(err, agents.ErrInvalidSector) {
			t.Errorf("%q: %v, want ErrInvalidSector", body, err)
		}
	}
}

// A business file naming a tool or a channel base_url at an internal address
// is refused at apply, naming it and the setting that allows it; with the
// operator's allowance it applies.
func TestBusinessFileURLsGoThroughTheOutboundPolicy(t *testing.T) {
	pool, _ := testdb.New(t)
	write := func(body string) string {
		p := filepath.Join(t.TempDir(), "atende.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, body := range []string{
		"accounts:\n  - slug: y\n    tools:\n      - name: pedido\n        description: d\n        url: http://127.0.0.1:5678/webhook/pedido\n",
		"accounts:\n  - slug: y\n    tools:\n      - name: pedido\n        description: d\n        url: http://169.254.169.254/latest\n",
		"accounts:\n  - slug: y\n    channels:\n      - kind: evolution\n        name: evo\n        settings: {instance: loja, base_url: \"http://[::1]:8080\"}\n        secrets: {apikey: k}\n",
	} {
		f, err := Load(write(body), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		err = f.Apply(context.Background(), stores(t, pool))
		if !errors.Is(err, outbound.ErrBlocked) || !strings.Contains(err.Error(), "ATENDE_OUTBOUND_ALLOW") {
			t.Errorf("%q: %v, want the outbound policy's refusal", body, err)
		}
		st := stores(t, pool)
		st.Outbound = outbound.MustParse("127.0.0.0/8,::1")
		if err := f.Apply(context.Background(), st); err != nil && strings.Contains(body, "127.0.0.1") {
			t.Errorf("%q with loopback allowed: %v", body, err)
		}
	}
}
