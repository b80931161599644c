package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// LinkResult is the contact an identifier now belongs to. When the identifier
// already named another contact the two were merged, and Contact is the survivor.
type LinkResult struct {
	Contact Contact    `json:"contact"`
	Merged  bool       `json:"merged"`
	MergeID *uuid.UUID `json:"merge_id,omitempty"`
}

// LinkIdentifier records an identifier a customer revealed (a phone, e-mail or
// CPF typed on any channel). If another contact already has it, the two are
// the same person and merge: the older contact survives.
func (s *Store) LinkIdentifier(ctx context.Context, accountID, contactID uuid.UUID, kind IdentityKind, value string, by Author) (LinkResult, error) {
	return inTxValue(ctx, s, func(tx *txn) (LinkResult, error) {
		return tx.LinkIdentifier(ctx, accountID, contactID, kind, value, by)
	})
}

// LinkIdentifier links inside the transaction; see Store.LinkIdentifier.
func (t *txn) LinkIdentifier(ctx context.Context, accountID, contactID uuid.UUID, kind IdentityKind, value string, by Author) (LinkResult, error) {
	id, err := NormalizeIdentity(kind, value)
	if err != nil {
		return LinkResult{}, err
	}
	c, err := t.s.contactRow(ctx, t.tx, accountID, contactID)
	if err != nil {
		return LinkResult{}, err
	}
	if c.MergedInto != nil {
		return LinkResult{}, fmt.Errorf("contact %s was merged into %s: %w", contactID, c.MergedInto, ErrConflict)
	}
	owner, owned, err := t.s.ownerOf(ctx, t.tx, accountID, id)
	if err != nil {
		return LinkResult{}, err
	}
	if !owned {
		if _, err := t.claimIdentity(ctx, accountID, contactID, id); err != nil {
			return LinkResult{}, err
		}
		if err := t.fillIdentifierField(ctx, accountID, contactID, id, by); err != nil {
			return LinkResult{}, err
		}
		c, err := t.Contact(ctx, accountID, contactID)
		return LinkResult{Contact: c}, err
	}
	if owner == contactID {
		c, err := t.Contact(ctx, accountID, contactID)
		return LinkResult{Contact: c}, err
	}
	other, err := t.s.contactRow(ctx, t.tx, accountID, owner)
	if err != nil {
		return LinkResult{}, err
	}
	survivor, merged := other.ID, contactID
	if c.CreatedAt.Before(other.CreatedAt) {
		survivor, merged = contactID, other.ID
	}
	res, err := t.Merge(ctx, accountID, survivor, merged, by, fmt.Sprintf("both share %s", id.Kind))
	if err != nil {
		return LinkResult{}, err
	}
	return LinkResult{Contact: res.Contact, Merged: true, MergeID: &res.MergeID}, nil
}

// mergeSnapshot is what a merge moved and overwrote, kept so an unmerge can put
// every row back where it was.
type mergeSnapshot struct {
	Survivor        contactState `json:"survivor"`
	Merged          contactState `json:"merged"`
	IdentityIDs     []uuid.UUID  `json:"identity_ids"`
	ConversationIDs []uuid.UUID  `json:"conversation_ids"`
	EventIDs        []int64      `json:"event_ids"`
	ChunkIDs        []int64      `json:"chunk_ids"`
	// Closed is the open conversation the merge closed, since a contact has
	// one open conversation at most (empty when only one side had one).
	Closed *closedConversation `json:"closed_conversation,omitempty"`
}

// closedConversation is a conversation a merge closed and how it was.
type closedConversation struct {
	ID     uuid.UUID `json:"id"`
	Status string    `json:"status"`
}

type contactState struct {
	DisplayName    string               `json:"display_name"`
	Fields         json.RawMessage      `json:"fields"`
	FieldTimes     map[string]time.Time `json:"field_times"`
	FirstContactAt time.Time            `json:"first_contact_at"`
	FirstChannel   string               `json:"first_channel"`
	FirstOrigin    string               `json:"first_origin"`
}

func stateOf(c Contact) (contactState, error) {
	fields, err := json.Marshal(c.Fields)
	return contactState{DisplayName: c.DisplayName, Fields: fields, FieldTimes: c.fieldTimes,
		FirstContactAt: c.FirstContact.At, FirstChannel: c.FirstContact.Channel, FirstOrigin: c.FirstContact.Origin}, err
}

