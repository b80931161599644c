package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/atende/atende/audit"
	"github.com/atende/atende/internal/testdb"
)

// The trail is read back newest first, filtered by actor (id or name, any
// case), action prefix and time, in pages that neither repeat nor skip, and
// one account never reads another's.
func TestTheTrailIsFilteredAndPaged(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	a, b := testdb.NewAccount(t, pool, "a"), testdb.NewAccount(t, pool, "b")
	store := audit.NewStore(pool)
	base := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	entries := []audit.Entry{
		{At: base, ActorKind: audit.ActorAttendant, ActorID: "ana-id", ActorName: "Ana Souza", Action: "login", Outcome: audit.OutcomeOK},
		{At: base.Add(time.Minute), ActorKind: audit.ActorAPIKey, ActorID: "key-id", ActorName: "n8n", Action: "contact.fields.update", Subject: "c1", Outcome: audit.OutcomeOK},
		{At: base.Add(2 * time.Minute), ActorKind: audit.ActorAPIKey, ActorID: "key-id", ActorName: "n8n", Action: "contact.merge", Subject: "c1", Outcome: audit.OutcomeRefused, Status: 409},
		{At: base.Add(3 * time.Minute), ActorKind: audit.ActorAttendant, ActorID: "ana-id", ActorName: "Ana Souza", Action: "prompt.activate", Subject: "sectors.sales", Outcome: audit.OutcomeOK, Detail: map[string]any{"version": "3"}},
	}
	for _, e := range entries {
		if err := store.Record(ctx, a, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Record(ctx, b, audit.Entry{ActorKind: audit.ActorSystem, Action: "login", Outcome: audit.OutcomeOK}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    audit.Filter
		want []string
	}{
		{"all, newest first", audit.Filter{}, []string{"prompt.activate", "contact.merge", "contact.fields.update", "login"}},
		{"an actor by name, any case", audit.Filter{Actor: "ana souza"}, []string{"prompt.activate", "login"}},
		{"an actor by id", audit.Filter{Actor: "key-id"}, []string{"contact.merge", "contact.fields.update"}},
		{"an action prefix", audit.Filter{Action: "contact."}, []string{"contact.merge", "contact.fields.update"}},
		{"a time range", audit.Filter{From: base.Add(time.Minute), To: base.Add(3 * time.Minute)}, []string{"contact.merge", "contact.fields.update"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := store.List(ctx, a, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range got {
				actions = append(actions, e.Action)
			}
			if len(actions) != len(tc.want) {
				t.Fatalf("got %v, want %v", actions, tc.want)
			}
			for i := range actions {
				if actions[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", actions, tc.want)
				}
			}
		})
	}
	first, err := store.List(ctx, a, audit.Filter{Limit: 3})
	if err != nil || len(first) != 3 {
		t.Fatalf("first page: %v %v", first, err)
	}
	rest, err := store.List(ctx, a, audit.Filter{Limit: 3, Before: first[2].ID})
	if err != nil || len(rest) != 1 || rest[0].Action != "login" {
		t.Fatalf("second page: %+v %v", rest, err)
	}
	if first[0].Detail["version"] != "3" || first[1].Status != 409 {
		t.Fatalf("details kept: %+v", first[:2])
	}
	if _, err := store.List(ctx, a, audit.Filter{From: base, To: base}); !errors.Is(err, audit.ErrBadFilter) {
		t.Fatalf("an empty range: %v", err)
	}
}

// Two requests answered at once record in either order: an entry's time
// may be older than the id of one recorded before it. Pages still neither
// skip nor repeat an entry (issue 14 review).
func TestPagesKeepEntriesRecordedOutOfOrder(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	a := testdb.NewAccount(t, pool, "a")
	store := audit.NewStore(pool)
	base := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	// "late" is recorded second but happened first
	for _, e := range []audit.Entry{
		{At: base.Add(2 * time.Second), Action: "b"},
		{At: base.Add(time.Second), Action: "late"},
		{At: base, Action: "a"},
	} {
		e.ActorKind, e.Outcome = audit.ActorSystem, audit.OutcomeOK
		if err := store.Record(ctx, a, e); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	var before int64
	for range 5 {
		page, err := store.List(ctx, a, audit.Filter{Limit: 1, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		seen = append(seen, page[0].Action)
		before = page[0].ID
	}
	if len(seen) != 3 || seen[0] != "b" || seen[1] != "late" || seen[2] != "a" {
		t.Fatalf("paged: %v, want [b late a]", seen)
	}
}
