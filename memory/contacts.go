package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// FirstContact records how a person first reached the business.
type FirstContact struct {
	At      time.Time `json:"at"`
	Channel string    `json:"channel"`
	Origin  string    `json:"origin"`
}

// Contact is one person, whatever channels they write from.
type Contact struct {
	ID           uuid.UUID    `json:"id"`
	DisplayName  string       `json:"name"`
	Fields       Fields       `json:"fields"`
	Identities   []Identity   `json:"identities"`
	FirstContact FirstContact `json:"first_contact"`
	Stage        string       `json:"stage"`
	MergedInto   *uuid.UUID   `json:"merged_into"`
	CreatedAt    time.Time    `json:"created_at"`
	UpdatedAt    time.Time    `json:"updated_at"`

	fieldTimes map[string]time.Time
}

// Profile is what a channel tells about a sender besides their id. The name is
// a weak signal: it names a new contact but never merges two.
type Profile struct {
	Name    string
	Channel string
	Origin  string
}

// querier is what both the pool and a transaction offer; reads take it so they
// work inside and outside a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

const contactColumns = `id, display_name, fields, field_times, first_contact_at, first_channel, first_origin,
	merged_into, created_at, updated_at`

func scanContact(row pgx.Row) (Contact, error) {
	var c Contact
	var fields, times []byte
	err := row.Scan(&c.ID, &c.DisplayName, &fields, &times, &c.FirstContact.At, &c.FirstContact.Channel,
		&c.FirstContact.Origin, &c.MergedInto, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(fields, &c.Fields); err != nil {
		return c, fmt.Errorf("decode fields of %s: %w", c.ID, err)
	}
	if err := json.Unmarshal(times, &c.fieldTimes); err != nil {
		return c, fmt.Errorf("decode field times of %s: %w", c.ID, err)
	}
	c.Stage = c.Fields.Stage
	c.Identities = []Identity{}
	return c, nil
}

func (s *Store) contactRow(ctx context.Context, q querier, accountID, id uuid.UUID) (Contact, error) {
	c, err := scanContact(q.QueryRow(ctx, `SELECT `+contactColumns+` FROM contacts WHERE account_id = $1 AND id = $2`, accountID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, notFound("contact", id)
	}
	if err != nil {
		return c, fmt.Errorf("read contact %s: %w", id, err)
	}
	return c, nil
}

func (s *Store) lockContact(ctx context.Context, tx pgx.Tx, accountID, id uuid.UUID) (Contact, error) {
	c, err := scanContact(tx.QueryRow(ctx, `SELECT `+contactColumns+` FROM contacts WHERE account_id = $1 AND id = $2 FOR UPDATE`, accountID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, notFound("contact", id)
	}
	if err != nil {
		return c, fmt.Errorf("lock contact %s: %w", id, err)
	}
	return c, nil
}

func (s *Store) loadContact(ctx context.Context, q querier, accountID, id uuid.UUID) (Contact, error) {
	c, err := s.contactRow(ctx, q, accountID, id)
	if err != nil {
		return c, err
	}
	rows, err := q.Query(ctx, `SELECT kind, value FROM contact_identities WHERE account_id = $1 AND contact_id = $2
		ORDER BY created_at, kind, value`, accountID, id)
	if err != nil {
		return c, fmt.Errorf("read identities of %s: %w", id, err)
	}
	c.Identities, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Identity])
	if err != nil {
		return c, fmt.Errorf("read identities of %s: %w", id, err)
	}
	return c, nil
}

// Contact returns a contact with its identities. A contact merged into another
// is still returned, with MergedInto set, so old links keep working.
func (s *Store) Contact(ctx context.Context, accountID, id uuid.UUID) (Contact, error) {
	return s.loadContact(ctx, s.pool, accountID, id)
}

// Contact reads a contact inside the transaction.
func (t *txn) Contact(ctx context.Context, accountID, id uuid.UUID) (Contact, error) {
	return t.s.loadContact(ctx, t.tx, accountID, id)
}

func (s *Store) ownerOf(ctx context.Context, q querier, accountID uuid.UUID, id Identity) (uuid.UUID, bool, error) {
	var owner uuid.UUID
	err := q.QueryRow(ctx, `SELECT contact_id FROM contact_identities WHERE account_id = $1 AND kind = $2 AND value = $3`,
		accountID, id.Kind, id.Value).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, false, nil
	}
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("find owner of %s: %w", id.Kind, err)
	}
	return owner, true, nil
}

