package memory

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Erasure is one person about to be erased (LGPD art. 18, VI, "eliminação"):
// the contact asked for, the contact it was merged into when it was, and
// every contact merged into those — a merged duplicate is the same person,
// and a merge moved its identities, conversations and history to the
// survivor. It says what other packages must sweep in the same transaction
// (what they keep about the person that does not cascade from contacts).
type Erasure struct {
	// ContactID is the surviving contact: the root of the merged_into chain.
	ContactID uuid.UUID
	// MergedIDs are the contacts merged into it, directly or through another.
	MergedIDs []uuid.UUID
	// EventIDs are the person's events (their media_files cascade).
	EventIDs []int64
	// Identities are the person's identifiers (a webchat visitor id names
	// the visitor's sessions).
	Identities []Identity
	// MergeIDs are the merges the person took part in, undone ones included
	// (a contact.merged delivery names its merge).
	MergeIDs []uuid.UUID
}

// lockSurvivor walks up the merged_into chain from id and locks its end, the
// contact everything was merged into. The walk reads without locks (locking
// a merged contact before its survivor would take locks in the opposite
// order to an unmerge); a survivor merged away before its lock is granted
// is walked on from.
func (s *Store) lockSurvivor(ctx context.Context, tx pgx.Tx, accountID, id uuid.UUID) (uuid.UUID, error) {
	root := id
	for depth := 0; depth <= maxMergeDepth; depth++ {
		c, err := s.contactRow(ctx, tx, accountID, root)
		if err != nil {
			return uuid.Nil, err
		}
		if c.MergedInto != nil {
			root = *c.MergedInto
			continue
		}
		if c, err = s.lockContact(ctx, tx, accountID, root); err != nil {
			return uuid.Nil, err
		}
		if c.MergedInto == nil {
			return root, nil
		}
		root = *c.MergedInto
	}
	return uuid.Nil, fmt.Errorf("contact %s: merged_into chain longer than %d", id, maxMergeDepth)
}

// ContactIDs are the survivor and the contacts merged into it.
func (e Erasure) ContactIDs() []uuid.UUID {
	return append([]uuid.UUID{e.ContactID}, e.MergedIDs...)
}

// maxMergeDepth bounds the walk up a merged_into chain (a merge needs both
// contacts unmerged, so a chain grows by one only when its survivor merges).
const maxMergeDepth = 64

// ErasureOfTx locks the person a contact id names and says what erasing
// them removes; nothing is deleted yet (EraseTx). The survivor is locked
// first: merging into it, merging it away or undoing a merge of it waits
// for the erasure, so the set of contacts cannot change under it (an unmerge
// already holding its merge row when the erasure starts is a deadlock
// PostgreSQL breaks by failing one of the two; nothing is half done). An
// unknown or another account's contact is ErrNotFound.
func (s *Store) ErasureOfTx(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID) (Erasure, error) {
	for range 3 {
		root, err := s.lockSurvivor(ctx, tx, accountID, contactID)
		if err != nil {
			return Erasure{}, err
		}
		rows, err := tx.Query(ctx, `WITH RECURSIVE merged AS (
				SELECT id FROM contacts WHERE account_id = $1 AND merged_into = $2
				UNION SELECT c.id FROM contacts c JOIN merged m ON c.merged_into = m.id WHERE c.account_id = $1)
			SELECT c.id FROM contacts c JOIN merged m ON m.id = c.id WHERE c.account_id = $1 ORDER BY c.id FOR UPDATE OF c`, accountID, root)
		if err != nil {
			return Erasure{}, fmt.Errorf("find contacts merged into %s: %w", root, err)
		}
		merged, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return Erasure{}, fmt.Errorf("find contacts merged into %s: %w", root, err)
		}
		// An unmerge committed between the walk and the lock took the
		// contact out of the survivor's set: walk again from it.
		if root == contactID || slices.Contains(merged, contactID) {
			return s.erasureOf(ctx, tx, accountID, Erasure{ContactID: root, MergedIDs: merged})
		}
	}
	return Erasure{}, fmt.Errorf("contact %s kept changing hands while being erased: %w", contactID, ErrConflict)
}

