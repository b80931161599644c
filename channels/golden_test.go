package channels

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atende/atende/internal/fixtures"
)

var update = flag.Bool("update", false, "rewrite the golden files from the parsers' output")

func fixturesDir(t testing.TB) string { return fixtures.Dir(t) }

func readFixture(t testing.TB, name string) []byte { return fixtures.Read(t, name) }

// fixturesMatching lists fixture files of a channel folder whose names start with prefix.
func fixturesMatching(t testing.TB, folder, prefix string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(fixturesDir(t), folder))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) && strings.HasSuffix(e.Name(), ".json") {
			out = append(out, folder+"/"+e.Name())
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s/%s* fixtures", folder, prefix)
	}
	return out
}

// assertGolden compares v, as indented JSON, with testdata/golden/<name>.
func assertGolden(t *testing.T, name string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file %s missing (run go test -run %s -update): %v", path, t.Name(), err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the parser's output:\n%s", path, got)
	}
}

func TestWhatsAppCloudFixturesParse(t *testing.T) {
	for _, name := range fixturesMatching(t, "whatsapp_cloud", "webhook_") {
		t.Run(name, func(t *testing.T) {
			b, err := ParseWhatsAppCloud(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Messages)+len(b.Statuses)+len(b.Annotations) == 0 {
				t.Fatal("nothing parsed")
			}
			assertGolden(t, name, b)
		})
	}
}

func TestEvolutionFixturesParse(t *testing.T) {
	for _, name := range fixturesMatching(t, "evolution", "messages_") {
		t.Run(name, func(t *testing.T) {
			b, err := ParseEvolution(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Messages)+len(b.Annotations) != 1 {
				t.Fatalf("want one message or annotation, got %d and %d", len(b.Messages), len(b.Annotations))
			}
			assertGolden(t, name, b)
		})
	}
}

func TestInstagramFixturesParse(t *testing.T) {
	for _, name := range fixturesMatching(t, "instagram", "webhook_") {
		t.Run(name, func(t *testing.T) {
			b, err := ParseInstagram(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Messages)+len(b.Annotations) != 1 {
				t.Fatalf("want one message or annotation, got %d and %d", len(b.Messages), len(b.Annotations))
			}
			assertGolden(t, name, b)
		})
	}
}

func TestTelegramFixturesParse(t *testing.T) {
	for _, name := range fixturesMatching(t, "telegram", "update_") {
		t.Run(name, func(t *testing.T) {
			b, err := ParseTelegram(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Messages)+len(b.Annotations) != 1 {
				t.Fatalf("want one message or annotation, got %d and %d", len(b.Messages), len(b.Annotations))
			}
			assertGolden(t, name, b)
		})
	}
}

// formFixture reads a fixture that lists form fields as a JSON object.
func formFixture(t *testing.T, name string) url.Values {
	t.Helper()
	var fields map[string]string
	if err := json.Unmarshal(readFixture(t, name), &fields); err != nil {
		t.Fatal(err)
	}
	form := url.Values{}
	for k, v := range fields {
		form.Set(k, v)
	}
	return form
}

func TestEmailFixturesParse(t *testing.T) {
	parse := map[string]func(t *testing.T, name string) (Batch, error){
		"email/postmark_inbound.json": func(t *testing.T, name string) (Batch, error) {
			return ParsePostmarkInbound(readFixture(t, name))
		},
		"email/sendgrid_inbound_parse_fields.json": func(t *testing.T, name string) (Batch, error) {
			return ParseEmailForm(EmailSendGrid, formFixture(t, name))
		},
		"email/mailgun_route_forward_fields.json": func(t *testing.T, name string) (Batch, error) {
			return ParseEmailForm(EmailMailgun, formFixture(t, name))
		},
		"email/sendgrid_inbound_parse_no_message_id.json": func(t *testing.T, name string) (Batch, error) {
			return ParseEmailForm(EmailSendGrid, formFixture(t, name))
		},
	}
	for name, p := range parse {
		t.Run(name, func(t *testing.T) {
			b, err := p(t, name)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Messages) != 1 || b.Messages[0].Email == nil || b.Messages[0].Email.MessageID == "" {
				t.Fatalf("want one threaded message: %+v", b)
			}
			assertGolden(t, name, b)
		})
	}
}

func TestStripEmailReply(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Oi, consigo trocar?\n\nMaria\n\nEm qui., 20 de nov. de 2025 às 10:12, Loja escreveu:\n> Seu pedido foi entregue.\n", "Oi, consigo trocar?\n\nMaria"},
		{"Quero o boleto.\n\nObrigada,\nMaria Silva\nCPF 123", "Quero o boleto."},
		{"Hello\n-- \nJohn Doe\nACME", "Hello"},
		{"On Thu, Nov 20, 2025 at 10:12 AM Shop wrote:\n> hi", ""},
		{"Segue.\n\n-----Mensagem original-----\nDe: loja", "Segue."},
	}
	for _, tt := range tests {
		if got := StripEmailReply(tt.in); got != tt.want {
			t.Errorf("StripEmailReply(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEvolutionStatusUpdates(t *testing.T) {
	body := []byte(`{"event":"messages.update","instance":"loja","data":{"keyId":"3EB0EVO","remoteJid":"5531988776655@s.whatsapp.net","fromMe":true,"status":"READ"}}`)
	b, err := ParseEvolution(body)
	if err != nil || len(b.Statuses) != 1 || b.Statuses[0].ExternalID != "3EB0EVO" || b.Statuses[0].Status != "read" || len(b.Messages) != 0 {
		t.Fatalf("%+v %v", b, err)
	}
	b, _ = ParseEvolution([]byte(`{"event":"connection.update","instance":"loja","data":{"state":"open"}}`))
	if len(b.Messages)+len(b.Statuses) != 0 {
		t.Fatalf("other events carry nothing to store: %+v", b)
	}
}

func TestChatwootFixturesParse(t *testing.T) {
	for _, name := range []string{"chatwoot/webhook_message_created.json", "chatwoot/agent_bot_message_created.json"} {
		t.Run(name, func(t *testing.T) {
			b, err := ParseChatwoot(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Messages) != 1 || b.Messages[0].Chatwoot == nil {
				t.Fatalf("want one message with its Chatwoot conversation: %+v", b)
			}
			assertGolden(t, name, b)
		})
	}
	outgoing := []byte(`{"event":"message_created","id":9,"message_type":"outgoing","content":"resposta do agente","conversation":{"id":128},"sender":{"id":1}}`)
	if b, err := ParseChatwoot(outgoing); err != nil || len(b.Messages) != 0 {
		t.Fatalf("an agent's own message is not a customer message: %+v %v", b, err)
	}
}