// FindByIdentity returns the contact an identifier names ("whatsapp:5511...",
// "email:..."), or ErrNotFound.
func (s *Store) FindByIdentity(ctx context.Context, accountID uuid.UUID, id Identity) (Contact, error) {
	owner, ok, err := s.ownerOf(ctx, s.pool, accountID, id)
	if err != nil {
		return Contact{}, err
	}
	if !ok {
		return Contact{}, notFound("identity", id.Kind)
	}
	return s.Contact(ctx, accountID, owner)
}

// SearchByName finds live (not merged) contacts whose name contains q,
// ignoring case and accents, best matches first.
func (s *Store) SearchByName(ctx context.Context, accountID uuid.UUID, q string, limit int) ([]Contact, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	pattern := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(strings.TrimSpace(q))) + "%"
	rows, err := s.pool.Query(ctx, `SELECT id FROM contacts
		WHERE account_id = $1 AND merged_into IS NULL
		  AND atende_unaccent(lower(display_name)) LIKE atende_unaccent($2)
		ORDER BY similarity(atende_unaccent(lower(display_name)), atende_unaccent(lower($3))) DESC, created_at DESC
		LIMIT $4`, accountID, pattern, q, limit)
	if err != nil {
		return nil, fmt.Errorf("search contacts by name: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("search contacts by name: %w", err)
	}
	return s.contactsByID(ctx, accountID, ids)
}

// ResolveResult is the contact an inbound identity belongs to and whether it was just created.
type ResolveResult struct {
	Contact Contact
	Created bool
}

// Resolve finds the contact an identity belongs to, or creates one. This is
// the first thing done with every inbound message.
func (s *Store) Resolve(ctx context.Context, accountID uuid.UUID, kind IdentityKind, value string, p Profile) (ResolveResult, error) {
	return inTxValue(ctx, s, func(tx *txn) (ResolveResult, error) { return tx.Resolve(ctx, accountID, kind, value, p) })
}

// Resolve finds or creates the contact of an identity inside the transaction.
// Two concurrent first messages from one number still yield one contact: the
// loser of the race on the unique identity drops its new contact and uses the winner's.
func (t *txn) Resolve(ctx context.Context, accountID uuid.UUID, kind IdentityKind, value string, p Profile) (ResolveResult, error) {
	id, err := NormalizeIdentity(kind, value)
	if err != nil {
		return ResolveResult{}, err
	}
	owner, ok, err := t.s.ownerOf(ctx, t.tx, accountID, id)
	if err != nil {
		return ResolveResult{}, err
	}
	if ok {
		c, err := t.Contact(ctx, accountID, owner)
		if err != nil {
			return ResolveResult{}, err
		}
		if c.DisplayName, err = t.nameIfUnnamed(ctx, accountID, c.ID, c.DisplayName, p.Name); err != nil {
			return ResolveResult{}, err
		}
		return ResolveResult{Contact: c}, nil
	}
	c, err := t.createContact(ctx, accountID, p)
	if err != nil {
		return ResolveResult{}, err
	}
	claimed, err := t.claimIdentity(ctx, accountID, c.ID, id)
	if err != nil {
		return ResolveResult{}, err
	}
	if !claimed {
		if _, err := t.tx.Exec(ctx, `DELETE FROM contacts WHERE account_id = $1 AND id = $2`, accountID, c.ID); err != nil {
			return ResolveResult{}, fmt.Errorf("drop contact that lost a race: %w", err)
		}
		owner, _, err := t.s.ownerOf(ctx, t.tx, accountID, id)
		if err != nil {
			return ResolveResult{}, err
		}
		existing, err := t.Contact(ctx, accountID, owner)
		return ResolveResult{Contact: existing}, err
	}
	if err := t.fillIdentifierField(ctx, accountID, c.ID, id, AuthorSystem); err != nil {
		return ResolveResult{}, err
	}
	c, err = t.Contact(ctx, accountID, c.ID)
	return ResolveResult{Contact: c, Created: true}, err
}

// nameIfUnnamed gives a contact known by an identifier alone the name its
// channel profile shows, and returns the name it has now.
func (t *txn) nameIfUnnamed(ctx context.Context, accountID, contactID uuid.UUID, current, profileName string) (string, error) {
	name := strings.TrimSpace(profileName)
	if current != "" || name == "" {
		return current, nil
	}
	if _, err := t.tx.Exec(ctx, `UPDATE contacts SET display_name = $3, updated_at = now() WHERE account_id = $1 AND id = $2`,
		accountID, contactID, name); err != nil {
		return current, fmt.Errorf("name contact %s: %w", contactID, err)
	}
	return name, nil
}

