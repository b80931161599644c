package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
)

// A stored file is served to its account with its bytes and type; another
// account's key gets 404; a pending one is 202; a failed one 410 with why.
func TestMediaIsServedToItsAccountOnly(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	c, err := s.store.CreateContact(ctx, s.acctA, memory.NewContact{Name: "Rui"})
	if err != nil {
		t.Fatal(err)
	}
	var stored, pending uuid.UUID
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		ev, err := s.store.AppendTx(ctx, tx, s.acctA, memory.Event{ContactID: c.Contact.ID, Kind: memory.EventMessage, Direction: memory.DirectionIn,
			Author: memory.AuthorContact, Channel: "whatsapp", Media: []memory.Media{{Type: "image", PlatformID: "M1"}, {Type: "document", PlatformID: "M2"}}})
		if err != nil {
			return err
		}
		if stored, err = s.mediaFiles.PendingTx(ctx, tx, s.acctA, media.Item{EventID: ev.Event.ID, Position: 0, Kind: "image", FileName: "foto.png"}); err != nil {
			return err
		}
		pending, err = s.mediaFiles.PendingTx(ctx, tx, s.acctA, media.Item{EventID: ev.Event.ID, Position: 1, Kind: "document", FileName: "contrato.pdf"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	body := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{3}, 100)...)
	b, err := s.blobs.Put(ctx, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.mediaFiles.StoredTx(ctx, tx, s.acctA, stored, b, "image/png") }); err != nil {
		t.Fatal(err)
	}
	get := func(key string, id uuid.UUID) (int, string, []byte) {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/media/"+id.String(), nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), raw
	}
	if code, ct, raw := get(s.keyA, stored); code != 200 || ct != "image/png" || !bytes.Equal(raw, body) {
		t.Fatalf("own file: %d %s %d bytes", code, ct, len(raw))
	}
	if code, _, _ := get(s.keyB, stored); code != http.StatusNotFound {
		t.Fatalf("another account's key: %d", code)
	}
	if code, _, _ := get(s.keyA, pending); code != http.StatusAccepted {
		t.Fatalf("pending: %d", code)
	}
	if err := s.mediaFiles.Failed(ctx, s.acctA, pending, "HTTP 404"); err != nil {
		t.Fatal(err)
	}
	if code, _, raw := get(s.keyA, pending); code != http.StatusGone || !bytes.Contains(raw, []byte("HTTP 404")) {
		t.Fatalf("failed: %d %s", code, raw)
	}
}

// A file whose bytes are no longer in the blob store (deleted by an
// erasure in the moment another message with the same bytes was recorded,
// or removed by an operator) is gone, as the signed link says it: 410 with
// why, never a 500 "internal error".
func TestMediaWhoseBlobIsMissingIsGone(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	c, err := s.store.CreateContact(ctx, s.acctA, memory.NewContact{Name: "Rui"})
	if err != nil {
		t.Fatal(err)
	}
	body := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{9}, 100)...)
	b, err := s.blobs.Put(ctx, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var id uuid.UUID
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		ev, err := s.store.AppendTx(ctx, tx, s.acctA, memory.Event{ContactID: c.Contact.ID, Kind: memory.EventMessage, Direction: memory.DirectionIn,
			Author: memory.AuthorContact, Channel: "whatsapp", Media: []memory.Media{{Type: "image", PlatformID: "M1"}}})
		if err != nil {
			return err
		}
		id, err = s.mediaFiles.KeptTx(ctx, tx, s.acctA, media.Item{EventID: ev.Event.ID, Kind: "image"}, b, "image/png")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.blobs.Delete(ctx, b.SHA256); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/media/"+id.String(), nil)
	req.Header.Set("Authorization", "Bearer "+s.keyA)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusGone || !bytes.Contains(raw, []byte("media_gone")) {
		t.Fatalf("a file whose bytes are gone: %d %s", resp.StatusCode, raw)
	}
}
