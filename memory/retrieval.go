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

// Candidates is how many hits each retriever contributes before fusion.
const Candidates = 40

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

// HybridQuery builds the reciprocal-rank fusion of the vector and full-text
// candidates of table, both restricted to the account ($1), one value of the
// scope column ($2: a contact, a sector) and the query's embedding model ($3).
// $4 is the query vector, $5 its text, $6 the candidates per retriever, $7 k.
// It selects cols of the fused rows (aliased t), then score, vector rank and
// text rank; ties break on tiebreak. Table, scope and cols are constants of
// the calling package, never input. Knowledge search uses it too.
func HybridQuery(table, scope string, dims int, cols, tiebreak string) string {
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

// CapQuery cuts a search text to maxQueryBytes at a character boundary.
func CapQuery(q string) string {
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
	query = CapQuery(query)
	vec, err := s.embedder.EmbedQuery(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("embed history query: %w", err)
	}
	sql := HybridQuery("memory_chunks", "contact_id", len(vec),
		"t.id, t.text, t.first_event_id, t.last_event_id, t.first_at, t.last_at", "t.last_at DESC")
	rows, err := s.pool.Query(ctx, sql, accountID, contactID, s.embedder.Model(), pgvector.NewVector(vec), query, Candidates, k)
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
