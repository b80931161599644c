package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
)

// benchAccountSlug is the account the retrieval benchmark seeds and queries.
const benchAccountSlug = "bench"

// benchDims is the built-in embedder's dimension used by the benchmark.
const benchDims = memory.DefaultHashDims

// benchSeed fills the bench account with synthetic contacts and embedded
// history chunks through COPY, and the same chunks into langchaingo's
// pgvector tables, so both retrieval paths are measured on identical data.
func benchSeed(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("bench-seed", flag.ContinueOnError)
	contacts := fs.Int("contacts", 100_000, "contacts to create")
	perContact := fs.Int("chunks", 10, "history chunks per contact")
	withLangchain := fs.Bool("langchain", true, "also seed langchaingo's pgvector tables")
	reset := fs.Bool("reset", false, "delete an earlier bench seed first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool, acct, err := openBench(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	var existing int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM memory_chunks WHERE account_id = $1`, acct).Scan(&existing); err != nil {
		return fmt.Errorf("count bench chunks: %w", err)
	}
	if existing > 0 && !*reset {
		log.Info("bench data already seeded; use -reset to seed again", "chunks", existing)
		return nil
	}
	if _, err := pool.Exec(ctx, `DELETE FROM contacts WHERE account_id = $1`, acct); err != nil {
		return fmt.Errorf("reset bench contacts: %w", err)
	}
	embedder := memory.NewHashEmbedder(benchDims)
	hnsw, hnswDDL, err := memory.VectorIndex("memory_chunks", embedder.Model(), benchDims)
	if err != nil {
		return err
	}
	// Indexes are rebuilt after the load: maintaining them row by row is far slower.
	if _, err := pool.Exec(ctx, `DROP INDEX IF EXISTS `+pgx.Identifier{hnsw}.Sanitize()+`, memory_chunks_tsv`); err != nil {
		return fmt.Errorf("drop indexes for the load: %w", err)
	}

	start := time.Now()
	ids := make([]uuid.UUID, *contacts)
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
	}
	n, err := pool.CopyFrom(ctx, pgx.Identifier{"contacts"}, []string{"id", "account_id", "display_name", "first_channel"},
		pgx.CopyFromSlice(len(ids), func(i int) ([]any, error) {
			return []any{ids[i], acct, fmt.Sprintf("Cliente %d", i), "whatsapp"}, nil
		}))
	if err != nil {
		return fmt.Errorf("copy contacts: %w", err)
	}
	log.Info("contacts copied", "rows", n, "took", time.Since(start).Round(time.Millisecond).String())

	total := *contacts * *perContact
	start = time.Now()
	n, err = pool.CopyFrom(ctx, pgx.Identifier{"memory_chunks"},
		[]string{"account_id", "contact_id", "first_event_id", "last_event_id", "event_count", "first_at", "last_at", "text", "embedding", "embedding_model"},
		newChunkSource(total, func(i int, text string, vec []float32, at time.Time) []any {
			return []any{acct, ids[i / *perContact], int64(i*6 + 1), int64(i*6 + 6), memory.ChunkWindow, at, at.Add(time.Hour), text,
				pgvector.NewVector(vec), embedder.Model()}
		}, embedder))
	if err != nil {
		return fmt.Errorf("copy chunks: %w", err)
	}
	log.Info("chunks copied", "rows", n, "took", time.Since(start).Round(time.Millisecond).String())

	if *withLangchain {
		if err := seedLangchain(ctx, log, pool, embedder, ids, *perContact); err != nil {
			return err
		}
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection for index build: %w", err)
	}
	defer conn.Release()
	for _, stmt := range []string{`SET maintenance_work_mem = '4GB'`, `SET max_parallel_maintenance_workers = 2`} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	start = time.Now()
	if _, err := conn.Exec(ctx, `CREATE INDEX IF NOT EXISTS memory_chunks_tsv ON memory_chunks USING gin (tsv)`); err != nil {
		return fmt.Errorf("build full-text index: %w", err)
	}
	log.Info("full-text index built", "took", time.Since(start).Round(time.Millisecond).String())
	start = time.Now()
	if _, err := conn.Exec(ctx, hnswDDL); err != nil {
		return fmt.Errorf("build hnsw index: %w", err)
	}
	log.Info("hnsw index built", "took", time.Since(start).Round(time.Millisecond).String())
	if _, err := conn.Exec(ctx, `ANALYZE contacts, memory_chunks`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	fmt.Printf("seeded %d contacts and %d chunks into account %q\n", *contacts, total, benchAccountSlug)
	return nil
}