// MergeResult is the surviving contact and the merge that can be undone.
type MergeResult struct {
	Contact Contact   `json:"contact"`
	MergeID uuid.UUID `json:"merge_id"`
}

// Merge folds one contact into another: identities, conversations, events and
// embedded history move to the survivor; for each field the most recently
// changed value wins and the losing values are kept in the merge event.
func (s *Store) Merge(ctx context.Context, accountID, survivorID, mergedID uuid.UUID, by Author, reason string) (MergeResult, error) {
	return inTxValue(ctx, s, func(tx *txn) (MergeResult, error) {
		return tx.Merge(ctx, accountID, survivorID, mergedID, by, reason)
	})
}

// Merge merges inside the transaction; see Store.Merge.
func (t *txn) Merge(ctx context.Context, accountID, survivorID, mergedID uuid.UUID, by Author, reason string) (MergeResult, error) {
	if survivorID == mergedID {
		return MergeResult{}, fmt.Errorf("a contact cannot be merged into itself: %w", ErrConflict)
	}
	// Lock in id order so two merges of the same pair cannot deadlock.
	first, second := survivorID, mergedID
	if second.String() < first.String() {
		first, second = second, first
	}
	locked := map[uuid.UUID]Contact{}
	for _, id := range []uuid.UUID{first, second} {
		c, err := t.s.lockContact(ctx, t.tx, accountID, id)
		if err != nil {
			return MergeResult{}, err
		}
		if c.MergedInto != nil {
			return MergeResult{}, fmt.Errorf("contact %s was already merged into %s: %w", id, c.MergedInto, ErrConflict)
		}
		locked[id] = c
	}
	survivor, merged := locked[survivorID], locked[mergedID]
	var snap mergeSnapshot
	var err error
	if snap.Survivor, err = stateOf(survivor); err != nil {
		return MergeResult{}, fmt.Errorf("snapshot survivor: %w", err)
	}
	if snap.Merged, err = stateOf(merged); err != nil {
		return MergeResult{}, fmt.Errorf("snapshot merged: %w", err)
	}
	if snap.Closed, err = t.closeSecondOpenConversation(ctx, accountID, survivorID, mergedID); err != nil {
		return MergeResult{}, err
	}
	moves := []struct {
		table string
		dest  any
	}{
		{"contact_identities", &snap.IdentityIDs},
		{"conversations", &snap.ConversationIDs},
		{"events", &snap.EventIDs},
		{"memory_chunks", &snap.ChunkIDs},
	}
	for _, m := range moves {
		// Table names come from the fixed list above, never from input.
		rows, err := t.tx.Query(ctx, `UPDATE `+m.table+` SET contact_id = $3 WHERE account_id = $1 AND contact_id = $2 RETURNING id`,
			accountID, mergedID, survivorID)
		if err != nil {
			return MergeResult{}, fmt.Errorf("move %s of %s: %w", m.table, mergedID, err)
		}
		switch dest := m.dest.(type) {
		case *[]uuid.UUID:
			*dest, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		case *[]int64:
			*dest, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		}
		if err != nil {
			return MergeResult{}, fmt.Errorf("move %s of %s: %w", m.table, mergedID, err)
		}
	}

	fields, times, losing := reconcileFields(survivor, merged)
	fieldsJSON, err := json.Marshal(fields)
	if err != nil {
		return MergeResult{}, fmt.Errorf("encode merged fields: %w", err)
	}
	timesJSON, err := json.Marshal(times)
	if err != nil {
		return MergeResult{}, fmt.Errorf("encode merged field times: %w", err)
	}
	first_ := survivor.FirstContact
	if merged.FirstContact.At.Before(first_.At) {
		first_ = merged.FirstContact
	}
	name := survivor.DisplayName
	if name == "" {
		name = merged.DisplayName
	}
	if _, err := t.tx.Exec(ctx, `UPDATE contacts SET fields = $3, field_times = $4, first_contact_at = $5, first_channel = $6,
		first_origin = $7, display_name = $8, updated_at = now() WHERE account_id = $1 AND id = $2`,
		accountID, survivorID, fieldsJSON, timesJSON, first_.At, first_.Channel, first_.Origin, name); err != nil {
		return MergeResult{}, fmt.Errorf("reconcile fields into %s: %w", survivorID, err)
	}
	if _, err := t.tx.Exec(ctx, `UPDATE contacts SET merged_into = $3, updated_at = now() WHERE account_id = $1 AND id = $2`,
		accountID, mergedID, survivorID); err != nil {
		return MergeResult{}, fmt.Errorf("mark %s merged: %w", mergedID, err)
	}
	mergeID, err := uuid.NewV7()
	if err != nil {
		return MergeResult{}, fmt.Errorf("new merge id: %w", err)
	}
	snapJSON, err := json.Marshal(snap)
	if err != nil {
		return MergeResult{}, fmt.Errorf("encode merge snapshot: %w", err)
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO merges (id, account_id, survivor_id, merged_id, snapshot, reason) VALUES ($1, $2, $3, $4, $5, $6)`,
		mergeID, accountID, survivorID, mergedID, snapJSON, reason); err != nil {
		return MergeResult{}, fmt.Errorf("record merge: %w", err)
	}
	payload := map[string]any{
		"action": "merge", "merge_id": mergeID, "survivor_id": survivorID, "merged_id": mergedID, "reason": reason,
		"losing_values": losing,
		"moved": map[string]int{"identities": len(snap.IdentityIDs), "conversations": len(snap.ConversationIDs),
			"events": len(snap.EventIDs), "chunks": len(snap.ChunkIDs)},
	}
	text := fmt.Sprintf("Contact %s merged into this one (%s)", mergedID, reason)
	if _, err := t.appendSystem(ctx, accountID, survivorID, EventMerge, by, text, payload); err != nil {
		return MergeResult{}, err
	}
	c, err := t.Contact(ctx, accountID, survivorID)
	return MergeResult{Contact: c, MergeID: mergeID}, err
}

// closeSecondOpenConversation keeps one open conversation when both contacts
// of a merge have one: the one a person holds (or waits for) before the bot's,
// then the one the customer wrote in last — usually the conversation the
// customer is in right now. The other is resolved; its events stay on the one
// timeline.
func (t *txn) closeSecondOpenConversation(ctx context.Context, accountID, survivorID, mergedID uuid.UUID) (*closedConversation, error) {
	var c closedConversation
	var sector string
	err := t.tx.QueryRow(ctx, `WITH open AS (
			SELECT id, status FROM conversations WHERE account_id = $1 AND contact_id IN ($2, $3) AND status <> 'resolved'
			ORDER BY CASE status WHEN 'human' THEN 0 WHEN 'pending_human' THEN 1 ELSE 2 END, last_message_at DESC, id DESC
			FOR UPDATE),
		loser AS (SELECT id, status FROM open OFFSET 1 LIMIT 1)
		UPDATE conversations c SET status = 'resolved', resolved_at = now() FROM loser
		WHERE c.account_id = $1 AND c.id = loser.id RETURNING c.id, loser.status, c.sector`, accountID, survivorID, mergedID).Scan(&c.ID, &c.Status, &sector)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keep one open conversation for %s: %w", survivorID, err)
	}
	// The customer moving channel keeps the subject they were on: the kept
	// conversation takes the closed one's sector when it has none yet (a
	// WhatsApp message after an Instagram sales talk is still sales).
	if sector != "" {
		if _, err := t.tx.Exec(ctx, `UPDATE conversations SET sector = $4 WHERE account_id = $1 AND contact_id IN ($2, $3)
			AND status <> 'resolved' AND sector = ''`, accountID, survivorID, mergedID, sector); err != nil {
			return nil, fmt.Errorf("carry the sector to the kept conversation: %w", err)
		}
	}
	return &c, nil
}

// reconcileFields keeps, per field, the value changed most recently; the
// values that lost are returned so the merge event can show them.
func reconcileFields(survivor, merged Contact) (map[string]any, map[string]time.Time, map[string]any) {
	fields := survivor.Fields.Map()
	times := map[string]time.Time{}
	for k, v := range survivor.fieldTimes {
		times[k] = v
	}
	losing := map[string]any{}
	for key, value := range merged.Fields.Map() {
		current, has := fields[key]
		if !has {
			fields[key] = value
			times[key] = merged.fieldTimes[key]
			continue
		}
		if jsonEqual(current, value) {
			continue
		}
		if merged.fieldTimes[key].After(survivor.fieldTimes[key]) {
			losing[key] = current
			fields[key] = value
			times[key] = merged.fieldTimes[key]
		} else {
			losing[key] = value
		}
	}
	return fields, times, losing
}

// UnmergeResult holds both contacts as they were before the merge.
type UnmergeResult struct {
	Survivor Contact `json:"survivor"`
	Restored Contact `json:"restored"`
}

// Unmerge undoes the latest merge a contact took part in: everything that
// moved goes back, both contacts get their fields exactly as before, and both
// timelines say so. Events that arrived after the merge stay where they landed.
func (s *Store) Unmerge(ctx context.Context, accountID, contactID uuid.UUID, by Author) (UnmergeResult, error) {
	return inTxValue(ctx, s, func(tx *txn) (UnmergeResult, error) {
		var mergeID, survivorID, mergedID uuid.UUID
		var snapJSON []byte
		err := tx.tx.QueryRow(ctx, `SELECT id, survivor_id, merged_id, snapshot FROM merges
			WHERE account_id = $1 AND (survivor_id = $2 OR merged_id = $2) AND undone_at IS NULL
			ORDER BY created_at DESC LIMIT 1 FOR UPDATE`, accountID, contactID).Scan(&mergeID, &survivorID, &mergedID, &snapJSON)
		if errors.Is(err, pgx.ErrNoRows) {
			return UnmergeResult{}, notFound("merge of contact", contactID)
		}
		if err != nil {
			return UnmergeResult{}, fmt.Errorf("find merge of %s: %w", contactID, err)
		}
		var snap mergeSnapshot
		if err := json.Unmarshal(snapJSON, &snap); err != nil {
			return UnmergeResult{}, fmt.Errorf("decode merge %s: %w", mergeID, err)
		}
		moves := []struct {
			table string
			ids   any
		}{
			{"contact_identities", snap.IdentityIDs},
			{"conversations", snap.ConversationIDs},
			{"events", snap.EventIDs},
			{"memory_chunks", snap.ChunkIDs},
		}
		for _, m := range moves {
			if _, err := tx.tx.Exec(ctx, `UPDATE `+m.table+` SET contact_id = $2 WHERE account_id = $1 AND id = ANY($3)`,
				accountID, mergedID, m.ids); err != nil {
				return UnmergeResult{}, fmt.Errorf("move %s back to %s: %w", m.table, mergedID, err)
			}
		}
		if c := snap.Closed; c != nil {
			// Reopened unless its contact opened another one since.
			if _, err := tx.tx.Exec(ctx, `UPDATE conversations c SET status = $3, resolved_at = NULL
				WHERE c.account_id = $1 AND c.id = $2 AND c.status = 'resolved' AND NOT EXISTS (SELECT 1 FROM conversations o
					WHERE o.account_id = $1 AND o.contact_id = c.contact_id AND o.status <> 'resolved')`, accountID, c.ID, c.Status); err != nil {
				return UnmergeResult{}, fmt.Errorf("reopen conversation %s: %w", c.ID, err)
			}
		}
		for _, r := range []struct {
			id    uuid.UUID
			state contactState
		}{{survivorID, snap.Survivor}, {mergedID, snap.Merged}} {
			times, err := json.Marshal(r.state.FieldTimes)
			if err != nil {
				return UnmergeResult{}, fmt.Errorf("encode field times: %w", err)
			}
			if _, err := tx.tx.Exec(ctx, `UPDATE contacts SET fields = $3, field_times = $4, first_contact_at = $5,
				first_channel = $6, first_origin = $7, display_name = $8, merged_into = NULL, updated_at = now()
				WHERE account_id = $1 AND id = $2`, accountID, r.id, []byte(r.state.Fields), times,
				r.state.FirstContactAt, r.state.FirstChannel, r.state.FirstOrigin, r.state.DisplayName); err != nil {
				return UnmergeResult{}, fmt.Errorf("restore contact %s: %w", r.id, err)
			}
		}
		if _, err := tx.tx.Exec(ctx, `UPDATE merges SET undone_at = now() WHERE account_id = $1 AND id = $2`, accountID, mergeID); err != nil {
			return UnmergeResult{}, fmt.Errorf("close merge %s: %w", mergeID, err)
		}
		payload := map[string]any{"action": "unmerge", "merge_id": mergeID, "survivor_id": survivorID, "merged_id": mergedID}
		for _, id := range []uuid.UUID{survivorID, mergedID} {
			if _, err := tx.appendSystem(ctx, accountID, id, EventMerge, by, fmt.Sprintf("Merge %s undone", mergeID), payload); err != nil {
				return UnmergeResult{}, err
			}
		}
		survivor, err := tx.Contact(ctx, accountID, survivorID)
		if err != nil {
			return UnmergeResult{}, err
		}
		restored, err := tx.Contact(ctx, accountID, mergedID)
		return UnmergeResult{Survivor: survivor, Restored: restored}, err
	})
}
