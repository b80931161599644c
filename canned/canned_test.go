package canned

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/testdb"
)

// Responses are the account's: a shortcut is unique in it whatever its case,
// another account may use the same one and never sees, changes or deletes
// the first's; a list for a channel has that kind's and the all-channel ones.
func TestStoreIsPerAccount(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	a, b := testdb.NewAccount(t, pool, "acme"), testdb.NewAccount(t, pool, "globex")
	s := NewStore(pool)
	boleto, err := s.Create(ctx, a, Input{Shortcut: "/Boleto", Text: "  Olá, {{primeiro_nome}}! Segue o boleto.  ", By: "ana@acme.com"})
	if err != nil {
		t.Fatal(err)
	}
	if boleto.Shortcut != "Boleto" || boleto.Title != "Boleto" || boleto.Text != "Olá, {{primeiro_nome}}! Segue o boleto." ||
		boleto.CreatedBy != "ana@acme.com" || boleto.UpdatedBy != "ana@acme.com" || boleto.Channel != "" {
		t.Fatalf("created: %+v", boleto)
	}
	if _, err := s.Create(ctx, a, Input{Shortcut: "boleto", Text: "outro"}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("the same shortcut in another case: %v", err)
	}
	if _, err := s.Create(ctx, b, Input{Shortcut: "boleto", Text: "da globex"}); err != nil {
		t.Fatalf("another account's shortcut: %v", err)
	}
	pix, err := s.Create(ctx, a, Input{Shortcut: "pix", Title: "Chave Pix", Text: "A chave é **loja@acme.com**", Channel: channels.KindWhatsApp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, a, Input{Shortcut: "fatura-email", Text: "Segue a fatura", Channel: "email"}); err != nil {
		t.Fatal(err)
	}
	shortcuts := func(kind channels.Kind) string {
		list, err := s.List(ctx, a, kind)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range list {
			out = append(out, r.Shortcut)
		}
		return strings.Join(out, ",")
	}
	if got := shortcuts(""); got != "Boleto,fatura-email,pix" {
		t.Errorf("all: %s", got)
	}
	if got := shortcuts(channels.KindWhatsApp); got != "Boleto,pix" {
		t.Errorf("whatsapp: %s", got)
	}
	if got := shortcuts(channels.KindTelegram); got != "Boleto" {
		t.Errorf("telegram: %s", got)
	}

	// Another account's id is not found, whatever is done with it.
	if _, err := s.Get(ctx, b, pix.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("get from another account: %v", err)
	}
	if _, err := s.Update(ctx, b, pix.ID, Input{Shortcut: "pix", Text: "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update from another account: %v", err)
	}
	if err := s.Delete(ctx, b, pix.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete from another account: %v", err)
	}

	// Update: renaming onto a taken shortcut is refused; keeping one's own is not.
	if _, err := s.Update(ctx, a, pix.ID, Input{Shortcut: "BOLETO", Text: "x"}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("rename onto a taken shortcut: %v", err)
	}
	up, err := s.Update(ctx, a, pix.ID, Input{Shortcut: "PIX", Title: "Pix", Text: "Chave: loja@acme.com", By: "bia@acme.com"})
	if err != nil {
		t.Fatal(err)
	}
	if up.Shortcut != "PIX" || up.Channel != "" || up.CreatedBy != "" || up.UpdatedBy != "bia@acme.com" || !up.UpdatedAt.After(pix.UpdatedAt) && !up.UpdatedAt.Equal(pix.UpdatedAt) {
		t.Errorf("updated: %+v", up)
	}
	if got, _ := s.Get(ctx, a, pix.ID); got.Text != "Chave: loja@acme.com" {
		t.Errorf("read back: %+v", got)
	}
	if err := s.Delete(ctx, a, pix.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, a, pix.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if _, err := s.Get(ctx, a, uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}

// Bad input is refused with what is wrong.
func TestStoreValidates(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	a := testdb.NewAccount(t, pool, "acme")
	s := NewStore(pool)
	for _, c := range []struct {
		in   Input
		want string
	}{
		{Input{Text: "x"}, "shortcut is required"},
		{Input{Shortcut: "segunda via", Text: "x"}, "no spaces"},
		{Input{Shortcut: "cartão", Text: "x"}, "no spaces or accents"},
		{Input{Shortcut: "-x", Text: "x"}, "starting with a letter or digit"},
		{Input{Shortcut: strings.Repeat("a", MaxShortcut+1), Text: "x"}, "up to 40"},
		{Input{Shortcut: "ok", Text: "   "}, "text is empty"},
		{Input{Shortcut: "ok", Text: strings.Repeat("é", MaxText+1)}, "at most 4096"},
		{Input{Shortcut: "ok", Text: "x", Title: strings.Repeat("t", MaxTitle+1)}, "title has 201"},
		{Input{Shortcut: "ok", Text: "x", Channel: "fax"}, `unknown channel kind "fax" (whatsapp, evolution`},
	} {
		_, err := s.Create(ctx, a, c.in)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.in.Shortcut, err, c.want)
		}
	}
	// Channel kinds are read without regard to case.
	if r, err := s.Create(ctx, a, Input{Shortcut: "ok", Text: "x", Channel: " WhatsApp "}); err != nil || r.Channel != channels.KindWhatsApp {
		t.Fatalf("kind in capitals: %+v %v", r, err)
	}
}

// A duplicate inside the caller's transaction leaves it usable: nothing is
// inserted and the caller's other writes commit.
func TestCreateTxDuplicateKeepsTheTransaction(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	a := testdb.NewAccount(t, pool, "acme")
	s := NewStore(pool)
	err := database.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := s.CreateTx(ctx, tx, a, Input{Shortcut: "oi", Text: "Olá!"}); err != nil {
			return err
		}
		if _, err := s.CreateTx(ctx, tx, a, Input{Shortcut: "OI", Text: "Olá de novo"}); !errors.Is(err, ErrDuplicate) {
			t.Errorf("duplicate: %v", err)
		}
		_, err := s.CreateTx(ctx, tx, a, Input{Shortcut: "tchau", Text: "Até logo!"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(ctx, a, ""); len(list) != 2 {
		t.Fatalf("committed: %+v", list)
	}
}
