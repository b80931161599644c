package agents

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/agents/offline"
	"github.com/atende/atende/prompts"
)

// Routers fits one offline router per account — on the built-in examples
// mapped to the account's sectors plus the sectors' own examples, or on the
// example set of the account's active trained version — and caches it by
// that set (training is deterministic: the set is the model).
type Routers struct {
	pool    *pgxpool.Pool
	builtin []offline.LabelledMessage
	opts    offline.TrainOptions

	mu       sync.Mutex
	cache    map[string]*fitted
	bases    map[string]baseSet
	training chan struct{} // a slot per router being trained
}

// maxCachedRouters bounds the cache; past it the cache starts over.
const maxCachedRouters = 256

// NewRouters loads the built-in examples of prompts/.
func NewRouters(pool *pgxpool.Pool) (*Routers, error) {
	builtin, err := BuiltinExamples()
	if err != nil {
		return nil, err
	}
	return &Routers{pool: pool, builtin: builtin, cache: map[string]*fitted{}, bases: map[string]baseSet{},
		training: make(chan struct{}, maxTraining)}, nil
}

// BuiltinExamples is what the router ships trained on: the hand-written
// examples of prompts/classifier and the sentences the corpus templates
// there generate. Every id starts "builtin-": trained on, never scored.
func BuiltinExamples() ([]offline.LabelledMessage, error) {
	examples, err := prompts.SectorExamples()
	if err != nil {
		return nil, err
	}
	out := make([]offline.LabelledMessage, 0, len(examples))
	for i, e := range examples {
		out = append(out, offline.LabelledMessage{ID: fmt.Sprintf("%s%d", builtinPrefix, i), Text: e.Text, Sector: e.Sector, WantsHuman: e.WantsHuman})
	}
	files, err := prompts.CorpusFiles()
	if err != nil {
		return nil, err
	}
	corpus, err := offline.ParseCorpus(files)
	if err != nil {
		return nil, fmt.Errorf("built-in corpus: %w", err)
	}
	for _, m := range corpus.Generate() {
		m.ID = builtinPrefix + m.ID
		out = append(out, m)
	}
	return out, nil
}

// BaseSet is the training set without corrections: built-in examples of each
// built-in sector relabelled to the account's sector that is like it (and
// dropped when none is), the no-topic examples, and the sectors' examples.
func (r *Routers) BaseSet(sectors []Sector) []offline.LabelledMessage {
	like := map[string]string{}
	for _, s := range sectors {
		if s.Like != "" && like[s.Like] == "" {
			like[s.Like] = s.Name
		}
	}
	var out []offline.LabelledMessage
	for _, e := range r.builtin {
		if offline.HasTopic(e.Sector) {
			to, ok := like[e.Sector]
			if !ok {
				continue
			}
			e.Sector = to
		}
		out = append(out, e)
	}
	// A business's own sector comes with a handful of examples against
	// thousands built in: each is repeated until the sector weighs a third
	// of an average built-in one, so "jurídico" with three examples is
	// still picked for what they say.
	perSector := 0
	if n := len(like); n > 0 {
		topical := 0
		for _, e := range out {
			if offline.HasTopic(e.Sector) {
				topical++
			}
		}
		perSector = topical / n
	}
	for _, s := range sectors {
		repeat := 1
		if n := len(s.Examples); n > 0 {
			repeat = min(maxExampleRepeat, max(1, perSector/3/n))
		}
		for i, text := range s.Examples {
			for k := range repeat {
				out = append(out, offline.LabelledMessage{ID: fmt.Sprintf("%s-%d%s", s.Name, i, repeatSuffix(k)), Text: text, Sector: s.Name})
			}
		}
	}
	return out
}

// maxExampleRepeat bounds how often one sector example is repeated.
const maxExampleRepeat = 60

// builtinPrefix starts the id of every built-in example: trained on, never
// scored as the account's own.
const builtinPrefix = "builtin-"

// repeatMark separates a sector example's id from its repeat's number.
const repeatMark = "~r"

func repeatSuffix(k int) string { return fmt.Sprintf("%s%d", repeatMark, k) }

