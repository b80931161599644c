package tags_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/atende/atende/internal/testdb"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/tags"
)

// A contact carries at most MaxPerSubject tags: one more is refused and
// writes nothing (no link, no event); a replace with too many writes nothing.
func TestAtMostFiftyTagsOnAContact(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	mem := memory.NewStore(pool, nil, memory.NewHashEmbedder(memory.DefaultHashDims), slog.New(slog.NewTextHandler(io.Discard, nil)))
	acct := testdb.NewAccount(t, pool, "loja")
	c, err := mem.CreateContact(ctx, acct, memory.NewContact{Name: "Lia"})
	if err != nil {
		t.Fatal(err)
	}
	store, subj := tags.NewStore(pool, mem, nil), tags.Contact(c.Contact.ID)
	many := make([]string, tags.MaxPerSubject+1)
	for i := range many {
		many[i] = fmt.Sprintf("tag %02d", i)
	}
	if _, err := store.Set(ctx, acct, subj, many, tags.API); !errors.Is(err, tags.ErrTooMany) {
		t.Fatalf("replacing with %d tags: %v", len(many), err)
	}
	if _, err := store.Set(ctx, acct, subj, many[:tags.MaxPerSubject], tags.API); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Add(ctx, acct, subj, many[tags.MaxPerSubject], tags.Attendant("Ana")); !errors.Is(err, tags.ErrTooMany) || !errors.Is(err, tags.ErrInvalid) {
		t.Fatalf("one tag too many: %v", err)
	}
	if ch, err := store.Add(ctx, acct, subj, "TAG 00", tags.Attendant("Ana")); err != nil || ch.Changed {
		t.Fatalf("one it has already is still fine: %+v %v", ch, err)
	}
	list, _ := store.List(ctx, acct, subj)
	page, _ := mem.Timeline(ctx, acct, c.Contact.ID, nil, 500)
	events := 0
	for _, e := range page.Events {
		if e.Kind == memory.EventTag {
			events++
		}
	}
	if len(list) != tags.MaxPerSubject || events != tags.MaxPerSubject {
		t.Fatalf("%d tags, %d events; want %d of each", len(list), events, tags.MaxPerSubject)
	}
}
