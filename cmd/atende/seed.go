package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/demomonth"
	"github.com/atende/atende/knowledge"
	"github.com/atende/atende/memory"
)

// DemoAccountSlug names the account `make run` seeds.
const DemoAccountSlug = "demo"

func seed(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	key := fs.String("api-key", os.Getenv("ATENDE_DEMO_API_KEY"), "the demo account's API key (generated when empty)")
	month := fs.Bool("demo-month", false, "also generate a month of traffic (about 400 conversations over the last 30 days) for the reports; refused when done already")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := serverSettings()
	if err != nil {
		return err
	}
	app, err := newApp(ctx, log, s)
	if err != nil {
		return err
	}
	defer app.Pool.Close()
	acct, err := app.Accounts.Ensure(ctx, DemoAccountSlug, "Loja Demo")
	if err != nil {
		return err
	}
	if *key == "" {
		if *key, err = app.Accounts.NewKey(ctx, acct.ID, "demo"); err != nil {
			return err
		}
	} else if err := app.Accounts.AddKey(ctx, acct.ID, "demo", *key); err != nil {
		return err
	}
	contact, err := seedDemoContact(ctx, app.Memory, acct.ID)
	if err != nil {
		return err
	}
	if err := seedDemoKnowledge(ctx, app.Knowledge, acct.ID); err != nil {
		return err
	}
	if _, err := app.Memory.ChunkContact(ctx, acct.ID, contact); err != nil {
		return err
	}
	webchat, err := demoWebchat(ctx, app.Accounts, app.Channels)
	if errors.Is(err, channels.ErrNotFound) {
		webchat, err = app.Channels.Create(ctx, acct.ID, channels.NewChannel{Kind: channels.KindWebchat, Name: "Site"})
	}
	if err != nil {
		return fmt.Errorf("seed demo webchat: %w", err)
	}
	if err := seedDemoAttendant(ctx, app, acct.ID); err != nil {
		return err
	}
	if *month {
		res, err := demomonth.Generate(ctx, demomonth.Deps{Pool: app.Pool, Memory: app.Memory, Channels: app.Channels}, acct.ID,
			demomonth.Options{Seed: 14})
		switch {
		case errors.Is(err, demomonth.ErrAlreadySeeded):
			fmt.Println("demo month: already seeded in this account; nothing generated")
		case err != nil:
			return fmt.Errorf("seed the demo month: %w", err)
		default:
			fmt.Printf("demo month: %d customers, %d conversations, %d handoffs (%d past their SLA), %d CSAT answers; see /inbox/relatorios\n",
				res.Contacts, res.Conversations, res.Handoffs, res.Breaches, res.CSATAnswers)
		}
	}
	fmt.Printf("demo account: %s (%s)\ndemo api key: %s\ndemo contact: %s\ndemo webchat: %s\ndemo inbox login: empresa %s, %s / %s\n",
		acct.Name, acct.ID, *key, contact, webchat.ID, DemoAccountSlug, DemoAttendantEmail, DemoAttendantPassword)
	return nil
}

// The demo attendant the README gives for /inbox (a demo, not a secret).
const (
	DemoAttendantEmail    = "atendente@demo.atende.dev"
	DemoAttendantPassword = "atende-demo"
)

// seedDemoAttendant creates the demo attendant and, when the account has no
// teams yet, puts them in the three default teams so handoffs reach them.
func seedDemoAttendant(ctx context.Context, app *App, acct uuid.UUID) error {
	// Created once: a password changed since is never put back by the next
	// `make run`.
	_, err := app.Handoffs.AttendantByEmail(ctx, acct, DemoAttendantEmail)
	if errors.Is(err, handoff.ErrNotFound) {
		_, err = app.Handoffs.PutAttendant(ctx, acct, handoff.NewAttendant{Email: DemoAttendantEmail, Name: "Ana (demo)",
			Password: DemoAttendantPassword, Role: handoff.RoleAdmin, Capacity: 10})
	}
	if err != nil {
		return fmt.Errorf("seed demo attendant: %w", err)
	}
	has, err := app.Handoffs.HasTeams(ctx, acct)
	if err != nil || has {
		return err
	}
	var teams []handoff.Team
	for _, name := range []string{"vendas", "suporte", "financeiro"} {
		teams = append(teams, handoff.Team{Name: name, Members: []string{DemoAttendantEmail}, Supervisor: DemoAttendantEmail})
	}
	return app.Handoffs.PutTeams(ctx, acct, teams)
}

