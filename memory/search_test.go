package memory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/internal/database"
)

// searchFixture is two accounts, where the other one has a contact with the
// same phone, the same name and the same words: none of it may ever show.
type searchFixture struct {
	s                           *Store
	acct, other                 uuid.UUID
	joao, maria, rita, outsider Contact
	promo, voice, photo         int64
}

func newSearchFixture(t *testing.T) searchFixture {
	t.Helper()
	ctx := context.Background()
	s, acct := newTestStore(t)
	other := newAccountIn(t, s, "globex")
	f := searchFixture{s: s, acct: acct, other: other}

	f.joao = mustResolve(t, s, acct, KindWhatsApp, "5511987654321", "João da Silva")
	for _, id := range []Identity{{KindEmail, "joao@exemplo.com.br"}, {KindCPF, "529.982.247-25"}} {
		if _, err := s.LinkIdentifier(ctx, acct, f.joao.ID, id.Kind, id.Value, AuthorHuman); err != nil {
			t.Fatalf("link %s: %v", id.Kind, err)
		}
	}
	if _, err := s.UpdateFields(ctx, acct, f.joao.ID, map[string]any{"pedido": "48213", "need": "troca do fone de ouvido"}, AuthorHuman, nil); err != nil {
		t.Fatal(err)
	}
	f.maria = mustResolve(t, s, acct, KindTelegram, "777", "Maria Souza")
	f.promo = mustAppend(t, s, acct, inbound(f.maria.ID, "telegram", "Oi! Vi a PROMOÇÃO do fone, ainda vale?", "m1", fixedTime)).Event.ID
	mustAppend(t, s, acct, inbound(f.maria.ID, "telegram", "<script>alert(1)</script> a promoção \uE000acabou\uE001 mesmo?", "m2", fixedTime.Add(time.Minute)))

	f.rita = mustResolve(t, s, acct, KindInstagram, "rita.ig", "Rita")
	f.voice = mustAppend(t, s, acct, Event{ContactID: f.rita.ID, Kind: EventMessage, Direction: DirectionIn, Author: AuthorContact,
		Channel: "instagram", Media: []Media{{Type: "audio", MIME: "audio/ogg"}}, OccurredAt: fixedTime.Add(2 * time.Minute)}).Event.ID
	f.photo = mustAppend(t, s, acct, Event{ContactID: f.rita.ID, Kind: EventMessage, Direction: DirectionIn, Author: AuthorContact,
		Channel: "instagram", Text: "segue", Media: []Media{{Type: "image", MIME: "image/jpeg"}}, OccurredAt: fixedTime.Add(3 * time.Minute)}).Event.ID
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := s.SetMediaWordsTx(ctx, tx, acct, f.voice, 0, MediaWords{Transcript: "quero cancelar a assinatura do plano anual"}); err != nil {
			return err
		}
		_, err := s.SetMediaWordsTx(ctx, tx, acct, f.photo, 0, MediaWords{Description: "um comprovante de pagamento Pix de R$ 120"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddNote(ctx, acct, f.rita.ID, AuthorHuman, "cliente pediu retorno às 14h sobre o cancelamento"); err != nil {
		t.Fatal(err)
	}

	f.outsider = mustResolve(t, s, other, KindWhatsApp, "5511987654321", "João Pereira")
	if _, err := s.LinkIdentifier(ctx, other, f.outsider.ID, KindCPF, "52998224725", AuthorHuman); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, other, inbound(f.outsider.ID, "whatsapp", "quero a promoção do fone e cancelar a assinatura; comprovante Pix", "o1", fixedTime))
	return f
}

func TestSearch(t *testing.T) {
	f := newSearchFixture(t)
	ctx := context.Background()
	type want struct {
		typ     HitType
		contact uuid.UUID
		match   string
		event   int64  // for event hits
		marked  string // a marked part of the snippet
	}
	cases := []struct {
		name, q string
		first   want
	}{
		{"accents and case never matter", "promocao ainda", want{HitEvent, f.maria.ID, MatchText, f.promo, "PROMOÇÃO"}},
		{"accented query, plain text", "PROMOÇÃO FONE", want{HitEvent, f.maria.ID, MatchText, f.promo, "PROMOÇÃO"}},
		{"phone as written in Brazil", "(11) 98765-4321", want{HitContact, f.joao.ID, MatchIdentifier, 0, "+5511987654321"}},
		{"phone as digits", "11987654321", want{HitContact, f.joao.ID, MatchIdentifier, 0, "+5511987654321"}},
		{"phone international", "+55 11 98765 4321", want{HitContact, f.joao.ID, MatchIdentifier, 0, "+5511987654321"}},
		{"phone without the area code", "98765-4321", want{HitContact, f.joao.ID, MatchIdentifier, 0, "+5511987654321"}},
		{"CPF with punctuation", "529.982.247-25", want{HitContact, f.joao.ID, MatchIdentifier, 0, "52998224725"}},
		{"CPF digits only", "52998224725", want{HitContact, f.joao.ID, MatchIdentifier, 0, "52998224725"}},
		{"e-mail in capitals", "JOAO@Exemplo.com.br", want{HitContact, f.joao.ID, MatchIdentifier, 0, "joao@exemplo.com.br"}},
		{"channel id", "rita.ig", want{HitContact, f.rita.ID, MatchIdentifier, 0, "rita.ig"}},
		{"name without accents", "joao silva", want{HitContact, f.joao.ID, MatchName, 0, "João"}},
		{"name prefix", "mari", want{HitContact, f.maria.ID, MatchName, 0, "Mari"}},
		{"field value", "48213", want{HitContact, f.joao.ID, MatchField, 0, "48213"}},
		{"a voice note's transcript", "cancelar assinatura", want{HitEvent, f.rita.ID, MatchTranscript, f.voice, "cancelar"}},
		{"an image's description", "comprovante pix", want{HitEvent, f.rita.ID, MatchDescription, f.photo, "comprovante"}},
		{"a note", "retorno 14h", want{HitEvent, f.rita.ID, MatchText, 0, "retorno"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page, err := f.s.Search(ctx, f.acct, tc.q, nil, 20)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Hits) == 0 {
				t.Fatalf("%q found nothing", tc.q)
			}
			for _, h := range page.Hits {
				if h.Contact.ID == f.outsider.ID {
					t.Fatalf("%q returned the other account's contact", tc.q)
				}
			}
			h := page.Hits[0]
			if h.Type != tc.first.typ || h.Contact.ID != tc.first.contact || h.Match != tc.first.match {
				t.Fatalf("%q: first hit %s %s (%s), want %s %s (%s); all: %s", tc.q, h.Type, h.Contact.DisplayName, h.Match,
					tc.first.typ, tc.first.contact, tc.first.match, describeHits(page.Hits))
			}
			if tc.first.event != 0 && (h.Event == nil || h.Event.ID != tc.first.event) {
				t.Fatalf("%q: first hit is event %+v, want %d", tc.q, h.Event, tc.first.event)
			}
			if h.Contact.DisplayName == "" {
				t.Fatalf("%q: the hit has no contact name", tc.q)
			}
			if !hasMark(h.Snippet, tc.first.marked) {
				t.Fatalf("%q: snippet %+v does not mark %q", tc.q, h.Snippet, tc.first.marked)
			}
		})
	}

	t.Run("another account's data is never returned", func(t *testing.T) {
		for _, q := range []string{"promoção", "11987654321", "52998224725", "joao", "cancelar assinatura", "comprovante pix"} {
			page, err := f.s.Search(ctx, f.other, q, nil, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Hits) == 0 {
				t.Fatalf("%q: the other account finds its own data", q)
			}
			for _, h := range page.Hits {
				if h.Contact.ID != f.outsider.ID {
					t.Fatalf("%q in the other account returned %s", q, h.Contact.DisplayName)
				}
			}
		}
	})

	t.Run("nothing to search for is refused", func(t *testing.T) {
		for _, q := range []string{"", "   ", "de a o", "?!", "-promoção"} {
			_, err := f.s.Search(ctx, f.acct, q, nil, 20)
			if !errors.Is(err, ErrEmptySearch) {
				t.Fatalf("%q: %v, want ErrEmptySearch", q, err)
			}
		}
	})

	t.Run("an exact identifier comes before the words", func(t *testing.T) {
		mustAppend(t, f.s, f.acct, inbound(f.maria.ID, "telegram", "o número do João é 11987654321", "m3", fixedTime.Add(time.Hour)))
		page, err := f.s.Search(ctx, f.acct, "11987654321", nil, 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Hits) != 2 || page.Hits[0].Contact.ID != f.joao.ID || page.Hits[1].Type != HitEvent || page.Hits[1].Contact.ID != f.maria.ID {
			t.Fatalf("hits: %s", describeHits(page.Hits))
		}
		if page.Hits[0].Identity == nil || page.Hits[0].Identity.Kind != KindPhone || len(page.Hits[0].Contact.Identities) != 3 {
			t.Fatalf("the contact hit names the identity and lists the identifiers: %+v", page.Hits[0])
		}
	})

	t.Run("marks cannot be faked", func(t *testing.T) {
		// the second message carries the sentinels around "acabou": they are
		// taken out, so only what the query matched is marked
		page, err := f.s.Search(ctx, f.acct, "promoção", nil, 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Hits) != 2 {
			t.Fatalf("hits: %s", describeHits(page.Hits))
		}
		for _, h := range page.Hits {
			for _, p := range h.Snippet {
				if p.Mark && strings.ToLower(p.Text) != "promoção" {
					t.Fatalf("marked %q", p.Text)
				}
				if strings.ContainsAny(p.Text, markStart+markStop) {
					t.Fatalf("a sentinel reached the snippet: %q", p.Text)
				}
			}
		}
		if !hasMark(page.Hits[0].Snippet, "promoção") || !strings.Contains(page.Hits[0].Snippet[len(page.Hits[0].Snippet)-1].Text, "acabou mesmo") {
			t.Fatalf("snippet %+v", page.Hits[0].Snippet)
		}
	})
}

