// Package database opens the PostgreSQL pool Atende runs on, migrated and
// with pgvector's types registered.
package database

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/atende/atende/migrations"
)

// Migrate applies all migrations through a plain pool: pgvector's types cannot
// be registered on connections opened before the extension exists.
func Migrate(ctx context.Context, url string) error {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to database: %w", err)
	}
	defer pool.Close()
	return migrations.Apply(ctx, pool)
}

// Open returns a pool of at most maxConns connections (0: pgx's default,
// max(4, cores) — size it explicitly for a server) whose connections know the
// vector type (binary COPY and scanning vectors need it). The database must
// be migrated.
func Open(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		return pgxvec.RegisterTypes(ctx, conn)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("reach database: %w", err)
	}
	return pool, nil
}

// InTx runs fn in one transaction on db, committing when fn returns nil and
// rolling back otherwise. It is the one way packages open a unit of work:
// each package's writes take the pgx.Tx (River's InsertTx style), so a
// webhook can resolve a contact, append a message, open a conversation and
// enqueue its turn atomically without any package owning the others'
// transactions. Keep fn short: nothing slow (LLM, embedder, platform, SMTP)
// may run inside it, since it pins a pool connection until it returns.
func InTx(ctx context.Context, db TxStarter, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db, fn)
}

// TxStarter begins transactions: a *pgxpool.Pool, or a pgx.Tx for a
// savepoint inside an outer unit of work.
type TxStarter interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}
