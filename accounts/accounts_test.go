package accounts

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/atende/atende/internal/testdb"
)

// Keys are listed by label and prefix, revoked by id, prefix or the key
// itself, within their account only; a revoked key is refused at once.
func TestKeysAreListedAndRevokedWithinTheirAccount(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	s := NewStore(pool)
	a, err := s.Ensure(ctx, "loja-a", "Loja A")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Ensure(ctx, "loja-b", "Loja B")
	if err != nil {
		t.Fatal(err)
	}
	k1, key1, err := s.CreateKey(ctx, a.ID, " zapier ")
	if err != nil {
		t.Fatal(err)
	}
	if k1.Name != "zapier" || k1.Prefix != key1[:8] || k1.RevokedAt != nil || k1.LastUsedAt != nil {
		t.Fatalf("issued key: %+v", k1)
	}
	_, key2, err := s.CreateKey(ctx, a.ID, "n8n")
	if err != nil {
		t.Fatal(err)
	}
	kb, _, err := s.CreateKey(ctx, b.ID, "b")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Authenticate(ctx, key1); err != nil || got.ID != a.ID {
		t.Fatalf("authenticate: %+v %v", got, err)
	}
	list, err := s.Keys(ctx, a.ID)
	if err != nil || len(list) != 2 || list[0].ID != k1.ID || list[0].LastUsedAt == nil || list[1].LastUsedAt != nil {
		t.Fatalf("a's keys (the used one says when): %+v %v", list, err)
	}

	// Another account's key, by id or by prefix, is not found; it keeps working.
	for _, ref := range []string{kb.ID.String(), kb.Prefix, "", "nonsense"} {
		if _, _, err := s.RevokeKey(ctx, a.ID, ref, RevokeOptions{}); !errors.Is(err, ErrKeyNotFound) {
			t.Fatalf("revoke %q from a: %v", ref, err)
		}
	}
	if _, _, err := s.CreateKey(ctx, a.ID, strings.Repeat("x", MaxKeyNameLen+1)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a label too long: %v", err)
	}

	got, active, err := s.RevokeKey(ctx, a.ID, k1.Prefix, RevokeOptions{KeepLast: true})
	if err != nil || got.ID != k1.ID || got.RevokedAt == nil || active != 1 {
		t.Fatalf("revoke by prefix: %+v %d %v", got, active, err)
	}
	if _, err := s.Authenticate(ctx, key1); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("a revoked key must be refused at once: %v", err)
	}
	if again, active, err := s.RevokeKey(ctx, a.ID, k1.ID.String(), RevokeOptions{KeepLast: true}); err != nil ||
		!again.RevokedAt.Equal(*got.RevokedAt) || active != 1 {
		t.Fatalf("revoking twice changes nothing: %+v %d %v", again, active, err)
	}
	// The last active key is kept when asked, revoked (and said so) when not.
	if _, _, err := s.RevokeKey(ctx, a.ID, key2, RevokeOptions{KeepLast: true}); !errors.Is(err, ErrLastKey) {
		t.Fatalf("the last key, kept: %v", err)
	}
	if _, err := s.Authenticate(ctx, key2); err != nil {
		t.Fatalf("the kept key still works: %v", err)
	}
	if _, active, err := s.RevokeKey(ctx, a.ID, key2, RevokeOptions{}); err != nil || active != 0 {
		t.Fatalf("revoke the last key by the key itself: %d %v", active, err)
	}
	if _, err := s.Authenticate(ctx, key2); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("revoked: %v", err)
	}
	sums, err := s.List(ctx)
	if err != nil || len(sums) != 2 || sums[0].Slug != "loja-a" || sums[0].ActiveKeys != 0 || sums[1].ActiveKeys != 1 {
		t.Fatalf("accounts: %+v %v", sums, err)
	}
}

// Two keys whose prefixes are alike cannot be revoked by the prefix: it
// would be a guess which one goes.
func TestAnAmbiguousPrefixRevokesNothing(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	s := NewStore(pool)
	a, err := s.Ensure(ctx, "loja", "Loja")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"atd_same_prefix_one_0123456789", "atd_same_prefix_two_0123456789"} {
		if err := s.AddKey(ctx, a.ID, "x", k); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.RevokeKey(ctx, a.ID, "atd_same", RevokeOptions{}); !errors.Is(err, ErrAmbiguousKey) {
		t.Fatalf("ambiguous prefix: %v", err)
	}
	sums, err := s.List(ctx)
	if err != nil || sums[0].ActiveKeys != 2 {
		t.Fatalf("nothing revoked: %+v %v", sums, err)
	}
	if _, _, err := s.CreateKey(ctx, [16]byte{1}, "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a key for no account: %v", err)
	}
}