func openBench(ctx context.Context) (*pgxpool.Pool, uuid.UUID, error) {
	url, err := databaseURL()
	if err != nil {
		return nil, uuid.Nil, err
	}
	if err := database.Migrate(ctx, url); err != nil {
		return nil, uuid.Nil, err
	}
	pool, err := database.Open(ctx, url, 0)
	if err != nil {
		return nil, uuid.Nil, err
	}
	acct, err := accounts.NewStore(pool).Ensure(ctx, benchAccountSlug, "Benchmark")
	if err != nil {
		pool.Close()
		return nil, uuid.Nil, err
	}
	return pool, acct.ID, nil
}

// chunkSource feeds COPY with synthetic chunks embedded in background workers.
type chunkSource struct {
	rows chan []any
	cur  []any
}

func newChunkSource(total int, row func(i int, text string, vec []float32, at time.Time) []any, embedder *memory.HashEmbedder) *chunkSource {
	s := &chunkSource{rows: make(chan []any, 4096)}
	const workers = 2
	out := make([]chan []any, workers)
	for w := range workers {
		out[w] = make(chan []any, 2048)
		go func(w int) {
			defer close(out[w])
			for i := w; i < total; i += workers {
				text, at := syntheticChunk(uint64(i))
				out[w] <- row(i, text, embedder.Embed(text), at)
			}
		}(w)
	}
	go func() {
		defer close(s.rows)
		for i := 0; i < total; i++ {
			s.rows <- <-out[i%workers]
		}
	}()
	return s
}

func (s *chunkSource) Next() bool {
	r, ok := <-s.rows
	s.cur = r
	return ok
}

func (s *chunkSource) Values() ([]any, error) { return s.cur, nil }

func (s *chunkSource) Err() error { return nil }

var (
	benchProducts = []string{"cafeteira", "geladeira", "tênis de corrida", "notebook", "fone bluetooth", "cadeira gamer",
		"air fryer", "smart TV", "colchão", "bicicleta", "mochila", "celular", "ventilador", "liquidificador", "relógio"}
	benchCities   = []string{"São Paulo", "Campinas", "Belo Horizonte", "Curitiba", "Salvador", "Recife", "Porto Alegre", "Fortaleza"}
	benchCustomer = []string{
		"oi, quero saber do meu pedido %[1]d da %[2]s",
		"o pedido %[1]d ainda não chegou em %[3]s",
		"a %[2]s chegou com defeito, o que eu faço?",
		"vocês entregam %[2]s em %[3]s? quanto fica o frete?",
		"consigo pagar a %[2]s no pix com desconto?",
		"preciso da segunda via do boleto do pedido %[1]d",
		"quero cancelar a compra da %[2]s",
		"qual a garantia da %[2]s?",
		"o rastreio do pedido %[1]d não atualiza faz 3 dias",
		"a nota fiscal do pedido %[1]d não veio no email",
		"posso trocar a %[2]s por outra cor?",
		"fui cobrado duas vezes no cartão pela %[2]s",
	}
	benchAgent = []string{
		"Claro! Vou verificar o pedido %[1]d para você.",
		"O prazo para %[3]s é de 3 a 5 dias úteis.",
		"A %[2]s tem 12 meses de garantia.",
		"Enviei a segunda via para o seu e-mail.",
		"Sinto muito pelo transtorno, vamos resolver.",
		"No pix a %[2]s sai com 5%% de desconto.",
	}
)

