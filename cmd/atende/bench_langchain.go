package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"
	"github.com/tmc/langchaingo/vectorstores"
	lcpgvector "github.com/tmc/langchaingo/vectorstores/pgvector"

	"github.com/atende/atende/memory"
)

// langchainCollection is the collection the benchmark seeds in langchaingo's tables.
const langchainCollection = "atende-bench"

func langchainStore(ctx context.Context, pool *pgxpool.Pool, embedder *memory.HashEmbedder) (lcpgvector.Store, error) {
	store, err := lcpgvector.New(ctx, lcpgvector.WithConn(pool), lcpgvector.WithEmbedder(embedder),
		lcpgvector.WithCollectionName(langchainCollection))
	if err != nil {
		return lcpgvector.Store{}, fmt.Errorf("open langchaingo pgvector store: %w", err)
	}
	return store, nil
}

// seedLangchain copies the same chunks into langchaingo's embedding table,
// with the contact id in the metadata its filters read.
func seedLangchain(ctx context.Context, log *slog.Logger, pool *pgxpool.Pool, embedder *memory.HashEmbedder, ids []uuid.UUID, perContact int) error {
	if _, err := langchainStore(ctx, pool, embedder); err != nil {
		return err
	}
	var collection uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT uuid FROM langchain_pg_collection WHERE name = $1`, langchainCollection).Scan(&collection); err != nil {
		return fmt.Errorf("find langchaingo collection: %w", err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM langchain_pg_embedding WHERE collection_id = $1`, collection); err != nil {
		return fmt.Errorf("reset langchaingo collection: %w", err)
	}
	start := time.Now()
	total := len(ids) * perContact
	n, err := pool.CopyFrom(ctx, pgx.Identifier{"langchain_pg_embedding"}, []string{"collection_id", "embedding", "document", "cmetadata", "uuid"},
		newChunkSource(total, func(i int, text string, vec []float32, _ time.Time) []any {
			return []any{collection, pgvector.NewVector(vec), text, map[string]string{"contact_id": ids[i/perContact].String()}, uuid.New()}
		}, embedder))
	if err != nil {
		return fmt.Errorf("copy langchaingo chunks: %w", err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE langchain_pg_embedding`); err != nil {
		return fmt.Errorf("analyze langchaingo table: %w", err)
	}
	log.Info("langchaingo chunks copied", "rows", n, "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

func langchainLatencies(ctx context.Context, pool *pgxpool.Pool, embedder *memory.HashEmbedder, sample []uuid.UUID, n, k int) (latencies, error) {
	store, err := langchainStore(ctx, pool, embedder)
	if err != nil {
		return nil, err
	}
	out := make(latencies, 0, n)
	for i := 0; i < n+2; i++ {
		start := time.Now()
		_, err := store.SimilaritySearch(ctx, benchQuery(uint64(i)), k,
			vectorstores.WithFilters(map[string]any{"contact_id": sample[i%len(sample)].String()}))
		if err != nil {
			return nil, fmt.Errorf("langchaingo similarity search: %w", err)
		}
		if i >= 2 {
			out = append(out, time.Since(start))
		}
	}
	return out, nil
}
