// Package erasure erases a person — the LGPD's "direito à eliminação" (art.
// 18, VI): the contact and the contacts merged into it, and everything any
// package keeps about them, in one transaction; then the files they sent,
// from the blob store. Each package deletes its own rows (memory the
// contacts, whose foreign keys cascade to identities, conversations, events,
// embedded history, handoff cards, CSAT requests and media rows; webhooks
// its deliveries; channels the webchat sessions; agents the routing
// examples); this package only says in what order, and sits above them all:
// api and cmd import it, nothing it imports imports it.
package erasure

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/agents"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/webhooks"
)

// Service erases people. Every part is needed: one left out would be data
// left behind, so New refuses a nil one.
type Service struct {
	pool     *pgxpool.Pool
	memory   *memory.Store
	files    *media.Files
	blobs    media.Blobs
	webhooks *webhooks.Store
	routers  *agents.Routers
}

// Deps are the stores an erasure sweeps.
type Deps struct {
	Pool     *pgxpool.Pool
	Memory   *memory.Store
	Files    *media.Files
	Blobs    media.Blobs
	Webhooks *webhooks.Store
	Routers  *agents.Routers
}

// New returns the service; every dependency is required.
func New(d Deps) (*Service, error) {
	for name, missing := range map[string]bool{"Pool": d.Pool == nil, "Memory": d.Memory == nil, "Files": d.Files == nil,
		"Blobs": d.Blobs == nil, "Webhooks": d.Webhooks == nil, "Routers": d.Routers == nil} {
		if missing {
			return nil, fmt.Errorf("erasure: %s is required (left out, its data would outlive the person)", name)
		}
	}
	return &Service{pool: d.Pool, memory: d.Memory, files: d.Files, blobs: d.Blobs, webhooks: d.Webhooks, routers: d.Routers}, nil
}

// Result is what an erasure removed. The database part is all or nothing;
// blobs are deleted after the commit, and one that could not be is listed
// in BlobFailures (the caller logs it: nothing references it any more, and
// an operator can remove it by its address).
type Result struct {
	// ContactIDs are the contacts erased: the survivor first, then the
	// contacts that had been merged into it.
	ContactIDs []uuid.UUID
	// BlobsDeleted counts the person's files removed from the blob store;
	// BlobsShared those kept because another message (of anyone, in any
	// account) has the same bytes.
	BlobsDeleted, BlobsShared int
	BlobFailures              []BlobFailure
}

// BlobFailure is a blob left in the store by an erasure, and why.
type BlobFailure struct {
	SHA256 string
	Err    error
}

// EraseContact erases the person contactID names: that contact, the one it
// was merged into if it was (a duplicate is the same person, and the merge
// moved its history there), and every contact merged into those. An
// unknown or another account's contact is memory.ErrNotFound, and nothing is
// touched. The contact.erased webhook goes out with the commit.
func (s *Service) EraseContact(ctx context.Context, accountID, contactID uuid.UUID) (Result, error) {
	var e memory.Erasure
	var shas []string
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if e, err = s.memory.ErasureOfTx(ctx, tx, accountID, contactID); err != nil {
			return err
		}
		ids := e.ContactIDs()
		// Before the delete: media_files rows go with the events.
		if shas, err = s.files.ShasOfContactTx(ctx, tx, accountID, ids); err != nil {
			return err
		}
		if err := s.routers.EraseCorrectionsTx(ctx, tx, accountID, e.EventIDs); err != nil {
			return err
		}
		var visitors []string
		for _, id := range e.Identities {
			if id.Kind == memory.KindWebchat {
				visitors = append(visitors, id.Value)
			}
		}
		if err := channels.EraseWebchatSessionsTx(ctx, tx, accountID, visitors); err != nil {
			return err
		}
		// Before contact.erased is emitted, or it would be deleted too.
		named := append(append([]uuid.UUID(nil), ids...), e.MergeIDs...)
		if err := s.webhooks.EraseDeliveriesTx(ctx, tx, accountID, named); err != nil {
			return err
		}
		if err := s.memory.EraseTx(ctx, tx, accountID, e); err != nil {
			return err
		}
		merged := e.MergedIDs
		if merged == nil {
			merged = []uuid.UUID{}
		}
		return s.webhooks.Emit(ctx, tx, accountID, webhooks.ContactErased, map[string]any{"id": e.ContactID, "merged_ids": merged})
	})
	if err != nil {
		return Result{}, err
	}
	res := Result{ContactIDs: e.ContactIDs()}
	// Committed: the rows are gone. No transaction is held from here on,
	// and a client hanging up does not leave the files behind.
	ctx = context.WithoutCancel(ctx)
	gone, err := s.files.Unreferenced(ctx, shas)
	if err != nil {
		for _, sha := range shas {
			res.BlobFailures = append(res.BlobFailures, BlobFailure{SHA256: sha, Err: err})
		}
		return res, nil
	}
	res.BlobsShared = len(shas) - len(gone)
	for _, sha := range gone {
		if err := s.blobs.Delete(ctx, sha); err != nil {
			res.BlobFailures = append(res.BlobFailures, BlobFailure{SHA256: sha, Err: err})
			continue
		}
		res.BlobsDeleted++
	}
	return res, nil
}