// Corrections are the account's routing examples from people: conversations
// a human moved to another sector.
func (r *Routers) Corrections(ctx context.Context, accountID uuid.UUID) ([]offline.LabelledMessage, error) {
	rows, err := r.pool.Query(ctx, `SELECT id, text, sector, wants_human FROM routing_examples WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("load corrections of %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []offline.LabelledMessage
	for rows.Next() {
		var id int64
		var m offline.LabelledMessage
		if err := rows.Scan(&id, &m.Text, &m.Sector, &m.WantsHuman); err != nil {
			return nil, fmt.Errorf("load corrections of %s: %w", accountID, err)
		}
		m.ID = fmt.Sprintf("correction-%d", id)
		out = append(out, m)
	}
	return out, rows.Err()
}

// For returns the router that routes the account's turns and its version.
// A turn reads only the active version's name; its examples are read once,
// when that version is first trained in this process.
func (r *Routers) For(ctx context.Context, accountID uuid.UUID, sectors []Sector) (*offline.Router, string, error) {
	var version string
	err := r.pool.QueryRow(ctx, `SELECT version FROM router_versions WHERE account_id = $1 AND active`, accountID).Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		set, version := r.base(sectors)
		router, err := r.fit(version, func() ([]offline.LabelledMessage, error) { return set, nil })
		return router, version, err
	case err != nil:
		return nil, "", fmt.Errorf("load router of %s: %w", accountID, err)
	}
	router, err := r.fit(version, func() ([]offline.LabelledMessage, error) {
		var raw []byte
		if err := r.pool.QueryRow(ctx, `SELECT examples FROM router_versions WHERE account_id = $1 AND version = $2`, accountID, version).Scan(&raw); err != nil {
			return nil, fmt.Errorf("load router %s of %s: %w", version, accountID, err)
		}
		var set []offline.LabelledMessage
		if err := json.Unmarshal(raw, &set); err != nil {
			return nil, fmt.Errorf("router %s of %s does not decode: %w", version, accountID, err)
		}
		return set, nil
	})
	return router, version, err
}

// Warm trains, in the background, the router every account with the default
// sectors shares, so the first customers after a start are not the ones
// who wait for it (a second or two on the built-in corpus); a turn that
// needs it meanwhile waits for that one training, not for a second.
func (r *Routers) Warm() {
	var sectors []Sector
	for _, sec := range DefaultSectors() {
		sectors = append(sectors, sec.withDefaults())
	}
	set, version := r.base(sectors)
	go func() { _, _ = r.fit(version, func() ([]offline.LabelledMessage, error) { return set, nil }) }()
}

// base is the base set of sectors and its version, remembered by the
// sectors' definition: the set is thousands of sentences, and hashing it on
// every turn would cost more than the turn.
func (r *Routers) base(sectors []Sector) ([]offline.LabelledMessage, string) {
	key, _ := json.Marshal(sectors)
	sum := sha256.Sum256(key)
	k := string(sum[:])
	r.mu.Lock()
	b, ok := r.bases[k]
	r.mu.Unlock()
	if ok {
		return b.set, b.version
	}
	set := r.BaseSet(sectors)
	b = baseSet{set: set, version: routerVersion(set)}
	r.mu.Lock()
	if len(r.bases) >= maxCachedRouters {
		r.bases = map[string]baseSet{}
	}
	r.bases[k] = b
	r.mu.Unlock()
	return b.set, b.version
}

// baseSet is a base set and its version.
type baseSet struct {
	set     []offline.LabelledMessage
	version string
}

// fit returns the cached router of version or trains it. Training takes a
// second or more on the built-in corpus, so the lock is not held while it
// runs: turns of other accounts route on; turns of the same version wait
// for the one training; at most maxTraining versions train at once (each
// holds its examples' features, tens of megabytes). A set that cannot be
// loaded is an error, and is tried again on the next turn.
func (r *Routers) fit(version string, set func() ([]offline.LabelledMessage, error)) (*offline.Router, error) {
	r.mu.Lock()
	e, ok := r.cache[version]
	if !ok {
		if len(r.cache) >= maxCachedRouters {
			r.cache = map[string]*fitted{}
		}
		e = &fitted{}
		r.cache[version] = e
	}
	r.mu.Unlock()
	e.once.Do(func() {
		rows, err := set()
		if err != nil {
			e.err = err
			return
		}
		r.training <- struct{}{}
		defer func() { <-r.training }()
		e.router = offline.TrainRouter(rows, r.opts)
	})
	if e.err != nil {
		r.mu.Lock()
		if r.cache[version] == e {
			delete(r.cache, version)
		}
		r.mu.Unlock()
		return nil, e.err
	}
	return e.router, nil
}

// maxTraining is how many router versions train at once.
const maxTraining = 2

// fitted is one router version, trained once.
type fitted struct {
	once   sync.Once
	router *offline.Router
	err    error
}

// routerVersion names an example set: "router@" and a hash of its lines.
func routerVersion(set []offline.LabelledMessage) string {
	h := sha256.New()
	for _, m := range set {
		fmt.Fprintf(h, "%s\x00%s\x00%t\n", m.Text, m.Sector, m.WantsHuman)
	}
	return "router@" + hex.EncodeToString(h.Sum(nil)[:6])
}

// Trained is a router version `atende train` produced.
type Trained struct {
	Version  string         `json:"version"`
	Examples int            `json:"examples"`
	Own      int            `json:"own_examples"`
	Report   offline.Report `json:"report"`
	Created  bool           `json:"created"`
}

// Train fits the account's router on the base set plus the corrections,
// scores it by cross-validation on the account's own examples (sector
// examples and corrections; the built-in ones are trained on, never scored),
// stores the set as a router version and activates it.
func (r *Routers) Train(ctx context.Context, accountID uuid.UUID, sectors []Sector, folds int) (Trained, error) {
	base := r.BaseSet(sectors)
	corrections, err := r.Corrections(ctx, accountID)
	if err != nil {
		return Trained{}, err
	}
	set := append(append([]offline.LabelledMessage(nil), base...), corrections...)
	var own, always []offline.LabelledMessage
	for _, m := range set {
		switch {
		case strings.HasPrefix(m.ID, builtinPrefix):
			always = append(always, m)
		case !strings.HasSuffix(m.ID, repeatSuffix(0)) && strings.Contains(m.ID, repeatMark):
			// a sector example's repeats are scored once (the first), and
			// never train the fold that scores it
		default:
			own = append(own, m)
		}
	}
	t := Trained{Version: routerVersion(set), Examples: len(set), Own: len(own)}
	if len(own) >= folds*2 {
		t.Report = offline.CrossValidate(own, folds, r.opts, always)
	}
	examples, _ := json.Marshal(set)
	report, _ := json.Marshal(t.Report)
	err = pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO router_versions (account_id, version, examples, report) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, accountID, t.Version, examples, report)
		if err != nil {
			return err
		}
		t.Created = tag.RowsAffected() == 1
		if _, err := tx.Exec(ctx, `UPDATE router_versions SET active = false WHERE account_id = $1 AND active`, accountID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE router_versions SET active = true WHERE account_id = $1 AND version = $2`, accountID, t.Version)
		return err
	})
	if err != nil {
		return Trained{}, fmt.Errorf("store router of %s: %w", accountID, err)
	}
	return t, nil
}

// RecordCorrection keeps a person's routing decision as an example: the
// customer's text belongs to sector. The same message corrected to the same
// sector twice is one example.
func (r *Routers) RecordCorrection(ctx context.Context, accountID uuid.UUID, eventID *int64, text, sector, by string) error {
	if text == "" {
		return nil
	}
	_, err := r.pool.Exec(ctx, `INSERT INTO routing_examples (account_id, text, sector, source, event_id, created_by)
		VALUES ($1, $2, $3, 'correction', $4, $5) ON CONFLICT DO NOTHING`, accountID, text, sector, eventID, by)
	if err != nil {
		return fmt.Errorf("record correction to %s: %w", sector, err)
	}
	return nil
}
