package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// A person's correction becomes a routing example that `atende train` folds
// into the account's active router; `atende replay` then shows the stored
// turns next to what the agent decides now.
func TestTrainOnCorrectionsAndReplay(t *testing.T) {
	srv := startServer(t, "atd_train_replay_key_0123456789", 1)
	graph := newGraphServer(t)
	send, waitSent := whatsappChannel(t, srv, graph)
	send("wamid.tr1", "a catraca da academia não libera minha entrada")
	waitSent(1)
	var found struct{ Contacts []struct{ ID string } }
	srv.call("GET", "/api/v1/contacts?identity=phone:+5521987650000", nil, &found)
	if len(found.Contacts) != 1 {
		t.Fatal("contact not found")
	}
	contact := found.Contacts[0].ID
	var page struct {
		Events []struct {
			ConversationID string `json:"conversation_id"`
		}
	}
	srv.call("GET", "/api/v1/contacts/"+contact+"/timeline", nil, &page)
	conv := page.Events[len(page.Events)-1].ConversationID
	if code := srv.call("POST", "/api/v1/conversations/"+conv+"/sector", map[string]any{"sector": "billing", "by": "ana"}, nil); code != 200 {
		t.Fatalf("reassign: %d", code)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var out bytes.Buffer
	if err := train(context.Background(), log, []string{"-json"}, &out); err != nil {
		t.Fatal(err)
	}
	var trained struct {
		Version  string
		Examples int
		Own      int `json:"own_examples"`
		Created  bool
	}
	if err := json.Unmarshal(out.Bytes(), &trained); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if !trained.Created || trained.Own != 1 || !strings.HasPrefix(trained.Version, "router@") {
		t.Fatalf("train: %+v", trained)
	}
	var active string
	var n int
	if err := srvPool(t, srv).QueryRow(context.Background(), `SELECT version, jsonb_array_length(examples) FROM router_versions WHERE active`).Scan(&active, &n); err != nil ||
		active != trained.Version || n != trained.Examples {
		t.Fatalf("active router %s with %d examples (%v), want %s", active, n, err, trained.Version)
	}
	out.Reset()
	if err := train(context.Background(), log, nil, &out); err != nil || !strings.Contains(out.String(), "already existed") {
		t.Fatalf("training the same set again: %v %s", err, out.String())
	}

	out.Reset()
	if err := replay(context.Background(), log, []string{contact}, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.Contains(text, "turn 1 · whatsapp") || !strings.Contains(text, "customer: a catraca da academia não libera minha entrada") ||
		!strings.Contains(text, "1 turns,") {
		t.Fatalf("replay:\n%s", text)
	}
	if err := replay(context.Background(), log, []string{contact, "--prompt-version", "sectors.support@000000000000"}, &out); err == nil {
		t.Fatal("an unknown prompt version must be an error")
	}
	if err := replay(context.Background(), log, []string{"not-a-uuid"}, &out); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("a bad contact id: %v", err)
	}
}
