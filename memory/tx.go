package memory

import (
	"context"
	"errors"
	"fmt"

	"github.com/atende/atende/internal/database"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The memory's writes inside a caller's transaction. Each takes the pgx.Tx the
// caller opened with database.InTx, so what the memory writes commits or rolls
// back with the caller's own writes and jobs (River's InsertTx style).

// AppendTx adds an event to a contact's timeline; see the AppendResult for
// platform retries, which store nothing new.
func (s *Store) AppendTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, e Event) (AppendResult, error) {
	return s.bind(tx).Append(ctx, accountID, e)
}

// AppendUnchunkedTx is AppendTx for a message whose embedding can wait for
// the job that follows it: a customer message always has a turn, which
// chunks the contact's history when it ends (EnqueueChunking). The webhook's
// transaction is then two statements shorter.
func (s *Store) AppendUnchunkedTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, e Event) (AppendResult, error) {
	return s.bind(tx).append(ctx, accountID, e, false)
}

// EnqueueChunking asks for the contact's new history to be embedded, in a
// transaction of its own (a turn calls it when it ends).
func (s *Store) EnqueueChunking(ctx context.Context, accountID, contactID uuid.UUID) error {
	return database.InTx(ctx, s.pool, func(tx pgx.Tx) error { return s.bind(tx).enqueueChunking(ctx, accountID, contactID) })
}

// ResolveTx finds or creates the contact an identifier belongs to; see Resolve.
func (s *Store) ResolveTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, kind IdentityKind, value string, p Profile) (ResolveResult, error) {
	return s.bind(tx).Resolve(ctx, accountID, kind, value, p)
}

// LinkIdentifierTx attaches an identifier to a contact, merging when another
// contact holds it; see LinkIdentifier.
func (s *Store) LinkIdentifierTx(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, kind IdentityKind, value string, by Author) (LinkResult, error) {
	return s.bind(tx).LinkIdentifier(ctx, accountID, contactID, kind, value, by)
}

// OwnerTx says which contact holds a normalized identifier, if any: the
// webchat asks before it records what a visitor typed, so a claim to
// someone else's e-mail or phone never joins their history.
func (s *Store) OwnerTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, id Identity) (uuid.UUID, bool, error) {
	return s.ownerOf(ctx, tx, accountID, id)
}

// ClaimIdentifierTx records an identifier a person typed where nobody
// vouches for them (the webchat): it becomes the contact's identity only if
// nobody holds it — atomically, so a holder committing meanwhile is not
// merged with — and otherwise it is kept as an unverified claim
// (FieldClaimedEmail, ...) for an attendant to merge. It never merges and
// reports whether the identifier is now the contact's.
func (s *Store) ClaimIdentifierTx(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, kind IdentityKind, value string, by Author) (bool, error) {
	id, err := NormalizeIdentity(kind, value)
	if err != nil {
		return false, err
	}
	t := s.bind(tx)
	inserted, err := t.claimIdentity(ctx, accountID, contactID, id)
	if err != nil {
		return false, err
	}
	if inserted {
		return true, t.fillIdentifierField(ctx, accountID, contactID, id, by)
	}
	owner, _, err := s.ownerOf(ctx, tx, accountID, id)
	if err != nil || owner == contactID {
		return owner == contactID, err
	}
	field := ClaimField(id.Kind)
	if field == "" {
		return false, nil
	}
	_, err = t.UpdateFields(ctx, accountID, contactID, map[string]any{field: id.Value}, by, nil)
	return false, err
}

// MergeTx folds one contact into another; see Merge.
func (s *Store) MergeTx(ctx context.Context, tx pgx.Tx, accountID, survivorID, mergedID uuid.UUID, by Author, reason string) (MergeResult, error) {
	return s.bind(tx).Merge(ctx, accountID, survivorID, mergedID, by, reason)
}

// UpdateFieldsTx changes structured fields; see UpdateFields.
func (s *Store) UpdateFieldsTx(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, changes map[string]any, by Author, sourceEventID *int64) ([]FieldChange, error) {
	return s.bind(tx).UpdateFields(ctx, accountID, contactID, changes, by, sourceEventID)
}

// ResolveIDTx is ResolveTx for callers that need only who the sender is —
// ingestion, on every webhook: a known sender costs one statement (the
// identity and the contact's name in one read), not three.
func (s *Store) ResolveIDTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, kind IdentityKind, value string, p Profile) (uuid.UUID, error) {
	id, err := NormalizeIdentity(kind, value)
	if err != nil {
		return uuid.Nil, err
	}
	var contactID uuid.UUID
	var name string
	err = tx.QueryRow(ctx, `SELECT c.id, c.display_name FROM contact_identities i
		JOIN contacts c ON c.account_id = i.account_id AND c.id = i.contact_id
		WHERE i.account_id = $1 AND i.kind = $2 AND i.value = $3`, accountID, id.Kind, id.Value).Scan(&contactID, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		res, err := s.ResolveTx(ctx, tx, accountID, kind, value, p)
		return res.Contact.ID, err
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("find owner of %s: %w", id.Kind, err)
	}
	if _, err := s.bind(tx).nameIfUnnamed(ctx, accountID, contactID, name, p.Name); err != nil {
		return uuid.Nil, err
	}
	return contactID, nil
}

// ContactTx reads a contact as the transaction sees it.
func (s *Store) ContactTx(ctx context.Context, tx pgx.Tx, accountID, id uuid.UUID) (Contact, error) {
	return s.bind(tx).Contact(ctx, accountID, id)
}

// EventTx reads one event of the account inside tx.
func (s *Store) EventTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, id int64) (Event, error) {
	return s.bind(tx).EventByID(ctx, accountID, id)
}

// EventByExternalIDTx finds an event by the id its channel gave it (to attach
// a delivery status to the message it is about).
func (s *Store) EventByExternalIDTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, channel, externalID string) (Event, error) {
	return s.bind(tx).EventByExternalID(ctx, accountID, channel, externalID)
}
