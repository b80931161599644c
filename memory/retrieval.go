package memory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"
)

// rrfK is the constant of reciprocal rank fusion: score = Σ 1/(rrfK + rank).
// 60 is the value from the original paper and what most hybrid systems use.
const rrfK = 60

// candidates is how many hits each retriever contributes before fusion.
const candidates = 40

var modelIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:/@-]{1,128}$`)

// VectorIndex returns the name and DDL of the partial HNSW (cosine) index over
// one model's vectors in table (memory_chunks or knowledge). A partial index
// per model is what lets one column hold vectors of several models (and
// dimensions) without ever comparing them.
func VectorIndex(table, model string, dims int) (name, ddl string, err error) {
	if table != "memory_chunks" && table != "knowledge" {
		return "", "", fmt.Errorf("no vector column in table %q", table)
	}
	if !modelIDPattern.MatchString(model) {
		return "", "", fmt.Errorf("embedding model id %q has characters that cannot name an index", model)
	}
	if dims <= 0 || dims > 2000 {
		return "", "", fmt.Errorf("embedding model %s has %d dimensions; HNSW indexes take 1 to 2000", model, dims)
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", model, dims)))
	name = table + "_hnsw_" + hex.EncodeToString(sum[:6])
	literal := "'" + strings.ReplaceAll(model, "'", "''") + "'"
	ddl = fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s USING hnsw ((embedding::vector(%d)) vector_cosine_ops) WHERE embedding_model = %s`,
		pgx.Identifier{name}.Sanitize(), table, dims, literal)
	return name, ddl, nil
}

// ensureVectorIndex creates, once per model, the vector indexes of both tables.
func (s *Store) ensureVectorIndex(ctx context.Context, model string, dims int) error {
	if known, ok := s.indexed.Load(model); ok && known.(int) == dims {
		return nil
	}
	for _, table := range []string{"memory_chunks", "knowledge"} {
		name, ddl, err := VectorIndex(table, model, dims)
		if err != nil {
			return err
		}
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&exists); err != nil {
			return fmt.Errorf("look up vector index for %s: %w", model, err)
		}
		if exists {
			continue
		}
		if _, err := s.pool.Exec(ctx, ddl); err != nil {
			return fmt.Errorf("create vector index for %s on %s: %w", model, table, err)
		}
	}
	s.indexed.Store(model, dims)
	return nil
}

// PrepareVectorIndexes makes sure the configured embedder's indexes exist.
// serve calls it at start so the first search is already indexed.
func (s *Store) PrepareVectorIndexes(ctx context.Context) error {
	if _, ok := s.indexed.Load(s.embedder.Model()); ok {
		return nil
	}
	vec, err := s.embedder.EmbedQuery(ctx, "atende")
	if err != nil {
		return fmt.Errorf("probe embedder %s: %w", s.embedder.Model(), err)
	}
	return s.ensureVectorIndex(ctx, s.embedder.Model(), len(vec))
}

// Snippet is a piece of a contact's history retrieved for a query.
type Snippet struct {
	ChunkID      int64     `json:"chunk_id"`
	Text         string    `json:"text"`
	FirstEventID int64     `json:"first_event_id"`
	LastEventID  int64     `json:"last_event_id"`
	FirstAt      time.Time `json:"first_at"`
	LastAt       time.Time `json:"last_at"`
	Score        float64   `json:"score"`
	VectorRank   int       `json:"vector_rank,omitempty"`
	TextRank     int       `json:"text_rank,omitempty"`
}

// orQuery turns text into a Portuguese, accent-folded tsquery that matches any
// of its words (plainto_tsquery alone requires all of them, which a customer's
// paraphrase rarely satisfies); ts_rank_cd still ranks chunks with more words higher.
const orQuery = `replace(plainto_tsquery('portuguese', atende_unaccent($%d))::text, ' & ', ' | ')::tsquery`

// hybridQuery builds the reciprocal-rank fusion of the vector and full-text
// candidates of table, both restricted to the account ($1), one value of the
// scope column ($2: a contact, a sector) and the query's embedding model ($3).
// $4 is the query vector, $5 its text, $6 the candidates per retriever, $7 k.
// It selects cols of the fused rows (aliased t), then score, vector rank and
// text rank; ties break on tiebreak. Table, scope and cols are constants of
// this package, never input.
func hybridQuery(table, scope string, dims int, cols, tiebreak string) string {
	return fmt.Sprintf(`
		WITH vec AS (
			SELECT id, row_number() OVER (ORDER BY embedding::vector(%[1]d) <=> $4::vector(%[1]d)) AS r
			FROM %[3]s
			WHERE account_id = $1 AND %[4]s = $2 AND embedding_model = $3
			ORDER BY embedding::vector(%[1]d) <=> $4::vector(%[1]d) LIMIT $6
		), q AS (SELECT `+fmt.Sprintf(orQuery, 5)+` AS q
		), fts AS (
			SELECT c.id, row_number() OVER (ORDER BY ts_rank_cd(c.tsv, q.q) DESC, c.id DESC) AS r
			FROM %[3]s c, q
			WHERE c.account_id = $1 AND c.%[4]s = $2 AND c.embedding_model = $3 AND c.tsv @@ q.q
			ORDER BY ts_rank_cd(c.tsv, q.q) DESC, c.id DESC LIMIT $6
		)
		SELECT %[5]s,
			coalesce(1.0 / (%[2]d + vec.r), 0) + coalesce(1.0 / (%[2]d + fts.r), 0) AS score,
			coalesce(vec.r, 0), coalesce(fts.r, 0)
		FROM vec FULL JOIN fts ON vec.id = fts.id
		JOIN %[3]s t ON t.account_id = $1 AND t.id = coalesce(vec.id, fts.id)
		ORDER BY score DESC, %[6]s LIMIT $7`, dims, rrfK, table, scope, cols, tiebreak)
}

