// Package demomonth generates a plausible month of traffic for an account —
// customers on several channels and sectors, the AI's decisions and
// answers, handoffs answered within and past their SLA, transfers between
// sectors, resolutions, CSAT — so that reports have something to show
// (`atende seed -demo-month`) and their tests a fixture.
//
// It writes through the real stores with simulated times: memory's
// AppendUnchunkedTx with each event's occurred_at, conversations' TouchTx
// and SetTx, and a handoff.Service whose clock is set to each moment
// (Open, CheckSLA, HumanReplied, Resolve, RequestCSATTx, RecordCSAT). The
// handoff service gets a job inserter that drops jobs: no SLA timer or
// delivery is scheduled for the past. The one thing those stores stamp with
// the database's now() — a resolved conversation's resolved_at — is moved
// to the simulated time afterwards with one UPDATE.
// Messages carry no channel instance, so nothing is ever sent.
//
// The same seed and end give the same month. Running it twice is refused:
// the first generated customer's e-mail marks an account as done.
package demomonth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/conversations"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
)

// ErrAlreadySeeded is returned when the account has its demo month already.
var ErrAlreadySeeded = errors.New("the demo month is already seeded in this account")

// Options shape the month.
type Options struct {
	Seed          uint64
	End           time.Time // the last moment of the month (default now)
	Days          int       // default 30
	Conversations int       // default 400
	// Teams by sector: the handoffs' teams (default sales→vendas,
	// support→suporte, billing→financeiro, the demo account's).
	Teams map[string]string
}

// Deps are the stores it writes through.
type Deps struct {
	Pool     *pgxpool.Pool
	Memory   *memory.Store
	Channels *channels.Store
}

// Result says what was made.
type Result struct {
	Contacts, Conversations, Handoffs, Breaches, CSATAnswers int
}

var (
	channelKinds = []string{"whatsapp", "whatsapp", "whatsapp", "instagram", "webchat", "email", "telegram"}
	sectors      = []string{"sales", "sales", "support", "support", "billing"}
	reasons      = []string{"asked_for_person", "asked_for_person", "low_confidence", "failed_answers", "sector_policy", "frustration"}
	firstNames   = []string{"Maria", "João", "Ana", "Pedro", "Juliana", "Lucas", "Fernanda", "Rafael", "Camila", "Bruno", "Larissa", "Diego"}
	lastNames    = []string{"Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Costa", "Rodrigues", "Almeida", "Nascimento"}
	questions    = map[string][]string{
		"sales":   {"quanto custa a cafeteira expresso?", "tem a fritadeira em estoque?", "qual o prazo de entrega para Recife?", "aceitam pix?"},
		"support": {"meu pedido chegou com defeito", "a cafeteira não liga mais", "como faço a troca?", "meu pedido está atrasado"},
		"billing": {"preciso da segunda via do boleto", "fui cobrado duas vezes", "quando cai o reembolso?", "o pix não foi reconhecido"},
	}
	answers = map[string]string{"sales": "Temos sim! Sai por R$ 899 no pix, com entrega em 2 a 4 dias úteis.",
		"support": "Sinto muito! Produto com defeito é trocado sem custo em até 7 dias; vou agendar a coleta.",
		"billing": "A 2ª via do boleto é emitida com o CPF do titular e vale por 3 dias."}
)

type plan struct {
	contact   int
	start     time.Time
	channel   string
	sector    string
	transfer  string // the sector it moves to, or ""
	handoff   string // the reason, or ""
	slaMiss   bool
	csatAsked bool
	score     int // 0: no answer
	resolve   bool
	turns     int
}

// dropJobs is a job inserter that schedules nothing: the month is in the past.
type dropJobs struct{}

func (dropJobs) InsertTx(context.Context, pgx.Tx, river.JobArgs, *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return &rivertype.JobInsertResult{}, nil
}

// MarkerEmail is the first generated customer's e-mail: its presence means done.
func MarkerEmail(seed uint64) string {
	return fmt.Sprintf("cliente-%d-000@demo-month.atende.dev", seed)
}

