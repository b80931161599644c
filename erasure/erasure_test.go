package erasure

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/atende/atende/agents"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/testdb"
	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/webhooks"
)

// brokenDeletes is a blob store whose deletes fail (a storage outage).
type brokenDeletes struct{ media.Blobs }

func (brokenDeletes) Delete(context.Context, string) error { return errors.New("storage unreachable") }

func TestNewRefusesAMissingPart(t *testing.T) {
	_, err := New(Deps{})
	if err == nil || !strings.Contains(err.Error(), "required") {
		t.Fatalf("New with nothing: %v", err)
	}
}

// A blob the store fails to delete is reported, not an error: the
// transaction committed and nothing references the file any more.
func TestABlobThatCannotBeDeletedIsReportedNotFailed(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	acct := testdb.NewAccount(t, pool, "acme")
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	store := memory.NewStore(pool, nil, memory.NewHashEmbedder(memory.DefaultHashDims), slog.New(slog.NewTextHandler(io.Discard, nil)))
	disk, err := media.NewDisk(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	routers, err := agents.NewRouters(pool)
	if err != nil {
		t.Fatal(err)
	}
	files := media.NewFiles(pool)
	svc, err := New(Deps{Pool: pool, Memory: store, Files: files, Blobs: brokenDeletes{disk}, Webhooks: webhooks.NewStore(pool, testdb.SecretBox(t), jobs), Routers: routers})
	if err != nil {
		t.Fatal(err)
	}
	c, err := store.CreateContact(ctx, acct, memory.NewContact{Name: "Rui"})
	if err != nil {
		t.Fatal(err)
	}
	var file uuid.UUID
	err = database.InTx(ctx, pool, func(tx pgx.Tx) error {
		ev, err := store.AppendTx(ctx, tx, acct, memory.Event{ContactID: c.Contact.ID, Kind: memory.EventMessage, Direction: memory.DirectionIn,
			Author: memory.AuthorContact, Channel: "whatsapp", Media: []memory.Media{{Type: "image", PlatformID: "M1"}}})
		if err != nil {
			return err
		}
		file, err = files.PendingTx(ctx, tx, acct, media.Item{EventID: ev.Event.ID, Kind: "image", FileName: "foto.png"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := disk.Put(ctx, bytes.NewReader([]byte("a photo of Rui")))
	if err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return files.StoredTx(ctx, tx, acct, file, b, "image/png") }); err != nil {
		t.Fatal(err)
	}
	res, err := svc.EraseContact(ctx, acct, c.Contact.ID)
	if err != nil {
		t.Fatalf("erase: %v", err)
	}
	if len(res.ContactIDs) != 1 || res.BlobsDeleted != 0 || len(res.BlobFailures) != 1 || res.BlobFailures[0].SHA256 != b.SHA256 {
		t.Fatalf("result %+v", res)
	}
	if _, err := store.Contact(ctx, acct, c.Contact.ID); !errors.Is(err, memory.ErrNotFound) {
		t.Fatalf("the contact after erasure: %v", err)
	}
	if _, err := svc.EraseContact(ctx, acct, c.Contact.ID); !errors.Is(err, memory.ErrNotFound) {
		t.Fatalf("second erasure: %v", err)
	}
}

// A file of the person that finishes downloading while their erasure is
// under way (after it listed their files, before its delete) is not
// recorded as stored, so the fetch drops its blob: the person's photo is not
// left in the store, referenced by nothing, after they were erased.
func TestAFileFetchedDuringTheErasureIsNotKept(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	acct := testdb.NewAccount(t, pool, "acme")
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	store := memory.NewStore(pool, nil, memory.NewHashEmbedder(memory.DefaultHashDims), slog.New(slog.NewTextHandler(io.Discard, nil)))
	disk, err := media.NewDisk(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	routers, err := agents.NewRouters(pool)
	if err != nil {
		t.Fatal(err)
	}
	files := media.NewFiles(pool)
	svc, err := New(Deps{Pool: pool, Memory: store, Files: files, Blobs: disk, Webhooks: webhooks.NewStore(pool, testdb.SecretBox(t), jobs), Routers: routers})
	if err != nil {
		t.Fatal(err)
	}
	c, err := store.CreateContact(ctx, acct, memory.NewContact{Name: "Rui"})
	if err != nil {
		t.Fatal(err)
	}
	var file uuid.UUID
	var delivery int64
	err = database.InTx(ctx, pool, func(tx pgx.Tx) error {
		ev, err := store.AppendTx(ctx, tx, acct, memory.Event{ContactID: c.Contact.ID, Kind: memory.EventMessage, Direction: memory.DirectionIn,
			Author: memory.AuthorContact, Channel: "whatsapp", Media: []memory.Media{{Type: "image", PlatformID: "M1"}}})
		if err != nil {
			return err
		}
		if file, err = files.PendingTx(ctx, tx, acct, media.Item{EventID: ev.Event.ID, Kind: "image"}); err != nil {
			return err
		}
		// a webhook delivery about Rui: the erasure deletes it after listing his files
		sub := uuid.New()
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_subscriptions (id, account_id, url, secret, events) VALUES ($1, $2, 'https://h.example', 's', '{message.created}')`,
			sub, acct); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO webhook_deliveries (account_id, subscription_id, event, payload) VALUES ($1, $2, 'message.created', $3) RETURNING id`,
			acct, sub, map[string]any{"contact_id": c.Contact.ID}).Scan(&delivery)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Hold the delivery: the erasure lists Rui's files, then waits here.
	hold, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Exec(ctx, `SELECT 1 FROM webhook_deliveries WHERE id = $1 FOR UPDATE`, delivery); err != nil {
		t.Fatal(err)
	}
	erased := make(chan error, 1)
	go func() { _, err := svc.EraseContact(ctx, acct, c.Contact.ID); erased <- err }()
	time.Sleep(300 * time.Millisecond)
	b, err := disk.Put(ctx, bytes.NewReader([]byte("a photo of Rui, just downloaded")))
	if err != nil {
		t.Fatal(err)
	}
	stored := make(chan error, 1)
	go func() {
		stored <- pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return files.StoredTx(ctx, tx, acct, file, b, "image/png") })
	}()
	time.Sleep(300 * time.Millisecond)
	_ = hold.Rollback(ctx)
	if err := <-erased; err != nil {
		t.Fatalf("erase: %v", err)
	}
	if err := <-stored; !errors.Is(err, media.ErrNotFound) {
		t.Fatalf("a file fetched during its person's erasure was recorded (%v): its blob outlives the erasure, referenced by nothing", err)
	}
}
