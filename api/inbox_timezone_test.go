package api

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/atende/atende/handoff"
	"github.com/atende/atende/memory"
)

// Times on the inbox are in the team's time zone: a team in Manaus reads
// its clock, an hour behind São Paulo's (issue 14).
func TestTheInboxShowsTheTeamsTime(t *testing.T) {
	s := newTestServer(t)
	tg := newTelegramAPI(t)
	card := inboxFixture(t, s, tg)
	ctx := context.Background()
	if err := s.handoffs.PutTeams(ctx, s.acctA, []handoff.Team{{Name: "suporte", Timezone: "America/Manaus", Members: []string{"ana@acme.com"}}}); err != nil {
		t.Fatal(err)
	}
	note, err := s.store.AddNote(ctx, s.acctA, card.ContactID, memory.AuthorHuman, "nota para ver a hora")
	if err != nil {
		t.Fatal(err)
	}
	client := inboxLogin(t, s, "acme", "ana@acme.com", "senha-da-ana-1")
	resp, err := client.Get(s.URL + "/inbox/handoffs/" + card.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	manaus, _ := time.LoadLocation("America/Manaus")
	want, wrong := note.OccurredAt.In(manaus).Format("02/01 15:04"), note.OccurredAt.In(saoPaulo).Format("02/01 15:04")
	page := string(raw)
	i := strings.Index(page, "nota para ver a hora")
	if i < 0 {
		t.Fatal("the note is not on the card")
	}
	item := page[strings.LastIndex(page[:i], "<li"):i]
	if !strings.Contains(item, want) || strings.Contains(item, wrong) {
		t.Fatalf("the note's time in Manaus is %s (São Paulo %s):\n%s", want, wrong, item)
	}
}
