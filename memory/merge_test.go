package memory

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// contactSnapshot is what a person sees of a contact: fields, identities,
// first contact and every timeline event except the merge bookkeeping.
type contactSnapshot struct {
	Name       string
	Fields     map[string]any
	Identities []Identity
	First      FirstContact
	Events     []int64
}

func snapshotOf(t *testing.T, s *Store, acct, id uuid.UUID) contactSnapshot {
	t.Helper()
	c, err := s.Contact(context.Background(), acct, id)
	if err != nil {
		t.Fatal(err)
	}
	snap := contactSnapshot{Name: c.DisplayName, Fields: c.Fields.Map(), Identities: c.Identities, First: c.FirstContact}
	snap.First.At = snap.First.At.UTC()
	for _, e := range allEvents(t, s, acct, id) {
		if e.Kind != EventMerge {
			snap.Events = append(snap.Events, e.ID)
		}
	}
	return snap
}

func TestMergeThenUnmergeRestoresBothExactly(t *testing.T) {
	s, acct := newTestStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	a := mustResolve(t, s, acct, KindWhatsApp, "5511987654321", "Maria Silva")
	mustAppend(t, s, acct, inbound(a.ID, "whatsapp", "quero trocar o plano", "wamid.a1", t0))
	if _, err := s.UpdateFields(ctx, acct, a.ID, map[string]any{FieldNeed: "trocar plano", FieldStage: "customer"}, AuthorAI, nil); err != nil {
		t.Fatal(err)
	}
	b := mustResolve(t, s, acct, KindEmail, "maria@exemplo.com.br", "M. Silva")
	mustAppend(t, s, acct, inbound(b.ID, "email", "segue o comprovante", "<m1@exemplo.com.br>", t0.Add(time.Hour)))
	if _, err := s.UpdateFields(ctx, acct, b.ID, map[string]any{FieldNeed: "enviar comprovante", "plano": "ouro"}, AuthorAI, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChunkContact(ctx, acct, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChunkContact(ctx, acct, b.ID); err != nil {
		t.Fatal(err)
	}
	beforeA, beforeB := snapshotOf(t, s, acct, a.ID), snapshotOf(t, s, acct, b.ID)

	merged, err := s.Merge(ctx, acct, a.ID, b.ID, AuthorHuman, "same person")
	if err != nil {
		t.Fatal(err)
	}
	if got := merged.Contact.Fields.Need; got != "enviar comprovante" {
		t.Fatalf("newest value must win, need = %q", got)
	}
	if merged.Contact.Fields.Custom["plano"] != "ouro" || merged.Contact.Fields.Stage != "customer" {
		t.Fatalf("fields of both must be kept: %+v", merged.Contact.Fields)
	}
	var mergeEvent Event
	for _, e := range allEvents(t, s, acct, a.ID) {
		if e.Kind == EventMerge {
			mergeEvent = e
		}
	}
	var payload struct {
		Losing map[string]any `json:"losing_values"`
	}
	if err := json.Unmarshal(mergeEvent.Payload, &payload); err != nil || payload.Losing[FieldNeed] != "trocar plano" {
		t.Fatalf("merge event must keep the losing value: %s (%v)", mergeEvent.Payload, err)
	}
	hits, err := s.SearchHistory(ctx, acct, a.ID, "comprovante", 5)
	if err != nil || len(hits) == 0 {
		t.Fatalf("merged history must be searchable from the survivor: %v %v", hits, err)
	}

	if _, err := s.Unmerge(ctx, acct, b.ID, AuthorHuman); err != nil {
		t.Fatal(err)
	}
	afterA, afterB := snapshotOf(t, s, acct, a.ID), snapshotOf(t, s, acct, b.ID)
	if !reflect.DeepEqual(beforeA, afterA) {
		t.Errorf("survivor not restored:\nbefore %+v\nafter  %+v", beforeA, afterA)
	}
	if !reflect.DeepEqual(beforeB, afterB) {
		t.Errorf("merged contact not restored:\nbefore %+v\nafter  %+v", beforeB, afterB)
	}
	hits, _ = s.SearchHistory(ctx, acct, a.ID, "comprovante", 5)
	for _, h := range hits {
		if strings.Contains(h.Text, "comprovante") {
			t.Errorf("b's history still retrievable from a after unmerge: %v", h.Text)
		}
	}
	restored, _ := s.Contact(ctx, acct, b.ID)
	if restored.MergedInto != nil {
		t.Error("unmerged contact still points at the survivor")
	}
	// Merged contacts can merge again after an unmerge, and a contact cannot absorb itself.
	if _, err := s.Merge(ctx, acct, a.ID, a.ID, AuthorHuman, ""); err == nil {
		t.Error("self-merge accepted")
	}
}
