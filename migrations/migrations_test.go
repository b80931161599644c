package migrations_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/internal/testdb"
	"github.com/atende/atende/migrations"
)

func TestMigratingTwiceIsANoOp(t *testing.T) {
	pool, _ := testdb.New(t) // already migrated once
	ctx := context.Background()
	applied := func() (n int) {
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM atende_schema_migrations WHERE version_id > 0`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := applied()
	if before == 0 {
		t.Fatal("the template database has no migrations applied")
	}
	if err := migrations.Apply(ctx, pool); err != nil {
		t.Fatalf("second migration: %v", err)
	}
	if err := migrations.Check(ctx, pool); err != nil {
		t.Fatalf("check after migrating twice: %v", err)
	}
	if after := applied(); after != before {
		t.Fatalf("migrating again recorded %d migrations, before %d", after, before)
	}
}

func TestCheckReportsAnUnmigratedDatabase(t *testing.T) {
	admin := testdb.AdminURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	name := "atende_test_empty_" + strings.ReplaceAll(t.Name(), "/", "_")
	name = strings.ToLower(name)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
		conn.Close(context.Background())
	})
	pool, err := pgxpool.New(ctx, testdb.WithDatabase(admin, name))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := migrations.Check(ctx, pool); err == nil || !strings.Contains(err.Error(), "pending") {
		t.Fatalf("an empty database must not be ready: %v", err)
	}
	if err := migrations.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if err := migrations.Check(ctx, pool); err != nil {
		t.Fatalf("after migrating: %v", err)
	}
}