// syntheticChunk renders chunk i as six lines of a plausible conversation.
func syntheticChunk(i uint64) (string, time.Time) {
	rng := rand.New(rand.NewPCG(i, 0x5eed))
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(600*24)) * time.Hour)
	order := 10000 + rng.IntN(90000)
	product := benchProducts[rng.IntN(len(benchProducts))]
	city := benchCities[rng.IntN(len(benchCities))]
	channel := []string{"whatsapp", "instagram", "email", "webchat", "telegram"}[rng.IntN(5)]
	var b strings.Builder
	for line := range memory.ChunkWindow {
		who, pool := "cliente", benchCustomer
		if line%2 == 1 {
			who, pool = "IA", benchAgent
		}
		fmt.Fprintf(&b, "[%s %s] %s: %s\n", at.Add(time.Duration(line)*time.Minute).Format("2006-01-02 15:04"), channel, who,
			fmt.Sprintf(pool[rng.IntN(len(pool))], order, product, city))
	}
	return strings.TrimRight(b.String(), "\n"), at
}

// benchQuery is a customer's question like those the chunks hold.
func benchQuery(i uint64) string {
	rng := rand.New(rand.NewPCG(i, 0x9e77))
	return fmt.Sprintf(benchCustomer[rng.IntN(len(benchCustomer))], 10000+rng.IntN(90000),
		benchProducts[rng.IntN(len(benchProducts))], benchCities[rng.IntN(len(benchCities))])
}

// latencies summarises one side of the benchmark.
type latencies []time.Duration

func (l latencies) percentile(p float64) time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func (l latencies) mean() time.Duration {
	var sum time.Duration
	for _, d := range l {
		sum += d
	}
	return sum / time.Duration(len(l))
}

// benchRetrieval times contact-scoped retrieval on the seeded data: Atende's
// hybrid search, and langchaingo's pgvector store with a contact filter.
func benchRetrieval(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("bench-retrieval", flag.ContinueOnError)
	queries := fs.Int("queries", 500, "queries through Atende's retrieval")
	lcQueries := fs.Int("langchain-queries", 30, "queries through langchaingo's pgvector store (each scans the table)")
	k := fs.Int("k", 5, "results per query")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool, acct, err := openBench(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	var chunks, contacts int64
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT contact_id) FROM memory_chunks WHERE account_id = $1`, acct).Scan(&chunks, &contacts); err != nil {
		return fmt.Errorf("count bench data: %w", err)
	}
	if chunks == 0 {
		return errors.New("no bench data: run `atende bench-seed` first")
	}
	rows, err := pool.Query(ctx, `SELECT id FROM contacts WHERE account_id = $1 ORDER BY md5(id::text) LIMIT $2`, acct, max(*queries, *lcQueries))
	if err != nil {
		return fmt.Errorf("sample contacts: %w", err)
	}
	sample, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return fmt.Errorf("sample contacts: %w", err)
	}
	embedder := memory.NewHashEmbedder(benchDims)
	store := memory.NewStore(pool, nil, embedder, log)

	ours := make(latencies, 0, *queries)
	for i := 0; i < *queries+20; i++ {
		start := time.Now()
		if _, err := store.SearchHistory(ctx, acct, sample[i%len(sample)], benchQuery(uint64(i)), *k); err != nil {
			return err
		}
		if i >= 20 { // the first 20 warm the caches
			ours = append(ours, time.Since(start))
		}
	}
	fmt.Printf("data: %d chunks over %d contacts, %d dimensions (%s)\n\n", chunks, contacts, benchDims, embedder.Model())
	fmt.Printf("%-46s %8s %10s %10s %10s %10s\n", "contact-scoped retrieval, top "+fmt.Sprint(*k), "queries", "p50", "p90", "p99", "mean")
	report := func(name string, l latencies) {
		fmt.Printf("%-46s %8d %10s %10s %10s %10s\n", name, len(l), l.percentile(0.5).Round(time.Microsecond),
			l.percentile(0.9).Round(time.Microsecond), l.percentile(0.99).Round(time.Microsecond), l.mean().Round(time.Microsecond))
	}
	report("atende hybrid (pgvector + full-text, RRF)", ours)
	if *lcQueries == 0 {
		return nil
	}
	theirs, err := langchainLatencies(ctx, pool, embedder, sample, *lcQueries, *k)
	if err != nil {
		return err
	}
	report("langchaingo vectorstores/pgvector (vector)", theirs)
	fmt.Printf("\nratio langchaingo/atende: p50 %.0fx, p99 %.0fx\n",
		float64(theirs.percentile(0.5))/float64(ours.percentile(0.5)), float64(theirs.percentile(0.99))/float64(ours.percentile(0.99)))
	return nil
}
