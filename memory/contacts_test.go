package memory

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestWhatsAppNumberWithAndWithoutNinthDigitIsOneContact(t *testing.T) {
	s, acct := newTestStore(t)
	first := mustResolve(t, s, acct, KindWhatsApp, "551187654321", "Rodrigo")
	second := mustResolve(t, s, acct, KindWhatsApp, "5511987654321", "Rodrigo Alves")
	if first.ID != second.ID {
		t.Fatalf("two contacts for one number: %s and %s", first.ID, second.ID)
	}
	if len(second.Identities) != 1 || second.Identities[0].String() != "phone:+5511987654321" {
		t.Fatalf("identities = %v, want only phone:+5511987654321", second.Identities)
	}
	if second.Fields.Phone != "+5511987654321" {
		t.Fatalf("phone field = %q", second.Fields.Phone)
	}
	if _, err := s.FindByIdentity(context.Background(), acct, Identity{KindPhone, "+551187654321"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the eight-digit form must not be an identity of its own, got %v", err)
	}
	if second.DisplayName != "Rodrigo" {
		t.Fatalf("a later profile name must not rename the contact: %q", second.DisplayName)
	}
}

func TestSameFirstNameOnDifferentNumbersIsTwoContacts(t *testing.T) {
	s, acct := newTestStore(t)
	a := mustResolve(t, s, acct, KindWhatsApp, "5511976543218", "Ana")
	b := mustResolve(t, s, acct, KindWhatsApp, "5571987456123", "Ana")
	if a.ID == b.ID {
		t.Fatal("two people named Ana were merged by name")
	}
	found, err := s.SearchByName(context.Background(), acct, "ana", 10)
	if err != nil || len(found) != 2 {
		t.Fatalf("search by name: %d contacts, %v", len(found), err)
	}
}

func TestInvalidCPFIsRefusedAndNeverStored(t *testing.T) {
	s, acct := newTestStore(t)
	ctx := context.Background()
	c := mustResolve(t, s, acct, KindTelegram, "99887766", "Marcos")
	_, err := s.LinkIdentifier(ctx, acct, c.ID, KindCPF, "391.781.654-83", AuthorContact)
	var ie *InvalidIdentifierError
	if !errors.As(err, &ie) || ie.Reason != "CPF check digits do not match" {
		t.Fatalf("want the check-digit reason, got %v", err)
	}
	if _, err := s.UpdateFields(ctx, acct, c.ID, map[string]any{FieldCPF: "39178165483"}, AuthorAI, nil); !errors.Is(err, ErrInvalidIdentifier) {
		t.Fatalf("an invalid CPF must not become a field either, got %v", err)
	}
	got, err := s.Contact(ctx, acct, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fields.CPF != "" || len(got.Identities) != 1 {
		t.Fatalf("invalid CPF stored: fields %+v identities %v", got.Fields, got.Identities)
	}
	res, err := s.LinkIdentifier(ctx, acct, c.ID, KindCPF, "391.781.645-83", AuthorContact)
	if err != nil || res.Contact.Fields.CPF != "39178164583" {
		t.Fatalf("valid CPF: %+v, %v", res.Contact.Fields, err)
	}
}

func TestInstagramThenWhatsAppWithTheSameEmailBecomeOneContact(t *testing.T) {
	s, acct := newTestStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ig := mustResolve(t, s, acct, KindInstagram, "17841402938475610", "nanda.oliveira")
	mustAppend(t, s, acct, inbound(ig.ID, "instagram", "oi, vi o tênis no story, tem 38?", "ig-1", t0))
	mustAppend(t, s, acct, inbound(ig.ID, "instagram", "meu email é Fernanda.Lopes@Exemplo.com.br", "ig-2", t0.Add(2*time.Minute)))
	if _, err := s.LinkIdentifier(ctx, acct, ig.ID, KindEmail, "Fernanda.Lopes@Exemplo.com.br", AuthorAI); err != nil {
		t.Fatal(err)
	}
	wa := mustResolve(t, s, acct, KindWhatsApp, "5511973214567", "Fernanda Lopes")
	mustAppend(t, s, acct, inbound(wa.ID, "whatsapp", "boa tarde, comprei o tênis ontem", "wamid.1", t0.Add(24*time.Hour)))
	mustAppend(t, s, acct, inbound(wa.ID, "whatsapp", "fernanda.lopes@exemplo.com.br", "wamid.2", t0.Add(24*time.Hour+time.Minute)))
	res, err := s.LinkIdentifier(ctx, acct, wa.ID, KindEmail, "fernanda.lopes@exemplo.com.br", AuthorAI)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Merged || res.Contact.ID != ig.ID {
		t.Fatalf("want a merge into the older Instagram contact, got merged=%v survivor=%s", res.Merged, res.Contact.ID)
	}
	ids := map[string]bool{}
	for _, id := range res.Contact.Identities {
		ids[id.String()] = true
	}
	for _, want := range []string{"instagram:17841402938475610", "phone:+5511973214567", "email:fernanda.lopes@exemplo.com.br"} {
		if !ids[want] {
			t.Errorf("survivor lacks %s: %v", want, res.Contact.Identities)
		}
	}
	var messages []string
	var merges int
	for _, e := range allEvents(t, s, acct, ig.ID) {
		switch e.Kind {
		case EventMessage:
			messages = append(messages, e.Channel+":"+e.ExternalID)
		case EventMerge:
			merges++
		}
	}
	want := []string{"instagram:ig-1", "instagram:ig-2", "whatsapp:wamid.1", "whatsapp:wamid.2"}
	if len(messages) != len(want) {
		t.Fatalf("timeline messages = %v, want %v", messages, want)
	}
	for i := range want {
		if messages[i] != want[i] {
			t.Fatalf("timeline messages = %v, want %v", messages, want)
		}
	}
	if merges != 1 {
		t.Fatalf("want one merge event on the timeline, got %d", merges)
	}
	gone, err := s.Contact(ctx, acct, wa.ID)
	if err != nil || gone.MergedInto == nil || *gone.MergedInto != ig.ID {
		t.Fatalf("merged contact must point at the survivor: %+v %v", gone.MergedInto, err)
	}
}

func TestDuplicateExternalIDIsStoredOnce(t *testing.T) {
	s, acct := newTestStore(t)
	c := mustResolve(t, s, acct, KindWhatsApp, "5511987654321", "Maria")
	e := inbound(c.ID, "whatsapp", "oi", "wamid.HBgN", time.Now())
	first := mustAppend(t, s, acct, e)
	again := mustAppend(t, s, acct, e)
	if first.Duplicate || !again.Duplicate || again.Event.ID != first.Event.ID {
		t.Fatalf("first dup=%v, retry dup=%v, ids %d/%d", first.Duplicate, again.Duplicate, first.Event.ID, again.Event.ID)
	}
	// The same id on another channel is another message.
	other := e
	other.Channel = "telegram"
	if mustAppend(t, s, acct, other).Duplicate {
		t.Fatal("external ids are unique per channel, not globally")
	}
	var messages int
	for _, ev := range allEvents(t, s, acct, c.ID) {
		if ev.Kind == EventMessage {
			messages++
		}
	}
	if messages != 2 {
		t.Fatalf("want 2 messages, got %d", messages)
	}
}

func TestFieldChangesAreEventsWithWhoAndWhy(t *testing.T) {
	s, acct := newTestStore(t)
	ctx := context.Background()
	c := mustResolve(t, s, acct, KindWebchat, "visitor-1", "")
	msg := mustAppend(t, s, acct, inbound(c.ID, "webchat", "quero um orçamento de 10 cadeiras", "", time.Now()))
	changes, err := s.UpdateFields(ctx, acct, c.ID, map[string]any{FieldNeed: "orçamento de 10 cadeiras", FieldStage: "lead", "cadeiras": 10}, AuthorAI, &msg.Event.ID)
	if err != nil || len(changes) != 3 {
		t.Fatalf("changes %v, %v", changes, err)
	}
	if again, err := s.UpdateFields(ctx, acct, c.ID, map[string]any{FieldStage: "lead"}, AuthorAI, nil); err != nil || len(again) != 0 {
		t.Fatalf("an unchanged value must write nothing: %v %v", again, err)
	}
	if _, err := s.UpdateFields(ctx, acct, c.ID, map[string]any{FieldStage: "customer"}, AuthorHuman, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Contact(ctx, acct, c.ID)
	if got.Stage != "customer" || got.Fields.Custom["cadeiras"] != float64(10) {
		t.Fatalf("fields = %+v", got.Fields)
	}
	var stageChanges []FieldChange
	for _, e := range allEvents(t, s, acct, c.ID) {
		if e.Kind != EventFieldChange {
			continue
		}
		var ch FieldChange
		if err := json.Unmarshal(e.Payload, &ch); err != nil {
			t.Fatal(err)
		}
		if ch.Field == FieldStage {
			stageChanges = append(stageChanges, ch)
		}
	}
	if len(stageChanges) != 2 {
		t.Fatalf("want 2 stage changes, got %+v", stageChanges)
	}
	if stageChanges[0].By != AuthorAI || stageChanges[0].Old != nil || stageChanges[0].New != "lead" ||
		stageChanges[0].SourceEventID == nil || *stageChanges[0].SourceEventID != msg.Event.ID {
		t.Fatalf("first change = %+v", stageChanges[0])
	}
	if stageChanges[1].By != AuthorHuman || stageChanges[1].Old != "lead" || stageChanges[1].New != "customer" {
		t.Fatalf("second change = %+v", stageChanges[1])
	}
	if _, err := s.UpdateFields(ctx, acct, c.ID, map[string]any{"Bad Key": 1}, AuthorAI, nil); !errors.Is(err, ErrInvalidEvent) {
		t.Fatalf("bad custom key: %v", err)
	}
}

func TestAnotherAccountSeesNothing(t *testing.T) {
	s, acct := newTestStore(t)
	ctx := context.Background()
	c := mustResolve(t, s, acct, KindWhatsApp, "5511987654321", "Maria")
	otherAcct := newAccountIn(t, s, "globex")
	if _, err := s.Contact(ctx, otherAcct, c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("contact of another account: %v", err)
	}
	if _, err := s.Timeline(ctx, otherAcct, c.ID, nil, 10); !errors.Is(err, ErrNotFound) {
		t.Fatalf("timeline of another account: %v", err)
	}
	if _, err := s.FindByIdentity(ctx, otherAcct, Identity{KindPhone, "+5511987654321"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("identity of another account: %v", err)
	}
	err := s.testTx(ctx, func(tx *txn) error {
		_, err := tx.Append(ctx, otherAcct, inbound(c.ID, "whatsapp", "x", "", time.Now()))
		return err
	})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("append to another account's contact: %v", err)
	}
	// The same number in the other account is a different contact.
	theirs := mustResolve(t, s, otherAcct, KindWhatsApp, "5511987654321", "Maria")
	if theirs.ID == c.ID {
		t.Fatal("accounts share a contact")
	}
}

func TestTimelinePagesInTimeOrderAcrossChannels(t *testing.T) {
	s, acct := newTestStore(t)
	c := mustResolve(t, s, acct, KindWhatsApp, "5511987654321", "Maria")
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	channels := []string{"whatsapp", "email", "instagram"}
	// Appended out of order: the timeline orders by when things happened.
	for i := 9; i >= 0; i-- {
		mustAppend(t, s, acct, inbound(c.ID, channels[i%3], "mensagem", "", t0.Add(time.Duration(i)*time.Minute)))
	}
	var got []time.Time
	var cursor *Cursor
	pages := 0
	for {
		page, err := s.Timeline(context.Background(), acct, c.ID, cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range page.Events {
			got = append(got, e.OccurredAt)
		}
		if page.Next == nil {
			break
		}
		parsed, err := ParseCursor(page.Next.Encode())
		if err != nil {
			t.Fatal(err)
		}
		cursor = parsed
	}
	if len(got) != 11 || pages != 4 { // 10 messages + the phone field filled at creation
		t.Fatalf("got %d events in %d pages", len(got), pages)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Before(got[i-1]) {
			t.Fatalf("out of order at %d: %v", i, got)
		}
	}
	if _, err := ParseCursor("not-a-cursor!"); !errors.Is(err, ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}
