package agents

import (
	"context"
	"testing"

	"github.com/atende/atende/internal/testdb"
)

// Warm trains the default sectors' router before any turn asks: the first
// account with the default sectors finds it trained, the same router.
func TestWarmTrainsTheDefaultRouter(t *testing.T) {
	pool, _ := testdb.New(t)
	r, err := NewRouters(pool)
	if err != nil {
		t.Fatal(err)
	}
	r.Warm()
	acct := testdb.NewAccount(t, pool, "warm")
	sectors, err := NewSectorStore(pool, testdb.SecretBox(t)).Sectors(context.Background(), acct)
	if err != nil {
		t.Fatal(err)
	}
	first, v1, err := r.For(context.Background(), acct, sectors)
	if err != nil || first == nil {
		t.Fatalf("router: %v", err)
	}
	again, v2, _ := r.For(context.Background(), acct, sectors)
	if first != again || v1 != v2 {
		t.Fatal("the warmed router is not the one the account gets")
	}
	r.mu.Lock()
	n := len(r.cache)
	r.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d routers trained, want the warmed one only", n)
	}
}
