package erasure

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

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