func seedDemoContact(ctx context.Context, store *memory.Store, acct uuid.UUID) (uuid.UUID, error) {
	res, err := store.CreateContact(ctx, acct, memory.NewContact{
		Name:       "Maria Silva",
		Identities: []memory.Identity{{Kind: memory.KindWhatsApp, Value: "5511987654321"}, {Kind: memory.KindEmail, Value: "maria.silva@exemplo.com.br"}},
		Channel:    "instagram", Origin: "anúncio de Instagram",
	})
	if err != nil {
		return uuid.Nil, fmt.Errorf("seed demo contact: %w", err)
	}
	t0 := time.Date(2026, 10, 6, 14, 0, 0, 0, time.UTC)
	msg := func(i int, channel string, dir memory.Direction, who memory.Author, text string) memory.Event {
		return memory.Event{Kind: memory.EventMessage, Channel: channel, Direction: dir, Author: who, Text: text,
			ExternalID: fmt.Sprintf("demo-%d", i), OccurredAt: t0.Add(time.Duration(i) * 17 * time.Hour)}
	}
	in, out := memory.DirectionIn, memory.DirectionOut
	_, err = store.Import(ctx, acct, res.Contact.ID, []memory.Event{
		msg(1, "instagram", in, memory.AuthorContact, "oi! vi a cafeteira no story, ainda tem?"),
		msg(2, "instagram", out, memory.AuthorAI, "Tem sim! A Cafeteira Expresso Pro sai por R$ 899 no pix."),
		msg(3, "whatsapp", in, memory.AuthorContact, "comprei ontem, meu pedido é o 48213"),
		msg(4, "whatsapp", out, memory.AuthorAI, "Obrigado, Maria! O pedido 48213 sai amanhã."),
		msg(5, "email", in, memory.AuthorContact, "O pedido 48213 chegou, mas a jarra veio trincada. Segue foto."),
		msg(6, "email", out, memory.AuthorHuman, "Sinto muito, Maria. Vamos enviar uma jarra nova sem custo."),
	})
	if err != nil {
		return uuid.Nil, fmt.Errorf("seed demo history: %w", err)
	}
	return res.Contact.ID, nil
}

func seedDemoKnowledge(ctx context.Context, store *knowledge.Store, acct uuid.UUID) error {
	for _, k := range []knowledge.Article{
		{Sector: "sales", Title: "Formas de pagamento", Body: "Aceitamos pix (5% de desconto), cartão em até 10x sem juros e boleto."},
		{Sector: "sales", Title: "Prazo de entrega", Body: "Capitais do Sudeste: 2 a 4 dias úteis. Demais regiões: 5 a 9 dias úteis."},
		{Sector: "support", Title: "Produto com defeito ou avaria", Body: "Produto que chegou quebrado ou com defeito é trocado sem custo em até 7 dias após o recebimento; a coleta é agendada pela nossa equipe."},
		{Sector: "support", Title: "Garantia", Body: "Todos os produtos têm 12 meses de garantia de fábrica."},
		{Sector: "billing", Title: "Segunda via de boleto", Body: "A 2ª via do boleto é emitida com o CPF do titular e vale por 3 dias."},
		{Sector: "billing", Title: "Reembolso", Body: "Reembolsos no cartão aparecem em até 2 faturas; no pix, em até 2 dias úteis."},
	} {
		if _, err := store.Upsert(ctx, acct, k); err != nil {
			return fmt.Errorf("seed knowledge: %w", err)
		}
	}
	return nil
}