// maxQueryBytes bounds the text a search embeds and turns into a tsquery: a
// long e-mail is still a question, and PostgreSQL refuses huge tsqueries.
const maxQueryBytes = 2000

func capQuery(q string) string {
	if len(q) <= maxQueryBytes {
		return q
	}
	cut := maxQueryBytes
	for cut > 0 && !utf8.RuneStart(q[cut]) {
		cut--
	}
	return q[:cut]
}

// SearchHistory is the contact-scoped hybrid search over the whole history:
// pgvector cosine similarity and Portuguese full-text, fused by reciprocal rank.
func (s *Store) SearchHistory(ctx context.Context, accountID, contactID uuid.UUID, query string, k int) ([]Snippet, error) {
	if k <= 0 {
		k = 5
	}
	query = capQuery(query)
	vec, err := s.embedder.EmbedQuery(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("embed history query: %w", err)
	}
	sql := hybridQuery("memory_chunks", "contact_id", len(vec),
		"t.id, t.text, t.first_event_id, t.last_event_id, t.first_at, t.last_at", "t.last_at DESC")
	rows, err := s.pool.Query(ctx, sql, accountID, contactID, s.embedder.Model(), pgvector.NewVector(vec), query, candidates, k)
	if err != nil {
		return nil, fmt.Errorf("search history of %s: %w", contactID, err)
	}
	defer rows.Close()
	out := []Snippet{}
	for rows.Next() {
		var sn Snippet
		if err := rows.Scan(&sn.ChunkID, &sn.Text, &sn.FirstEventID, &sn.LastEventID, &sn.FirstAt, &sn.LastAt,
			&sn.Score, &sn.VectorRank, &sn.TextRank); err != nil {
			return nil, fmt.Errorf("search history of %s: %w", contactID, err)
		}
		out = append(out, sn)
	}
	return out, rows.Err()
}

// KnowledgeHit is an article of a sector's knowledge retrieved for a query.
type KnowledgeHit struct {
	ID     int64   `json:"id"`
	Sector string  `json:"sector"`
	Title  string  `json:"title"`
	Body   string  `json:"body"`
	Source string  `json:"source,omitempty"`
	Score  float64 `json:"score"`
	// TextRank is the hit's rank by full-text match (0: no word in common).
	TextRank int `json:"text_rank,omitempty"`
}

// Knowledge is one article (an FAQ answer, a policy) of a sector.
type Knowledge struct {
	Sector string
	Title  string
	Body   string
	Source string
}

// UpsertKnowledge stores (or replaces, by sector and title) a knowledge article with its embedding.
func (s *Store) UpsertKnowledge(ctx context.Context, accountID uuid.UUID, k Knowledge) (int64, error) {
	if strings.TrimSpace(k.Sector) == "" || strings.TrimSpace(k.Title) == "" || strings.TrimSpace(k.Body) == "" {
		return 0, fmt.Errorf("%w: knowledge needs a sector, a title and a body", ErrInvalidEvent)
	}
	vecs, err := s.embedder.EmbedDocuments(ctx, []string{k.Title + "\n" + k.Body})
	if err != nil {
		return 0, fmt.Errorf("embed knowledge %q: %w", k.Title, err)
	}
	if err := s.ensureVectorIndex(ctx, s.embedder.Model(), len(vecs[0])); err != nil {
		return 0, err
	}
	var id int64
	err = s.pool.QueryRow(ctx, `INSERT INTO knowledge (account_id, sector, title, body, source, embedding, embedding_model)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (account_id, sector, title) DO UPDATE SET body = excluded.body, source = excluded.source,
			embedding = excluded.embedding, embedding_model = excluded.embedding_model
		RETURNING id`, accountID, k.Sector, k.Title, k.Body, k.Source, pgvector.NewVector(vecs[0]), s.embedder.Model()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store knowledge %q: %w", k.Title, err)
	}
	return id, nil
}

// SearchKnowledge is the same hybrid search over one sector's knowledge. The
// vector side may use the HNSW index; iterative scanning keeps the account and
// sector filters from starving it of results.
func (s *Store) SearchKnowledge(ctx context.Context, accountID uuid.UUID, sector, query string, k int) ([]KnowledgeHit, error) {
	if k <= 0 {
		k = 3
	}
	query = capQuery(query)
	vec, err := s.embedder.EmbedQuery(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("embed knowledge query: %w", err)
	}
	sql := hybridQuery("knowledge", "sector", len(vec), "t.id, t.sector, t.title, t.body, t.source", "t.id")
	var hits []KnowledgeHit
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL hnsw.iterative_scan = relaxed_order`); err != nil {
			return fmt.Errorf("enable iterative scan: %w", err)
		}
		rows, err := tx.Query(ctx, sql, accountID, sector, s.embedder.Model(), pgvector.NewVector(vec), query, candidates, k)
		if err != nil {
			return err
		}
		hits, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (KnowledgeHit, error) {
			var h KnowledgeHit
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

// ListKnowledge returns a sector's articles (all sectors when sector is empty), by title.
func (s *Store) ListKnowledge(ctx context.Context, accountID uuid.UUID, sector string) ([]KnowledgeHit, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, sector, title, body, source, 0::float8, 0 FROM knowledge
		WHERE account_id = $1 AND ($2 = '' OR sector = $2) ORDER BY sector, title LIMIT 1000`, accountID, sector)
	if err != nil {
		return nil, fmt.Errorf("list knowledge: %w", err)
	}
	hits, err := pgx.CollectRows(rows, pgx.RowToStructByPos[KnowledgeHit])
	if err != nil {
		return nil, fmt.Errorf("list knowledge: %w", err)
	}
	return hits, nil
}