// Generate makes the month in the account.
func Generate(ctx context.Context, d Deps, accountID uuid.UUID, o Options) (Result, error) {
	if o.End.IsZero() {
		o.End = time.Now()
	}
	if o.Days <= 0 {
		o.Days = 30
	}
	if o.Conversations <= 0 {
		o.Conversations = 400
	}
	if o.Teams == nil {
		o.Teams = map[string]string{"sales": "vendas", "support": "suporte", "billing": "financeiro"}
	}
	var res Result
	if _, err := d.Memory.FindByIdentity(ctx, accountID, memory.Identity{Kind: memory.KindEmail, Value: MarkerEmail(o.Seed)}); err == nil {
		return res, ErrAlreadySeeded
	} else if !errors.Is(err, memory.ErrNotFound) {
		return res, err
	}
	rng := rand.New(rand.NewPCG(o.Seed, 14))
	nContacts := max(1, o.Conversations*2/3)
	contacts := make([]uuid.UUID, nContacts)
	begin := o.End.Add(-time.Duration(o.Days) * 24 * time.Hour)
	for i := range contacts {
		name := firstNames[rng.IntN(len(firstNames))] + " " + lastNames[rng.IntN(len(lastNames))]
		c, err := d.Memory.CreateContact(ctx, accountID, memory.NewContact{Name: name,
			Identities: []memory.Identity{{Kind: memory.KindEmail, Value: fmt.Sprintf("cliente-%d-%03d@demo-month.atende.dev", o.Seed, i)}},
			Channel:    "whatsapp", Origin: "demo month"})
		if err != nil {
			return res, fmt.Errorf("demo month contact: %w", err)
		}
		contacts[i] = c.Contact.ID
	}
	res.Contacts = nContacts
	plans := make([]plan, o.Conversations)
	for i := range plans {
		p := plan{contact: rng.IntN(nContacts), channel: channelKinds[rng.IntN(len(channelKinds))], sector: sectors[rng.IntN(len(sectors))],
			turns: 1 + rng.IntN(3)}
		// the last 6 hours stay quiet: every conversation is over by End
		p.start = begin.Add(time.Duration(rng.Int64N(int64(time.Duration(o.Days)*24*time.Hour - 6*time.Hour)))).Truncate(time.Second)
		if rng.IntN(100) < 8 {
			p.transfer = sectors[rng.IntN(len(sectors))]
			if p.transfer == p.sector {
				p.transfer = ""
			}
		}
		if rng.IntN(100) < 35 {
			p.handoff = reasons[rng.IntN(len(reasons))]
			p.slaMiss = rng.IntN(100) < 30
			p.resolve = true
			p.csatAsked = rng.IntN(100) < 85
		} else {
			p.resolve = rng.IntN(100) < 70
			p.csatAsked = p.resolve && rng.IntN(100) < 30
		}
		if p.csatAsked && rng.IntN(100) < 65 {
			p.score = []int{1, 2, 3, 4, 4, 5, 5, 5, 5, 5}[rng.IntN(10)]
		}
		plans[i] = p
	}
	sort.SliceStable(plans, func(i, j int) bool { return plans[i].start.Before(plans[j].start) })
	// One open conversation per contact: a contact's conversation that is
	// not resolved must be their last one, and nothing may overlap.
	last := map[int]int{}
	busyUntil := map[int]time.Time{}
	for i := range plans {
		last[plans[i].contact] = i
	}
	for i := range plans {
		if last[plans[i].contact] != i {
			plans[i].resolve = true
		}
	}
	var clock time.Time
	svc := handoff.NewService(d.Pool, d.Memory, d.Channels, nil, dropJobs{}, nil, nil)
	svc.SetClock(func() time.Time { return clock })
	convStore := conversations.NewStore(d.Pool)
	for i, p := range plans {
		if b, ok := busyUntil[p.contact]; ok && !p.start.After(b) {
			p.start = b.Add(time.Duration(1+rng.IntN(120)) * time.Minute)
		}
		if !p.start.Before(o.End) {
			continue
		}
		end, breached, err := run(ctx, d, svc, convStore, &clock, accountID, contacts[p.contact], p, rng, i, o)
		if err != nil {
			return res, err
		}
		busyUntil[p.contact] = end
		res.Conversations++
		if p.handoff != "" {
			res.Handoffs++
		}
		if breached {
			res.Breaches++
		}
		if p.score > 0 {
			res.CSATAnswers++
		}
	}
	return res, nil
}