// Pages follow each other without repeating or losing a hit, best first;
// equal ranks put the newest first.
func TestSearchPages(t *testing.T) {
	s, acct := newTestStore(t)
	ctx := context.Background()
	c := mustResolve(t, s, acct, KindTelegram, "900", "Boleto Cliente")
	for i := 0; i < 7; i++ {
		mustAppend(t, s, acct, inbound(c.ID, "telegram", "segunda via do boleto", fmt.Sprint(i), fixedTime.Add(time.Duration(i)*time.Minute)))
	}
	var all []SearchHit
	var cursor *SearchCursor
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pages never end")
		}
		page, err := s.Search(ctx, acct, "boleto", cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Hits...)
		if page.Next == nil {
			break
		}
		if cursor, err = ParseSearchCursor(page.Next.Encode()); err != nil {
			t.Fatal(err)
		}
	}
	if len(all) != 8 || all[0].Type != HitContact {
		t.Fatalf("the contact named Boleto, then 7 messages: %s", describeHits(all))
	}
	for i := 2; i < len(all); i++ {
		if !all[i].Event.OccurredAt.Before(all[i-1].Event.OccurredAt) {
			t.Fatalf("equal ranks, newest first: %s", describeHits(all))
		}
	}
	if _, err := ParseSearchCursor("nonsense"); !errors.Is(err, ErrBadCursor) {
		t.Fatalf("a cursor we did not hand out: %v", err)
	}
}

func hasMark(parts []SnippetPart, want string) bool {
	for _, p := range parts {
		if p.Mark && strings.Contains(p.Text, want) {
			return true
		}
	}
	return false
}

func describeHits(hits []SearchHit) string {
	var b strings.Builder
	for _, h := range hits {
		fmt.Fprintf(&b, "\n  %s %s %s rank=%.3f", h.Type, h.Contact.DisplayName, h.Match, h.Rank)
		if h.Event != nil {
			fmt.Fprintf(&b, " event=%d", h.Event.ID)
		}
		for _, p := range h.Snippet {
			if p.Mark {
				fmt.Fprintf(&b, " «%s»", p.Text)
			} else {
				b.WriteString(" " + p.Text)
			}
		}
	}
	return b.String()
}
