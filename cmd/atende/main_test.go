package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atende/atende/internal/database"
)

// TestSeedThenServe runs what `make run` runs — seed, then serve with its
// workers — and uses the server as a client would, with the demo key.
func TestSeedThenServe(t *testing.T) {
	srv := startServer(t, "atd_demo_e2e_key_0123456789", 2)
	get := func(path string, out any) int { return srv.call("GET", path, nil, out) }
	ctx := context.Background()
	base, key, url := srv.base, srv.key, srv.dbURL
	deadline := time.Now().Add(20 * time.Second)
	var found struct {
		Contacts []struct {
			ID   string
			Name string
		}
	}
	if code := get("/api/v1/contacts?identity=whatsapp:5511987654321", &found); code != 200 || len(found.Contacts) != 1 || found.Contacts[0].Name != "Maria Silva" {
		t.Fatalf("demo contact: %d %+v", code, found)
	}
	id := found.Contacts[0].ID
	var all struct{ Contacts []any }
	get("/api/v1/contacts", &all)
	if len(all.Contacts) != 1 {
		t.Fatalf("seeding twice made %d contacts", len(all.Contacts))
	}

	// A note goes through the River worker of the running server into retrieval.
	req, _ := http.NewRequest("POST", base+"/api/v1/contacts/"+id+"/notes", strings.NewReader(`{"text":"cliente prefere contato depois das 18h"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("note: %v %v", resp, err)
	}
	resp.Body.Close()
	pool, _ := database.Open(ctx, url, 0)
	defer pool.Close()
	for {
		// The view shows the note among recent events; the chunk proves the worker embedded it.
		var chunks int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM memory_chunks WHERE text LIKE '%depois das 18h%'`).Scan(&chunks); err != nil {
			t.Fatal(err)
		}
		if chunks == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the note was never embedded by the server's worker")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
