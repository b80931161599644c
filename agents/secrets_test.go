package agents

import (
	"context"
	"strings"
	"testing"

	"github.com/atende/atende/internal/testdb"
)

// An HTTP tool's signing secret is sealed in agent_tools and opened for the
// orchestrator; a tool stored in clear before encryption still loads.
func TestToolSecretsAreSealedAtRest(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t)
	acct := testdb.NewAccount(t, pool, "loja")
	s := NewSectorStore(pool, testdb.SecretBox(t))
	tools := []HTTPTool{
		{Name: "emitir_boleto", Description: "Emite um boleto.", URL: "https://n8n.example/boleto", Secret: "n8n-plain-secret"},
		{Name: "sem_segredo", Description: "Consulta sem assinatura.", URL: "https://n8n.example/consulta"},
	}
	if err := s.Put(ctx, acct, nil, tools); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT name, definition::text || secret FROM agent_tools WHERE account_id = $1`, acct)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, stored string
		if err := rows.Scan(&name, &stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, "n8n-plain-secret") || (name == "emitir_boleto") != strings.Contains(stored, "enc:v1:") {
			t.Fatalf("tool %s is stored as %s", name, stored)
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if _, err := pool.Exec(ctx, `INSERT INTO agent_tools (account_id, name, definition, secret) VALUES ($1, 'legado', $2, 'legacy-tool-secret')`,
		acct, `{"name":"legado","description":"d","url":"https://n8n.example/legado"}`); err != nil {
		t.Fatal(err)
	}
	got, err := s.Tools(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if got["emitir_boleto"].Secret != "n8n-plain-secret" || got["sem_segredo"].Secret != "" || got["legado"].Secret != "legacy-tool-secret" {
		t.Fatalf("tools read back: %+v", got)
	}
}
