package handoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

// An agent takes queued cards and acts on their own; a colleague's card is
// an admin's call — checked in the service, so the REST API obeys it too.
func TestAnAgentCannotActOnAColleaguesCard(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ana, bia := e.attendant(t, "ana@loja.com", 5), e.attendant(t, "bia@loja.com", 5)
	if err := e.svc.SetAvailable(ctx, e.acct, bia.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.PutTeams(ctx, e.acct, []Team{{Name: "suporte", Members: []string{"ana@loja.com", "bia@loja.com"}}}); err != nil {
		t.Fatal(err)
	}
	contact, conv := e.conversation(t, "300", "quero falar com alguém")
	card := e.open(t, contact, conv, Request{Reason: "asked_for_person", Team: "suporte", SLA: time.Hour})
	if card.OwnerID == nil || *card.OwnerID != ana.ID {
		t.Fatalf("ana owns the card: %+v", card)
	}
	forbidden := map[string]error{}
	_, forbidden["claim"] = e.svc.Claim(ctx, e.acct, card.ID, bia)
	_, forbidden["reassign"] = e.svc.Reassign(ctx, e.acct, card.ID, bia, &bia.ID)
	_, forbidden["reply"] = e.svc.Reply(ctx, e.acct, card.ID, bia, "oi, sou a Bia", nil)
	_, forbidden["handback"] = e.svc.HandBack(ctx, e.acct, card.ID, bia, "")
	for action, err := range forbidden {
		if !errors.Is(err, ErrForbidden) {
			t.Errorf("bia %s on ana's card: %v, want ErrForbidden", action, err)
		}
	}
	if got, _ := e.svc.Get(ctx, e.acct, card.ID); got.OwnerID == nil || *got.OwnerID != ana.ID || !isOpen(got) {
		t.Fatalf("the card is still ana's and open: %+v", got)
	}
	if _, err := e.svc.Note(ctx, e.acct, card.ID, bia, "cliente já ligou ontem"); err != nil {
		t.Fatalf("anyone may leave a note: %v", err)
	}
	admin := bia
	admin.Role = RoleAdmin
	if moved, err := e.svc.Claim(ctx, e.acct, card.ID, admin); err != nil || moved.OwnerID == nil || *moved.OwnerID != bia.ID {
		t.Fatalf("an admin takes a colleague's card: %+v %v", moved, err)
	}
	if _, err := e.svc.Reply(ctx, e.acct, card.ID, bia, "oi, sou a Bia", nil); err != nil {
		t.Fatalf("bia answers on her own card: %v", err)
	}
}

// The supervisor of the card's team may act on a colleague's card as an
// admin does; supervising another team gives no such right.
func TestTheTeamsSupervisorMayActOnAColleaguesCard(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ana, sueli, rui := e.attendant(t, "ana@loja.com", 5), e.attendant(t, "sueli@loja.com", 5), e.attendant(t, "rui@loja.com", 5)
	for _, a := range []Attendant{sueli, rui} {
		if err := e.svc.SetAvailable(ctx, e.acct, a.ID, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.PutTeams(ctx, e.acct, []Team{
		{Name: "suporte", Supervisor: "sueli@loja.com", Members: []string{"ana@loja.com", "sueli@loja.com"}},
		{Name: "vendas", Supervisor: "rui@loja.com", Members: []string{"rui@loja.com"}},
	}); err != nil {
		t.Fatal(err)
	}
	contact, conv := e.conversation(t, "301", "quero falar com alguém")
	card := e.open(t, contact, conv, Request{Reason: "asked_for_person", Team: "suporte", SLA: time.Hour})
	if card.OwnerID == nil || *card.OwnerID != ana.ID {
		t.Fatalf("ana owns the card: %+v", card)
	}
	if _, err := e.svc.Claim(ctx, e.acct, card.ID, rui); !errors.Is(err, ErrForbidden) {
		t.Fatalf("another team's supervisor claims the card: %v", err)
	}
	if moved, err := e.svc.Claim(ctx, e.acct, card.ID, sueli); err != nil || moved.OwnerID == nil || *moved.OwnerID != sueli.ID {
		t.Fatalf("the team's supervisor takes the card: %+v %v", moved, err)
	}
}

// The SLA clock starts when the customer asked, not when the card was made:
// a WhatsApp message 26 hours old is late, not "4:48 left".
func TestTheSLARunsFromTheCustomersMessage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.attendant(t, "ana@loja.com", 5)
	if err := e.svc.PutTeams(ctx, e.acct, []Team{{Name: "suporte", Members: []string{"ana@loja.com"}}}); err != nil {
		t.Fatal(err)
	}
	contact, conv := e.conversation(t, "302", "quero falar com alguém")
	asked := time.Now().Add(-26 * time.Hour)
	card := e.open(t, contact, conv, Request{Reason: "asked_for_person", Team: "suporte", SLA: 15 * time.Minute, WaitingSince: asked})
	if want := asked.Add(15 * time.Minute); card.SLADue.Sub(want).Abs() > time.Second {
		t.Fatalf("SLA due %v, want 15 minutes after the message (%v)", card.SLADue, want)
	}
	contact2, conv2 := e.conversation(t, "303", "quero falar com alguém")
	fresh := e.open(t, contact2, conv2, Request{Reason: "asked_for_person", Team: "suporte", SLA: 15 * time.Minute})
	if left := time.Until(fresh.SLADue); left < 14*time.Minute || left > 16*time.Minute {
		t.Fatalf("without the message's time the clock starts now: %v left", left)
	}
}
