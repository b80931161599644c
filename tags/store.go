package tags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/conversations"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/webhooks"
)

// Events records a webhook event in the caller's transaction
// (*webhooks.Store does).
type Events interface {
	Emit(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, event string, data any) error
}

// Store reads tags from the pool; its writes take the caller's transaction
// (the ...Tx methods), or open one of their own.
type Store struct {
	pool          *pgxpool.Pool
	memory        *memory.Store
	conversations *conversations.Store
	events        Events
}

// NewStore wires tags to the database, the timeline they are written on and
// the webhooks they emit (events may be nil: no webhooks).
func NewStore(pool *pgxpool.Pool, mem *memory.Store, events Events) *Store {
	return &Store{pool: pool, memory: mem, conversations: conversations.NewStore(pool), events: events}
}

// Change is what a write did: the tag, and whether anything changed (adding
// a tag that is there, or removing one that is not, changes nothing).
type Change struct {
	Tag     Tag  `json:"tag"`
	Changed bool `json:"changed"`
}

// Add puts a tag on the subject in a transaction of its own; see AddTx.
func (s *Store) Add(ctx context.Context, accountID uuid.UUID, subj Subject, raw string, by Actor) (Change, error) {
	var out Change
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.AddTx(ctx, tx, accountID, subj, raw, by)
		return err
	})
	return out, err
}

// AddTx puts a tag on the subject: the account's tag is created if it is new
// (keeping the display form it was first written in), and the link, the
// timeline event and the tag.added webhook are written once — a second add
// of the same tag, however cased, changes nothing.
func (s *Store) AddTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, subj Subject, raw string, by Actor) (Change, error) {
	name, key, err := Normalize(raw)
	if err != nil {
		return Change{}, err
	}
	owner, err := s.resolve(ctx, tx, accountID, subj, true)
	if err != nil {
		return Change{}, err
	}
	return s.add(ctx, tx, accountID, subj, owner, name, key, by)
}

// Remove takes a tag off the subject in a transaction of its own; see RemoveTx.
func (s *Store) Remove(ctx context.Context, accountID uuid.UUID, subj Subject, raw string, by Actor) (Change, error) {
	var out Change
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.RemoveTx(ctx, tx, accountID, subj, raw, by)
		return err
	})
	return out, err
}

// RemoveTx takes a tag off the subject, with its timeline event and the
// tag.removed webhook; a tag the subject does not carry changes nothing.
// The account's tag stays (GET /api/v1/tags counts it at zero).
func (s *Store) RemoveTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, subj Subject, raw string, by Actor) (Change, error) {
	_, key, err := Normalize(raw)
	if err != nil {
		return Change{}, err
	}
	owner, err := s.resolve(ctx, tx, accountID, subj, false)
	if err != nil {
		return Change{}, err
	}
	return s.remove(ctx, tx, accountID, subj, owner, key, by)
}

// SetResult is the subject's tags after a replace, and what changed.
type SetResult struct {
	Tags    []Tag    `json:"tags"`
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
}

// Set replaces the subject's tags in a transaction of its own; see SetTx.
func (s *Store) Set(ctx context.Context, accountID uuid.UUID, subj Subject, raws []string, by Actor) (SetResult, error) {
	var out SetResult
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.SetTx(ctx, tx, accountID, subj, raws, by)
		return err
	})
	return out, err
}

// SetTx makes the subject's tags exactly these (duplicates by key count
// once): each removal and each addition is its own event and webhook, and
// what is already there is left alone. Nothing is written if any tag is
// invalid.
func (s *Store) SetTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, subj Subject, raws []string, by Actor) (SetResult, error) {
	type wanted struct{ name, key string }
	var want []wanted
	seen := map[string]bool{}
	for i, raw := range raws {
		name, key, err := Normalize(raw)
		if err != nil {
			return SetResult{}, fmt.Errorf("tags[%d]: %w", i, err)
		}
		if !seen[key] {
			seen[key] = true
			want = append(want, wanted{name, key})
		}
	}
	if len(want) > MaxPerSubject {
		return SetResult{}, fmt.Errorf("%d tags: %w", len(want), ErrTooMany)
	}
	owner, err := s.resolve(ctx, tx, accountID, subj, true)
	if err != nil {
		return SetResult{}, err
	}
	current, err := list(ctx, tx, accountID, subj)
	if err != nil {
		return SetResult{}, err
	}
	out := SetResult{Added: []string{}, Removed: []string{}}
	have := map[string]bool{}
	for _, t := range current {
		have[t.Key] = true
		if seen[t.Key] {
			continue
		}
		ch, err := s.remove(ctx, tx, accountID, subj, owner, t.Key, by)
		if err != nil {
			return SetResult{}, err
		}
		if ch.Changed {
			out.Removed = append(out.Removed, ch.Tag.Name)
		}
	}
	for _, w := range want {
		if have[w.key] {
			continue
		}
		ch, err := s.add(ctx, tx, accountID, subj, owner, w.name, w.key, by)
		if err != nil {
			return SetResult{}, err
		}
		if ch.Changed {
			out.Added = append(out.Added, ch.Tag.Name)
		}
	}
	out.Tags, err = list(ctx, tx, accountID, subj)
	return out, err
}

