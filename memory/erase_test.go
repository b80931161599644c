package memory

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/internal/database"
)

func (s *Store) eraseForTest(t *testing.T, acct, id uuid.UUID) (Erasure, error) {
	t.Helper()
	var e Erasure
	err := database.InTx(context.Background(), s.pool, func(tx pgx.Tx) error {
		var err error
		e, err = s.EraseContactTx(context.Background(), tx, acct, id)
		return err
	})
	return e, err
}

func (s *Store) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// Erasing a duplicate erases the person: the contact it was merged into and
// every contact merged into that, through a chain of merges.
func TestEraseTakesTheWholeMergedPerson(t *testing.T) {
	s, acct := newTestStore(t)
	ctx := context.Background()
	a := mustResolve(t, s, acct, KindWhatsApp, "5511987650101", "Maria")
	b := mustResolve(t, s, acct, KindEmail, "maria@exemplo.com.br", "Maria S.")
	c := mustResolve(t, s, acct, KindTelegram, "5100000101", "Mari")
	other := mustResolve(t, s, acct, KindWhatsApp, "5511987650199", "Outra")
	mustAppend(t, s, acct, inbound(a.ID, "whatsapp", "oi", "wamid.e1", fixedTime))
	mustAppend(t, s, acct, inbound(b.ID, "email", "segue", "<e2@x>", fixedTime.Add(time.Minute)))
	mustAppend(t, s, acct, inbound(other.ID, "whatsapp", "sou outra", "wamid.e3", fixedTime))
	if _, err := s.Merge(ctx, acct, b.ID, a.ID, AuthorHuman, "same"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Merge(ctx, acct, c.ID, b.ID, AuthorHuman, "same"); err != nil { // a -> b -> c
		t.Fatal(err)
	}
	otherBefore := len(allEvents(t, s, acct, other.ID))
	e, err := s.eraseForTest(t, acct, a.ID) // the oldest duplicate's id
	if err != nil {
		t.Fatal(err)
	}
	if e.ContactID != c.ID || !slices.Contains(e.MergedIDs, a.ID) || !slices.Contains(e.MergedIDs, b.ID) || len(e.MergedIDs) != 2 {
		t.Fatalf("erased %s + %v, want %s + [%s %s]", e.ContactID, e.MergedIDs, c.ID, a.ID, b.ID)
	}
	if len(e.EventIDs) < 2 || len(e.MergeIDs) != 2 || len(e.Identities) != 3 {
		t.Fatalf("erasure %+v", e)
	}
	ids := []uuid.UUID{a.ID, b.ID, c.ID}
	for table, n := range map[string]int{
		"contacts":           s.count(t, `SELECT count(*) FROM contacts WHERE id = ANY($1)`, ids),
		"contact_identities": s.count(t, `SELECT count(*) FROM contact_identities WHERE contact_id = ANY($1)`, ids),
		"events":             s.count(t, `SELECT count(*) FROM events WHERE contact_id = ANY($1)`, ids),
		"conversations":      s.count(t, `SELECT count(*) FROM conversations WHERE contact_id = ANY($1)`, ids),
		"merges":             s.count(t, `SELECT count(*) FROM merges WHERE survivor_id = ANY($1) OR merged_id = ANY($1)`, ids),
	} {
		if n != 0 {
			t.Errorf("%s: %d rows left", table, n)
		}
	}
	if got := allEvents(t, s, acct, other.ID); len(got) != otherBefore {
		t.Errorf("the other contact has %d events, want its %d", len(got), otherBefore)
	}
	for _, id := range ids {
		if _, err := s.eraseForTest(t, acct, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("erase %s again: %v, want ErrNotFound", id, err)
		}
	}
	// The identifiers are free: the same number is someone new.
	again := mustResolve(t, s, acct, KindWhatsApp, "5511987650101", "")
	if slices.Contains(ids, again.ID) || again.DisplayName != "" {
		t.Fatalf("the number resolved to %+v", again)
	}
}

func TestEraseIsScopedToTheAccount(t *testing.T) {
	s, acct := newTestStore(t)
	other := newAccountIn(t, s, "globex")
	a := mustResolve(t, s, acct, KindWhatsApp, "5511987650102", "Rui")
	if _, err := s.eraseForTest(t, other, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another account's erase: %v, want ErrNotFound", err)
	}
	if _, err := s.eraseForTest(t, acct, uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v, want ErrNotFound", err)
	}
	if _, err := s.Contact(context.Background(), acct, a.ID); err != nil {
		t.Fatalf("the contact: %v", err)
	}
}

// After an undone merge, the other person's timeline keeps the merge and
// unmerge events (whose payload names the erased one and may hold its losing
// values), and an embedded chunk made while merged holds both people's
// messages: erasing one takes those out and re-embeds the other's events.
func TestEraseAfterAnUndoneMergeLeavesNothingOnTheOtherPerson(t *testing.T) {
	s, acct := newTestStore(t)
	ctx := context.Background()
	x := mustResolve(t, s, acct, KindWhatsApp, "5511987650103", "Xavier")
	d := mustResolve(t, s, acct, KindEmail, "dora@exemplo.com.br", "Dora")
	mustAppend(t, s, acct, inbound(x.ID, "whatsapp", "mensagem do xavier", "wamid.x1", fixedTime))
	mustAppend(t, s, acct, inbound(d.ID, "email", "mensagem secreta da dora", "<d1@x>", fixedTime.Add(time.Minute)))
	if _, err := s.UpdateFields(ctx, acct, d.ID, map[string]any{"cpf_dora": "segredo"}, AuthorHuman, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Merge(ctx, acct, x.ID, d.ID, AuthorHuman, "engano"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChunkContact(ctx, acct, x.ID); err != nil { // one chunk, both people's messages
		t.Fatal(err)
	}
	if _, err := s.Unmerge(ctx, acct, x.ID, AuthorHuman); err != nil {
		t.Fatal(err)
	}
	if n := s.count(t, `SELECT count(*) FROM memory_chunks WHERE contact_id = $1 AND text LIKE '%dora%'`, x.ID); n == 0 {
		t.Fatal("setup: no chunk of x holds dora's message")
	}
	if _, err := s.eraseForTest(t, acct, d.ID); err != nil {
		t.Fatal(err)
	}
	if n := s.count(t, `SELECT count(*) FROM memory_chunks WHERE text LIKE '%dora%'`); n != 0 {
		t.Errorf("%d chunks still hold dora's message", n)
	}
	if n := s.count(t, `SELECT count(*) FROM events WHERE payload::text LIKE '%' || $1 || '%' OR text LIKE '%' || $1 || '%'`, d.ID.String()); n != 0 {
		t.Errorf("%d events still name dora", n)
	}
	if n := s.count(t, `SELECT count(*) FROM events WHERE payload::text LIKE '%segredo%' OR text LIKE '%dora%'`); n != 0 {
		t.Errorf("%d events still hold dora's data", n)
	}
	if n := s.count(t, `SELECT count(*) FROM merges`); n != 0 {
		t.Errorf("%d merges left", n)
	}
	// x's message lost its chunk with dora's; it is embedded again alone.
	if n := s.count(t, `SELECT count(*) FROM events WHERE contact_id = $1 AND kind = 'message' AND chunk_id IS NULL`, x.ID); n != 1 {
		t.Fatalf("%d of x's messages unchunked, want 1", n)
	}
	if _, err := s.ChunkContact(ctx, acct, x.ID); err != nil {
		t.Fatal(err)
	}
	if n := s.count(t, `SELECT count(*) FROM memory_chunks WHERE contact_id = $1 AND text LIKE '%xavier%'`, x.ID); n != 1 {
		t.Errorf("%d chunks of x hold its message, want 1", n)
	}
	if msgs := allEvents(t, s, acct, x.ID); len(msgs) == 0 {
		t.Error("x lost its timeline")
	}
}
