// Package knowledge owns the knowledge table: each sector's articles (FAQ
// answers, policies) with their embeddings, and the hybrid search the agents
// answer from. It is apart from memory, which is about contacts and their
// history, and shares memory's embedder and search recipe.
package knowledge

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"

	"github.com/atende/atende/memory"
)

// ErrInvalid is returned for an article without a sector, title or body.
var ErrInvalid = errors.New("invalid knowledge article")

// Article is one article of a sector.
type Article struct {
	Sector string
	Title  string
	Body   string
	Source string
}

// VectorIndexes makes sure the embedder's vector indexes exist (memory keeps
// the per-model index scheme for both vector tables).
type VectorIndexes interface {
	PrepareVectorIndexes(ctx context.Context) error
}

// Store reads and writes a database's knowledge.
type Store struct {
	pool     *pgxpool.Pool
	embedder memory.Embedder
	indexes  VectorIndexes
}

// NewStore returns the knowledge of the database, embedded with embedder.
func NewStore(pool *pgxpool.Pool, embedder memory.Embedder, indexes VectorIndexes) *Store {
	return &Store{pool: pool, embedder: embedder, indexes: indexes}
}

// Upsert stores (or replaces, by sector and title) an article with its
// embedding. The embedder is called before any connection is taken.
func (s *Store) Upsert(ctx context.Context, accountID uuid.UUID, a Article) (int64, error) {
	if strings.TrimSpace(a.Sector) == "" || strings.TrimSpace(a.Title) == "" || strings.TrimSpace(a.Body) == "" {
		return 0, fmt.Errorf("%w: an article needs a sector, a title and a body", ErrInvalid)
	}
	vecs, err := s.embedder.EmbedDocuments(ctx, []string{a.Title + "\n" + a.Body})
	if err != nil {
		return 0, fmt.Errorf("embed knowledge %q: %w", a.Title, err)
	}
	if err := s.indexes.PrepareVectorIndexes(ctx); err != nil {
		return 0, err
	}
	var id int64
	err = s.pool.QueryRow(ctx, `INSERT INTO knowledge (account_id, sector, title, body, source, embedding, embedding_model)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (account_id, sector, title) DO UPDATE SET body = excluded.body, source = excluded.source,
			embedding = excluded.embedding, embedding_model = excluded.embedding_model
		RETURNING id`, accountID, a.Sector, a.Title, a.Body, a.Source, pgvector.NewVector(vecs[0]), s.embedder.Model()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store knowledge %q: %w", a.Title, err)
	}
	return id, nil
}

// Search is the hybrid (vector + Portuguese full-text) search over one
// sector's articles. The vector side may use the HNSW index; iterative
// scanning keeps the account and sector filters from starving it of results.
func (s *Store) Search(ctx context.Context, accountID uuid.UUID, sector, query string, k int) ([]memory.KnowledgeHit, error) {
	if k <= 0 {
		k = 3
	}
	query = memory.CapQuery(query)
	vec, err := s.embedder.EmbedQuery(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("embed knowledge query: %w", err)
	}
	sql := memory.HybridQuery("knowledge", "sector", len(vec), "t.id, t.sector, t.title, t.body, t.source", "t.id")
	var hits []memory.KnowledgeHit
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL hnsw.iterative_scan = relaxed_order`); err != nil {
			return fmt.Errorf("enable iterative scan: %w", err)
		}
		rows, err := tx.Query(ctx, sql, accountID, sector, s.embedder.Model(), pgvector.NewVector(vec), query, memory.Candidates, k)
		if err != nil {
			return err
		}
		hits, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (memory.KnowledgeHit, error) {
			var h memory.KnowledgeHit
			var vr int
			err := row.Scan(&h.ID, &h.Sector, &h.Title, &h.Body, &h.Source, &h.Score, &vr, &h.TextRank)
			return h, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("search %s knowledge: %w", sector, err)
	}
	return hits, nil
}

// List returns a sector's articles (all sectors when sector is empty), by title.
func (s *Store) List(ctx context.Context, accountID uuid.UUID, sector string) ([]memory.KnowledgeHit, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, sector, title, body, source, 0::float8, 0 FROM knowledge
		WHERE account_id = $1 AND ($2 = '' OR sector = $2) ORDER BY sector, title LIMIT 1000`, accountID, sector)
	if err != nil {
		return nil, fmt.Errorf("list knowledge: %w", err)
	}
	hits, err := pgx.CollectRows(rows, pgx.RowToStructByPos[memory.KnowledgeHit])
	if err != nil {
		return nil, fmt.Errorf("list knowledge: %w", err)
	}
	return hits, nil
}