// erasureOf fills in what the locked contacts of e hold.
func (s *Store) erasureOf(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, e Erasure) (Erasure, error) {
	root := e.ContactID
	ids := e.ContactIDs()
	rows, err := tx.Query(ctx, `SELECT id FROM events WHERE account_id = $1 AND contact_id = ANY($2) ORDER BY id`, accountID, ids)
	if err != nil {
		return Erasure{}, fmt.Errorf("list events of %s: %w", root, err)
	}
	if e.EventIDs, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return Erasure{}, fmt.Errorf("list events of %s: %w", root, err)
	}
	rows, err = tx.Query(ctx, `SELECT kind, value FROM contact_identities WHERE account_id = $1 AND contact_id = ANY($2)
		ORDER BY kind, value`, accountID, ids)
	if err != nil {
		return Erasure{}, fmt.Errorf("list identities of %s: %w", root, err)
	}
	if e.Identities, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Identity]); err != nil {
		return Erasure{}, fmt.Errorf("list identities of %s: %w", root, err)
	}
	rows, err = tx.Query(ctx, `SELECT id FROM merges WHERE account_id = $1 AND (survivor_id = ANY($2) OR merged_id = ANY($2))
		ORDER BY id`, accountID, ids)
	if err != nil {
		return Erasure{}, fmt.Errorf("list merges of %s: %w", root, err)
	}
	if e.MergeIDs, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
		return Erasure{}, fmt.Errorf("list merges of %s: %w", root, err)
	}
	return e, nil
}

// EraseTx deletes the person ErasureOfTx locked, with everything the memory
// keeps about them: the contacts (their identities, conversations, events,
// embedded history, handoff cards and media rows cascade), the merges they
// took part in (the snapshots hold their fields) and, on other contacts'
// timelines, the merge events that name them (an undone merge's losing
// values may be theirs). A chunk of embedded history mixes two people only
// after an undone merge: such a chunk is deleted whoever holds it, and the
// other person's events in it are embedded again.
func (s *Store) EraseTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, e Erasure) error {
	if e.ContactID == uuid.Nil {
		return errors.New("erase: no contact")
	}
	ids := e.ContactIDs()
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = id.String()
	}
	// Chunks that hold both people's events: the erased person's events in
	// another's chunk, or another's events in the erased person's chunk.
	rows, err := tx.Query(ctx, `WITH mixed AS (
			SELECT DISTINCT e.chunk_id AS id FROM events e
			WHERE e.account_id = $1 AND e.chunk_id IS NOT NULL AND (
				(e.contact_id = ANY($2) AND EXISTS (SELECT 1 FROM memory_chunks m WHERE m.account_id = $1 AND m.id = e.chunk_id AND m.contact_id <> ALL($2)))
				OR (e.contact_id <> ALL($2) AND EXISTS (SELECT 1 FROM memory_chunks m WHERE m.account_id = $1 AND m.id = e.chunk_id AND m.contact_id = ANY($2))))),
		unchunked AS (UPDATE events e SET chunk_id = NULL FROM mixed
			WHERE e.account_id = $1 AND e.chunk_id = mixed.id AND e.contact_id <> ALL($2) RETURNING e.contact_id),
		gone AS (DELETE FROM memory_chunks m USING mixed WHERE m.account_id = $1 AND m.id = mixed.id)
		SELECT DISTINCT contact_id FROM unchunked`, accountID, ids)
	if err != nil {
		return fmt.Errorf("separate embedded history of %s: %w", e.ContactID, err)
	}
	others, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return fmt.Errorf("separate embedded history of %s: %w", e.ContactID, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM events WHERE account_id = $1 AND kind = 'merge' AND contact_id <> ALL($2)
		AND (payload->>'survivor_id' = ANY($3) OR payload->>'merged_id' = ANY($3))`, accountID, ids, names); err != nil {
		return fmt.Errorf("delete merge events naming %s: %w", e.ContactID, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM merges WHERE account_id = $1 AND (survivor_id = ANY($2) OR merged_id = ANY($2))`,
		accountID, ids); err != nil {
		return fmt.Errorf("delete merges of %s: %w", e.ContactID, err)
	}
	// One statement: merged_into (no cascade) only ever points inside the set.
	tag, err := tx.Exec(ctx, `DELETE FROM contacts WHERE account_id = $1 AND id = ANY($2)`, accountID, ids)
	if err != nil {
		return fmt.Errorf("delete contact %s: %w", e.ContactID, err)
	}
	if tag.RowsAffected() != int64(len(ids)) {
		return fmt.Errorf("erase %s: %d of %d contacts deleted (not locked by ErasureOfTx?)", e.ContactID, tag.RowsAffected(), len(ids))
	}
	t := s.bind(tx)
	for _, other := range others {
		if err := t.enqueueChunking(ctx, accountID, other); err != nil {
			return err
		}
	}
	return nil
}

// EraseContactTx erases the person a contact id names (ErasureOfTx, then
// EraseTx) and says what was erased. Callers that keep more about the person
// (media files, webhook deliveries, sessions) call the two steps themselves
// and sweep in between.
func (s *Store) EraseContactTx(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID) (Erasure, error) {
	e, err := s.ErasureOfTx(ctx, tx, accountID, contactID)
	if err != nil {
		return Erasure{}, err
	}
	return e, s.EraseTx(ctx, tx, accountID, e)
}