// List is the subject's tags, by key; a subject of another account is not found.
func (s *Store) List(ctx context.Context, accountID uuid.UUID, subj Subject) ([]Tag, error) {
	var out []Tag
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := s.resolve(ctx, tx, accountID, subj, false); err != nil {
			return err
		}
		var err error
		out, err = list(ctx, tx, accountID, subj)
		return err
	})
	return out, err
}

// OfContacts is the tags of each of these contacts (for a list of cards:
// one query).
func (s *Store) OfContacts(ctx context.Context, accountID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID][]Tag, error) {
	return s.of(ctx, accountID, Contact(uuid.Nil), ids)
}

// OfConversations is the tags of each of these conversations.
func (s *Store) OfConversations(ctx context.Context, accountID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID][]Tag, error) {
	return s.of(ctx, accountID, Conversation(uuid.Nil), ids)
}

func (s *Store) of(ctx context.Context, accountID uuid.UUID, kind Subject, ids []uuid.UUID) (map[uuid.UUID][]Tag, error) {
	out := map[uuid.UUID][]Tag{}
	if len(ids) == 0 {
		return out, nil
	}
	table, column := kind.table()
	rows, err := s.pool.Query(ctx, `SELECT l.`+column+`, t.name, t.key, l.added_by, l.created_at FROM `+table+` l
		JOIN tags t ON t.account_id = l.account_id AND t.id = l.tag_id
		WHERE l.account_id = $1 AND l.`+column+` = ANY($2) ORDER BY t.key`, accountID, ids)
	if err != nil {
		return nil, fmt.Errorf("read tags of %d %ss: %w", len(ids), kind.noun(), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var t Tag
		if err := rows.Scan(&id, &t.Name, &t.Key, &t.AddedBy, &t.AddedAt); err != nil {
			return nil, fmt.Errorf("read tags: %w", err)
		}
		out[id] = append(out[id], t)
	}
	return out, rows.Err()
}

// Catalog is the account's tags, by key, with how many contacts and
// conversations carry each (a tag nobody carries any more counts zero).
func (s *Store) Catalog(ctx context.Context, accountID uuid.UUID) ([]Counted, error) {
	rows, err := s.pool.Query(ctx, `SELECT t.name, t.key, t.created_at,
		(SELECT count(*) FROM contact_tags c WHERE c.account_id = t.account_id AND c.tag_id = t.id),
		(SELECT count(*) FROM conversation_tags v WHERE v.account_id = t.account_id AND v.tag_id = t.id)
		FROM tags t WHERE t.account_id = $1 ORDER BY t.key`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Counted, error) {
		var c Counted
		return c, r.Scan(&c.Name, &c.Key, &c.CreatedAt, &c.Contacts, &c.Conversations)
	})
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	return out, nil
}

// MatchSQL is the condition "the contact or the conversation carries the
// tag whose key is key", for another package's list query to filter by (the
// handoff queue) without writing this package's SQL: account, contact and
// conversation are that query's column expressions, key its parameter
// ("$8"). Callers pass constants, never input.
func MatchSQL(account, contact, conversation, key string) string {
	return `(EXISTS (SELECT 1 FROM contact_tags tl JOIN tags tt ON tt.account_id = tl.account_id AND tt.id = tl.tag_id
		WHERE tl.account_id = ` + account + ` AND tl.contact_id = ` + contact + ` AND tt.key = ` + key + `)
		OR EXISTS (SELECT 1 FROM conversation_tags tl JOIN tags tt ON tt.account_id = tl.account_id AND tt.id = tl.tag_id
		WHERE tl.account_id = ` + account + ` AND tl.conversation_id = ` + conversation + ` AND tt.key = ` + key + `))`
}

func (s Subject) noun() string {
	if s.conversation {
		return "conversation"
	}
	return "contact"
}

// owner is whose timeline a subject's tag events go on.
type owner struct {
	contactID      uuid.UUID
	conversationID *uuid.UUID
}

