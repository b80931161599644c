package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/testdb"
)

// TestSeedThenServe runs what `make run` runs — seed, then serve with its
// workers — and uses the server as a client would, with the demo key.
func TestSeedThenServe(t *testing.T) {
	_, url := testdb.New(t)
	t.Setenv("DATABASE_URL", url)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("ATENDE_ADDR", addr)
	const key = "atd_demo_e2e_key_0123456789"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 2 { // seeding twice changes nothing
		if err := seed(ctx, log, []string{"-api-key", key}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, log, nil) }()
	base := "http://" + addr
	get := func(path string, out any) int {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		if out != nil {
			_ = json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	deadline := time.Now().Add(20 * time.Second)
	for get("/readyz", nil) != 200 {
		if time.Now().After(deadline) {
			t.Fatal("server never became ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
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
	pool, _ := database.Open(ctx, url)
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
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve ended with %v", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("serve did not shut down")
	}
}