func (t *txn) createContact(ctx context.Context, accountID uuid.UUID, p Profile) (Contact, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Contact{}, fmt.Errorf("new contact id: %w", err)
	}
	now := t.s.now()
	c, err := scanContact(t.tx.QueryRow(ctx, `INSERT INTO contacts (id, account_id, display_name, first_contact_at, first_channel, first_origin, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $4, $4) RETURNING `+contactColumns,
		id, accountID, strings.TrimSpace(p.Name), now, p.Channel, p.Origin))
	if err != nil {
		return Contact{}, fmt.Errorf("create contact: %w", err)
	}
	return c, nil
}

// claimIdentity gives an identity to a contact unless someone already has it.
func (t *txn) claimIdentity(ctx context.Context, accountID, contactID uuid.UUID, id Identity) (bool, error) {
	newID, err := uuid.NewV7()
	if err != nil {
		return false, fmt.Errorf("new identity id: %w", err)
	}
	tag, err := t.tx.Exec(ctx, `INSERT INTO contact_identities (id, account_id, contact_id, kind, value)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, kind, value) DO NOTHING`,
		newID, accountID, contactID, id.Kind, id.Value)
	if err != nil {
		return false, fmt.Errorf("add %s identity to %s: %w", id.Kind, contactID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// fillIdentifierField copies a strong identifier into the matching empty field
// (email, phone, cpf), so agents and attendants see it among the fields.
func (t *txn) fillIdentifierField(ctx context.Context, accountID, contactID uuid.UUID, id Identity, by Author) error {
	field := map[IdentityKind]string{KindEmail: FieldEmail, KindPhone: FieldPhone, KindCPF: FieldCPF}[id.Kind]
	if field == "" {
		return nil
	}
	c, err := t.s.contactRow(ctx, t.tx, accountID, contactID)
	if err != nil {
		return err
	}
	if _, set := c.Fields.Get(field); set {
		return nil
	}
	_, err = t.UpdateFields(ctx, accountID, contactID, map[string]any{field: id.Value}, by, nil)
	return err
}

// NewContact is a contact to create through the API: a name, identifiers and fields.
type NewContact struct {
	Name       string
	Identities []Identity
	Fields     map[string]any
	Channel    string
	Origin     string
}

// CreateResult is the contact created, or the existing one an identifier already named.
type CreateResult struct {
	Contact Contact
	Created bool
}

// CreateContact creates a contact, or returns the existing contact one of its
// identifiers already names (adding the identifiers it lacks). Identifiers
// naming two different contacts are a conflict: merging is an explicit act.
func (s *Store) CreateContact(ctx context.Context, accountID uuid.UUID, n NewContact) (CreateResult, error) {
	ids := make([]Identity, 0, len(n.Identities))
	for _, raw := range n.Identities {
		id, err := NormalizeIdentity(raw.Kind, raw.Value)
		if err != nil {
			return CreateResult{}, err
		}
		ids = append(ids, id)
	}
	return inTxValue(ctx, s, func(tx *txn) (CreateResult, error) {
		var existing uuid.UUID
		for _, id := range ids {
			owner, ok, err := s.ownerOf(ctx, tx.tx, accountID, id)
			if err != nil {
				return CreateResult{}, err
			}
			if ok && existing != uuid.Nil && owner != existing {
				return CreateResult{}, fmt.Errorf("identifiers name two different contacts (%s and %s): %w", existing, owner, ErrConflict)
			}
			if ok {
				existing = owner
			}
		}
		created := existing == uuid.Nil
		contactID := existing
		if created {
			c, err := tx.createContact(ctx, accountID, Profile{Name: n.Name, Channel: n.Channel, Origin: n.Origin})
			if err != nil {
				return CreateResult{}, err
			}
			contactID = c.ID
			if len(n.Fields) > 0 {
				if _, err := tx.UpdateFields(ctx, accountID, contactID, n.Fields, AuthorHuman, nil); err != nil {
					return CreateResult{}, err
				}
			}
		}
		for _, id := range ids {
			if _, err := tx.claimIdentity(ctx, accountID, contactID, id); err != nil {
				return CreateResult{}, err
			}
			if err := tx.fillIdentifierField(ctx, accountID, contactID, id, AuthorHuman); err != nil {
				return CreateResult{}, err
			}
		}
		c, err := tx.Contact(ctx, accountID, contactID)
		return CreateResult{Contact: c, Created: created}, err
	})
}

// UpdateFields sets, changes or clears fields (a nil value clears) and writes
// one field_change event per actual change saying who changed it, from which
// event, and the old and new values. Unchanged values write nothing.
func (s *Store) UpdateFields(ctx context.Context, accountID, contactID uuid.UUID, changes map[string]any, by Author, sourceEventID *int64) ([]FieldChange, error) {
	return inTxValue(ctx, s, func(tx *txn) ([]FieldChange, error) {
		return tx.UpdateFields(ctx, accountID, contactID, changes, by, sourceEventID)
	})
}

// UpdateFields changes fields inside the transaction; see Store.UpdateFields.
func (t *txn) UpdateFields(ctx context.Context, accountID, contactID uuid.UUID, changes map[string]any, by Author, sourceEventID *int64) ([]FieldChange, error) {
	c, err := t.s.lockContact(ctx, t.tx, accountID, contactID)
	if err != nil {
		return nil, err
	}
	if c.MergedInto != nil {
		return nil, fmt.Errorf("contact %s was merged into %s: %w", contactID, c.MergedInto, ErrConflict)
	}
	current := c.Fields.Map()
	times := c.fieldTimes
	if times == nil {
		times = map[string]time.Time{}
	}
	now := t.s.now()
	var applied []FieldChange
	for _, key := range sortedKeys(changes) {
		value, err := normalizeFieldValue(key, changes[key])
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidEvent, err)
		}
		old, had := current[key]
		if had && jsonEqual(old, value) || !had && value == nil {
			continue
		}
		if value == nil {
			delete(current, key)
		} else {
			current[key] = value
		}
		times[key] = now
		applied = append(applied, FieldChange{Field: key, Old: old, New: value, By: by, SourceEventID: sourceEventID})
	}
	if len(applied) == 0 {
		return nil, nil
	}
	fieldsJSON, err := json.Marshal(current)
	if err != nil {
		return nil, fmt.Errorf("encode fields: %w", err)
	}
	timesJSON, err := json.Marshal(times)
	if err != nil {
		return nil, fmt.Errorf("encode field times: %w", err)
	}
	if _, err := t.tx.Exec(ctx, `UPDATE contacts SET fields = $3, field_times = $4, updated_at = now() WHERE account_id = $1 AND id = $2`,
		accountID, contactID, fieldsJSON, timesJSON); err != nil {
		return nil, fmt.Errorf("update fields of %s: %w", contactID, err)
	}
	for _, ch := range applied {
		text := fmt.Sprintf("%s: %v → %v", ch.Field, display(ch.Old), display(ch.New))
		if _, err := t.appendSystem(ctx, accountID, contactID, EventFieldChange, by, text, ch); err != nil {
			return nil, err
		}
	}
	return applied, nil
}

func display(v any) any {
	if v == nil {
		return "∅"
	}
	return v
}

func jsonEqual(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// RecentContacts lists the account's live contacts, newest first.
func (s *Store) RecentContacts(ctx context.Context, accountID uuid.UUID, limit int) ([]Contact, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM contacts WHERE account_id = $1 AND merged_into IS NULL
		ORDER BY created_at DESC LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	return s.contactsByID(ctx, accountID, ids)
}

// contactsByID loads contacts with their identities in two queries, in the order of ids.
func (s *Store) contactsByID(ctx context.Context, accountID uuid.UUID, ids []uuid.UUID) ([]Contact, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+contactColumns+` FROM contacts WHERE account_id = $1 AND id = ANY($2)`, accountID, ids)
	if err != nil {
		return nil, fmt.Errorf("read contacts: %w", err)
	}
	byID := make(map[uuid.UUID]*Contact, len(ids))
	loaded, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Contact, error) { return scanContact(r) })
	if err != nil {
		return nil, fmt.Errorf("read contacts: %w", err)
	}
	for i := range loaded {
		byID[loaded[i].ID] = &loaded[i]
	}
	idRows, err := s.pool.Query(ctx, `SELECT contact_id, kind, value FROM contact_identities
		WHERE account_id = $1 AND contact_id = ANY($2) ORDER BY created_at, kind, value`, accountID, ids)
	if err != nil {
		return nil, fmt.Errorf("read identities: %w", err)
	}
	defer idRows.Close()
	for idRows.Next() {
		var owner uuid.UUID
		var id Identity
		if err := idRows.Scan(&owner, &id.Kind, &id.Value); err != nil {
			return nil, fmt.Errorf("read identities: %w", err)
		}
		if c := byID[owner]; c != nil {
			c.Identities = append(c.Identities, id)
		}
	}
	if err := idRows.Err(); err != nil {
		return nil, fmt.Errorf("read identities: %w", err)
	}
	out := make([]Contact, 0, len(ids))
	for _, id := range ids {
		if c := byID[id]; c != nil {
			out = append(out, *c)
		}
	}
	return out, nil
}