// resolve finds the subject in the account. A contact merged into another
// takes no new tags (they belong on the survivor): a conflict.
func (s *Store) resolve(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, subj Subject, writing bool) (owner, error) {
	if subj.conversation {
		c, err := s.conversations.GetTx(ctx, tx, accountID, subj.ID)
		if err != nil {
			return owner{}, err
		}
		return owner{contactID: c.ContactID, conversationID: &c.ID}, nil
	}
	c, err := s.memory.ContactTx(ctx, tx, accountID, subj.ID)
	if err != nil {
		return owner{}, err
	}
	if writing && c.MergedInto != nil {
		return owner{}, fmt.Errorf("contact %s was merged into %s: tag that one: %w", c.ID, c.MergedInto, memory.ErrConflict)
	}
	return owner{contactID: c.ID}, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func list(ctx context.Context, q querier, accountID uuid.UUID, subj Subject) ([]Tag, error) {
	table, column := subj.table()
	rows, err := q.Query(ctx, `SELECT t.name, t.key, l.added_by, l.created_at FROM `+table+` l
		JOIN tags t ON t.account_id = l.account_id AND t.id = l.tag_id
		WHERE l.account_id = $1 AND l.`+column+` = $2 ORDER BY t.key`, accountID, subj.ID)
	if err != nil {
		return nil, fmt.Errorf("read tags of %s %s: %w", subj.noun(), subj.ID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Tag, error) {
		var t Tag
		return t, r.Scan(&t.Name, &t.Key, &t.AddedBy, &t.AddedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("read tags of %s %s: %w", subj.noun(), subj.ID, err)
	}
	return out, nil
}

func (s *Store) add(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, subj Subject, o owner, name, key string, by Actor) (Change, error) {
	var tagID int64
	t := Tag{Key: key, AddedBy: by.Name}
	// DO UPDATE (a no-op) rather than DO NOTHING, so the row another
	// transaction just created is returned too.
	if err := tx.QueryRow(ctx, `INSERT INTO tags (account_id, key, name) VALUES ($1, $2, $3)
		ON CONFLICT (account_id, key) DO UPDATE SET name = tags.name RETURNING id, name`, accountID, key, name).Scan(&tagID, &t.Name); err != nil {
		return Change{}, fmt.Errorf("create tag %q: %w", name, err)
	}
	table, column := subj.table()
	// one writer of a subject's tags at a time, so two adds of different
	// tags at once cannot both pass the limit
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 12))`, subj.noun()+"/"+subj.ID.String()); err != nil {
		return Change{}, fmt.Errorf("lock the tags of %s %s: %w", subj.noun(), subj.ID, err)
	}
	err := tx.QueryRow(ctx, `INSERT INTO `+table+` (account_id, `+column+`, tag_id, added_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING RETURNING created_at`, accountID, subj.ID, tagID, by.Name).Scan(&t.AddedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Change{Tag: t}, nil // there already: a retry, nothing to say
	}
	if err != nil {
		return Change{}, fmt.Errorf("tag %s %s: %w", subj.noun(), subj.ID, err)
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE account_id = $1 AND `+column+` = $2`, accountID, subj.ID).Scan(&n); err != nil {
		return Change{}, fmt.Errorf("count tags of %s %s: %w", subj.noun(), subj.ID, err)
	}
	if n > MaxPerSubject {
		return Change{}, fmt.Errorf("%s %s: %w", subj.noun(), subj.ID, ErrTooMany)
	}
	if err := s.record(ctx, tx, accountID, subj, o, t, true, by); err != nil {
		return Change{}, err
	}
	return Change{Tag: t, Changed: true}, nil
}

func (s *Store) remove(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, subj Subject, o owner, key string, by Actor) (Change, error) {
	table, column := subj.table()
	t := Tag{Key: key}
	err := tx.QueryRow(ctx, `DELETE FROM `+table+` l USING tags t
		WHERE l.account_id = $1 AND l.`+column+` = $2 AND t.account_id = l.account_id AND t.id = l.tag_id AND t.key = $3
		RETURNING t.name`, accountID, subj.ID, key).Scan(&t.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return Change{Tag: t}, nil
	}
	if err != nil {
		return Change{}, fmt.Errorf("untag %s %s: %w", subj.noun(), subj.ID, err)
	}
	if err := s.record(ctx, tx, accountID, subj, o, t, false, by); err != nil {
		return Change{}, err
	}
	return Change{Tag: t, Changed: true}, nil
}

// record writes the change on the contact's timeline and emits its webhook.
func (s *Store) record(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, subj Subject, o owner, t Tag, added bool, by Actor) error {
	action, event, text := "added", webhooks.TagAdded, "tag adicionada"
	if !added {
		action, event, text = "removed", webhooks.TagRemoved, "tag removida"
	}
	if subj.conversation {
		text += map[bool]string{true: " à conversa", false: " da conversa"}[added]
	}
	payload, err := json.Marshal(map[string]any{"action": action, "tag": t.Name, "key": t.Key, "by": by.Name, "conversation_id": o.conversationID})
	if err != nil {
		return fmt.Errorf("encode tag event: %w", err)
	}
	if _, err := s.memory.AppendTx(ctx, tx, accountID, memory.Event{ContactID: o.contactID, ConversationID: o.conversationID, Kind: memory.EventTag,
		Direction: memory.DirectionInternal, Author: by.Author, Text: text + ": " + t.Name + " (" + by.phrase() + ")", Payload: payload}); err != nil {
		return err
	}
	if s.events == nil {
		return nil
	}
	data := map[string]any{"contact_id": o.contactID, "tag": t.Name, "by": by.Name}
	if o.conversationID != nil {
		data["conversation_id"] = *o.conversationID
	}
	return s.events.Emit(ctx, tx, accountID, event, data)
}
