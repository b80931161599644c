package memory

import (
	"context"

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

// ResolveTx finds or creates the contact an identifier belongs to; see Resolve.
func (s *Store) ResolveTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, kind IdentityKind, value string, p Profile) (ResolveResult, error) {
	return s.bind(tx).Resolve(ctx, accountID, kind, value, p)
}

// LinkIdentifierTx attaches an identifier to a contact, merging when another
// contact holds it; see LinkIdentifier.
func (s *Store) LinkIdentifierTx(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, kind IdentityKind, value string, by Author) (LinkResult, error) {
	return s.bind(tx).LinkIdentifier(ctx, accountID, contactID, kind, value, by)
}

// MergeTx folds one contact into another; see Merge.
func (s *Store) MergeTx(ctx context.Context, tx pgx.Tx, accountID, survivorID, mergedID uuid.UUID, by Author, reason string) (MergeResult, error) {
	return s.bind(tx).Merge(ctx, accountID, survivorID, mergedID, by, reason)
}

// UpdateFieldsTx changes structured fields; see UpdateFields.
func (s *Store) UpdateFieldsTx(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, changes map[string]any, by Author, sourceEventID *int64) ([]FieldChange, error) {
	return s.bind(tx).UpdateFields(ctx, accountID, contactID, changes, by, sourceEventID)
}

// ContactTx reads a contact as the transaction sees it.
func (s *Store) ContactTx(ctx context.Context, tx pgx.Tx, accountID, id uuid.UUID) (Contact, error) {
	return s.bind(tx).Contact(ctx, accountID, id)
}

// EventByExternalIDTx finds an event by the id its channel gave it (to attach
// a delivery status to the message it is about).
func (s *Store) EventByExternalIDTx(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, channel, externalID string) (Event, error) {
	return s.bind(tx).EventByExternalID(ctx, accountID, channel, externalID)
}