// run plays one conversation and returns when it ended.
func run(ctx context.Context, d Deps, svc *handoff.Service, convStore *conversations.Store, clock *time.Time, accountID, contact uuid.UUID,
	p plan, rng *rand.Rand, n int, o Options) (time.Time, bool, error) {
	t := p.start
	var conv conversations.Conversation
	ext := 0
	appendEv := func(tx pgx.Tx, e memory.Event) error {
		e.ContactID, e.ConversationID, e.OccurredAt = contact, &conv.ID, t
		if e.Kind == memory.EventMessage {
			e.Channel = p.channel
			ext++
			e.ExternalID = fmt.Sprintf("demo-month-%d-%d-%d", o.Seed, n, ext)
		}
		_, err := d.Memory.AppendUnchunkedTx(ctx, tx, accountID, e)
		return err
	}
	customer := func(text string) error {
		return database.InTx(ctx, d.Pool, func(tx pgx.Tx) error {
			var err error
			if conv, err = convStore.TouchTx(ctx, tx, accountID, contact, p.channel, t); err != nil {
				return err
			}
			return appendEv(tx, memory.Event{Kind: memory.EventMessage, Direction: memory.DirectionIn, Author: memory.AuthorContact, Text: text})
		})
	}
	decision := func(tx pgx.Tx, sector, from, reason string) error {
		kind := memory.EventAction
		if reason != "" {
			kind = memory.EventHandoff
		}
		payload, _ := json.Marshal(map[string]any{"sector": sector, "confidence": 0.55 + rng.Float64()*0.44, "engine": "offline",
			"answered": reason == "", "transfer_from": from, "handoff": reason})
		return appendEv(tx, memory.Event{Kind: kind, Direction: memory.DirectionInternal, Author: memory.AuthorAI,
			Text: "decisão do assistente", Payload: payload, PromptVersion: "offline-v1"})
	}
	sector := p.sector
	qs := questions[sector]
	if err := customer(qs[rng.IntN(len(qs))]); err != nil {
		return t, false, err
	}
	waiting := t
	for turn := 0; turn < p.turns; turn++ {
		if turn > 0 {
			t = t.Add(time.Duration(20+rng.IntN(600)) * time.Second)
			from := ""
			if turn == 1 && p.transfer != "" {
				from, sector = sector, p.transfer
			}
			qs := questions[sector]
			if err := customer(qs[rng.IntN(len(qs))]); err != nil {
				return t, false, err
			}
			waiting = t
			if from != "" {
				if err := database.InTx(ctx, d.Pool, func(tx pgx.Tx) error { return decision(tx, sector, from, "") }); err != nil {
					return t, false, err
				}
			}
		}
		if p.handoff != "" && turn == p.turns-1 {
			break // the last message is answered by a person
		}
		t = t.Add(time.Duration(2+rng.IntN(40)) * time.Second)
		err := database.InTx(ctx, d.Pool, func(tx pgx.Tx) error {
			if turn == 0 {
				if err := decision(tx, sector, "", ""); err != nil {
					return err
				}
			}
			if err := convStore.SetTx(ctx, tx, accountID, conv.ID, sector, conversations.StatusBot); err != nil {
				return err
			}
			return appendEv(tx, memory.Event{Kind: memory.EventMessage, Direction: memory.DirectionOut, Author: memory.AuthorAI, Text: answers[sector]})
		})
		if err != nil {
			return t, false, err
		}
	}
	breached := false
	if p.handoff != "" {
		t = t.Add(time.Duration(1+rng.IntN(5)) * time.Second)
		*clock = t
		var h handoff.Handoff
		err := database.InTx(ctx, d.Pool, func(tx pgx.Tx) error {
			if err := convStore.SetTx(ctx, tx, accountID, conv.ID, sector, conversations.StatusBot); err != nil {
				return err
			}
			if err := decision(tx, sector, "", p.handoff); err != nil {
				return err
			}
			var err error
			h, err = svc.Open(ctx, tx, handoff.Request{AccountID: accountID, ContactID: contact, ConversationID: conv.ID, Source: "ai",
				Reason: p.handoff, Sector: sector, Like: sector, Team: o.Teams[sector], SLA: 15 * time.Minute, Channel: p.channel, WaitingSince: waiting})
			return err
		})
		if err != nil {
			return t, false, fmt.Errorf("demo month handoff: %w", err)
		}
		window := h.SLADue.Sub(t)
		if p.slaMiss || window <= time.Second {
			*clock = h.SLADue.Add(time.Second)
			if breached, err = svc.CheckSLA(ctx, handoff.SLAArgs{AccountID: accountID, HandoffID: h.ID, Clock: handoff.SLAFirstResponse, Due: h.SLADue}); err != nil {
				return t, false, err
			}
			t = h.SLADue.Add(time.Duration(1+rng.IntN(90)) * time.Minute)
		} else {
			t = t.Add(time.Duration(1 + rng.Int64N(int64(window-time.Second))))
			t = t.Truncate(time.Millisecond)
			if t.After(h.SLADue) {
				t = h.SLADue
			}
		}
		*clock = t
		err = database.InTx(ctx, d.Pool, func(tx pgx.Tx) error {
			if err := appendEv(tx, memory.Event{Kind: memory.EventMessage, Direction: memory.DirectionOut, Author: memory.AuthorHuman,
				Text: "Oi! Aqui é da equipe, vou resolver isso para você."}); err != nil {
				return err
			}
			return svc.HumanReplied(ctx, tx, accountID, contact, conv.ID, 0)
		})
		if err != nil {
			return t, false, err
		}
		t = t.Add(time.Duration(5+rng.IntN(180)) * time.Minute)
		*clock = t
		by := handoff.Attendant{Name: "Equipe (demo)"}
		if h.OwnerID != nil {
			if a, err := svc.Attendant(ctx, accountID, *h.OwnerID); err == nil {
				by = a
			}
		}
		if _, err := svc.Resolve(ctx, accountID, h.ID, by); err != nil {
			return t, false, err
		}
	} else if p.resolve {
		t = t.Add(time.Duration(1+rng.IntN(30)) * time.Minute)
		err := database.InTx(ctx, d.Pool, func(tx pgx.Tx) error {
			return convStore.SetTx(ctx, tx, accountID, conv.ID, sector, conversations.StatusResolved)
		})
		if err != nil {
			return t, false, err
		}
	}
	if p.resolve {
		if _, err := d.Pool.Exec(ctx, `UPDATE conversations SET resolved_at = $3 WHERE account_id = $1 AND id = $2`, accountID, conv.ID, t); err != nil {
			return t, false, fmt.Errorf("date the resolution of %s: %w", conv.ID, err)
		}
		if p.csatAsked {
			*clock = t
			if err := database.InTx(ctx, d.Pool, func(tx pgx.Tx) error {
				return svc.RequestCSATTx(ctx, tx, accountID, contact, conv.ID)
			}); err != nil {
				return t, false, err
			}
		}
		if p.score > 0 {
			t = t.Add(time.Duration(1+rng.IntN(90)) * time.Minute)
			*clock = t
			err := database.InTx(ctx, d.Pool, func(tx pgx.Tx) error {
				if err := appendEv(tx, memory.Event{Kind: memory.EventMessage, Direction: memory.DirectionIn, Author: memory.AuthorContact,
					Text: fmt.Sprint(p.score)}); err != nil {
					return err
				}
				ok, err := svc.RecordCSAT(ctx, tx, accountID, contact, fmt.Sprint(p.score))
				if err == nil && !ok {
					err = fmt.Errorf("the CSAT answer of %s was not taken", conv.ID)
				}
				return err
			})
			if err != nil {
				return t, false, err
			}
		}
	}
	return t, breached, nil
}
