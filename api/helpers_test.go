package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/agents"
	"github.com/atende/atende/audit"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/conversations"
	"github.com/atende/atende/erasure"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/notify"
	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/internal/testdb"
	"github.com/atende/atende/knowledge"
	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/migrations"
	"github.com/atende/atende/prompts"
	"github.com/atende/atende/tags"
	"github.com/atende/atende/webhooks"
)

// testServer is a real HTTP server over a real database, with two accounts.
type testServer struct {
	*httptest.Server
	keyA, keyB   string
	acctA, acctB uuid.UUID
	store        *memory.Store
	engine       *gin.Engine
	clock        *atomic.Pointer[time.Time]
	channels     *channels.Store
	pool         *pgxpool.Pool
	outbox       *channels.Outbox
	handoffs     *handoff.Service
	mediaFiles   *media.Files
	blobs        media.Blobs
}

// setNow sets the server's clock (webhook timestamps are checked against it).
func (s *testServer) setNow(t time.Time) { s.clock.Store(&t) }

// newTestServer lets tenant URLs reach loopback, where the tests' fake
// platforms, tools and subscribers listen.
func newTestServer(t *testing.T) *testServer {
	t.Helper()
	return newTestServerWith(t, outbound.TestRig())
}

// newTestServerWith is a test server whose tenant URLs go through policy.
func newTestServerWith(t *testing.T, policy outbound.Policy) *testServer {
	t.Helper()
	return newTestServerSetup(t, policy, RateLimits{})
}

// newTestServerLimits is newTestServer with these rate limits (zero: the defaults).
func newTestServerLimits(t *testing.T, limits RateLimits) *testServer {
	t.Helper()
	return newTestServerSetup(t, outbound.TestRig(), limits)
}

func newTestServerSetup(t *testing.T, policy outbound.Policy, limits RateLimits) *testServer {
	t.Helper()
	pool, _ := testdb.New(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := memory.NewStore(pool, nil, memory.NewHashEmbedder(memory.DefaultHashDims), log)
	know := knowledge.NewStore(pool, store.Embedder(), store)
	tokens, err := memory.NewTokenCounter()
	if err != nil {
		t.Fatal(err)
	}
	accts := accounts.NewStore(pool)
	keys := make([]string, 2)
	ids := make([]uuid.UUID, 2)
	for i, slug := range []string{"acme", "globex"} {
		a, err := accts.Ensure(ctx, slug, slug)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = a.ID
		if keys[i], err = accts.NewKey(ctx, a.ID, "test"); err != nil {
			t.Fatal(err)
		}
	}
	clock := &atomic.Pointer[time.Time]{}
	now := time.Now()
	clock.Store(&now)
	box := testdb.SecretBox(t)
	channelStore := channels.NewStore(pool, box)
	hub := notify.New(pool)
	hubCtx, stopHub := context.WithCancel(context.Background())
	go func() { _ = hub.Run(hubCtx) }()
	t.Cleanup(stopHub)
	// Turns are queued (not run): a test sees a reply is on its way in river_job.
	ingestor := channels.NewIngestor(pool, store, agents.NewTurns(insertOnly(t, pool))).WithWakes(hub)
	outbox := channels.NewOutbox(pool, store, channelStore, channels.NewPlatforms(policy, nil, hub), insertOnly(t, pool), log, func(int) time.Duration { return 10 * time.Millisecond })
	library := prompts.NewLibrary(pool, "")
	routers, err := agents.NewRouters(pool)
	if err != nil {
		t.Fatal(err)
	}
	hooks := webhooks.NewStore(pool, box, insertOnly(t, pool))
	handoffs := handoff.NewService(pool, store, channelStore, outbox, insertOnly(t, pool), hooks, log)
	tagStore := tags.NewStore(pool, store, hooks)
	orch, err := agents.NewOrchestrator(agents.Deps{Pool: pool, Wakes: hub, Knowledge: know, Memory: store, Channels: channelStore, Outbox: outbox, Sectors: agents.NewSectorStore(pool, box),
		Routers: routers, Prompts: library, Handoffs: handoffs, Tags: tagStore, Outbound: policy, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := media.NewDisk(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	mediaFiles := media.NewFiles(pool)
	eraser, err := erasure.New(erasure.Deps{Pool: pool, Memory: store, Files: mediaFiles, Blobs: blobs, Webhooks: hooks, Routers: routers})
	if err != nil {
		t.Fatal(err)
	}
	handler := NewHandler(Deps{Pool: pool, Conversations: conversations.NewStore(pool), MediaFiles: mediaFiles, Blobs: blobs, Erasure: eraser,
		MediaLinks: media.NewLinks(testPublicURL, box.Derive(media.LinkPurpose)),
		Audit:      audit.NewStore(pool),
		Now:        func() time.Time { return *clock.Load() },
		Auth:       accts, Memory: store, Viewer: memory.NewViewer(store, know, tokens, nil), Knowledge: know,
		Channels: channelStore, Ingestor: ingestor, Outbox: outbox,
		Webchat: channels.NewWebchat(pool, store, ingestor), Hub: hub, Prompts: library, Agents: orch, Handoffs: handoffs, Webhooks: hooks, Tags: tagStore, Accounts: accts, Outbound: policy, RateLimits: limits,
		Ready:    func(ctx context.Context) error { return migrations.Check(ctx, pool) },
		Log:      log,
		Registry: prometheus.NewRegistry(),
	})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, keyA: keys[0], keyB: keys[1], acctA: ids[0], acctB: ids[1], store: store, engine: handler,
		clock: clock, channels: channelStore, pool: pool, outbox: outbox, handoffs: handoffs, mediaFiles: mediaFiles, blobs: blobs}
}

// testPublicURL stands in for ATENDE_PUBLIC_URL: links are signed under it,
// and a test fetches them from the test server by the same path and query.
const testPublicURL = "https://atende.example"

// call sends a request with the key and decodes the JSON answer into out (when non-nil).
func (s *testServer) call(t *testing.T, key, method, path string, body any, out any) int {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s -> %d, not JSON: %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type contactJSON struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Fields     map[string]any    `json:"fields"`
	Identities []memory.Identity `json:"identities"`
	MergedInto *string           `json:"merged_into"`
	Stage      string            `json:"stage"`
	First      struct {
		Channel string `json:"channel"`
		Origin  string `json:"origin"`
	} `json:"first_contact"`
}

func mustUUID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func hmacHex(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func insertOnly(t *testing.T, pool *pgxpool.Pool) *river.Client[pgx.Tx] {
	t.Helper()
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return client
}
