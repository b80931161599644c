// Package testdb gives each test a throwaway, migrated PostgreSQL database in
// the cluster `make test` starts (ATENDE_TEST_DATABASE_URL). Databases are
// cloned from a template migrated once per test binary, so a fresh database
// costs a file copy, not a migration run.
package testdb

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/internal/database"
)

// EnvURL names the variable holding the admin URL of the test cluster.
const EnvURL = "ATENDE_TEST_DATABASE_URL"

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
	counter      int
	counterMu    sync.Mutex
)

// AdminURL returns the cluster URL, failing the test with the way to get one.
func AdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, which starts PostgreSQL with pgvector", EnvURL)
	}
	return u
}

// WithDatabase returns base with its database name replaced.
func WithDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(fmt.Sprintf("bad %s: %v", EnvURL, err))
	}
	u.Path = "/" + name
	return u.String()
}

// New creates a fresh migrated database, returns a pool on it and its URL,
// and drops it when the test ends.
func New(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	admin := AdminURL(t)
	ctx := context.Background()
	templateOnce.Do(func() { templateName, templateErr = makeTemplate(ctx, admin) })
	if templateErr != nil {
		t.Fatalf("prepare template database: %v", templateErr)
	}
	counterMu.Lock()
	counter++
	name := fmt.Sprintf("%s_%d", templateName, counter)
	counterMu.Unlock()
	if err := exec(ctx, admin, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, templateName)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	dbURL := WithDatabase(admin, name)
	pool, err := database.Open(ctx, dbURL, 0)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		if err := exec(context.Background(), admin, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	return pool, dbURL
}

func makeTemplate(ctx context.Context, admin string) (string, error) {
	name := fmt.Sprintf("atende_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000)
	if err := exec(ctx, admin, `CREATE DATABASE `+name); err != nil {
		return "", err
	}
	if err := database.Migrate(ctx, WithDatabase(admin, name)); err != nil {
		return "", err
	}
	return name, nil
}

func exec(ctx context.Context, admin, sql string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to test cluster: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// NewAccount inserts an account for a test. Tests in one database isolate
// themselves by account, exactly as tenants do in production.
func NewAccount(t testing.TB, pool *pgxpool.Pool, slug string) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	if _, err := pool.Exec(context.Background(), `INSERT INTO accounts (id, name, slug) VALUES ($1, $2, $3)`, id, slug, slug); err != nil {
		t.Fatalf("create account %s: %v", slug, err)
	}
	return id
}
