package agents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/agents/llm"
	"github.com/atende/atende/agents/offline"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/conversations"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/knowledge"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/prompts"
	"github.com/atende/atende/tags"
	"github.com/atende/atende/webhooks"
)

// OfflinePromptVersion names the offline engine's behaviour on AI events, as
// prompt versions name the LLM engine's.
const OfflinePromptVersion = "offline-v1"

// Orchestrator runs a conversation turn: unanswered messages in, one reply
// (or handoff) out, everything on the timeline with author ai.
type Orchestrator struct {
	wakes         channels.Waker
	knowledge     *knowledge.Store
	lease         time.Duration
	pool          *pgxpool.Pool
	conversations *conversations.Store
	memory        *memory.Store
	channels      *channels.Store
	outbox        *channels.Outbox
	sectors       *SectorStore
	routers       *Routers
	prompts       *prompts.Library
	llm           *llm.Engine    // nil: the offline engine answers alone
	viewer        *memory.Viewer // what the LLM engine reads of the contact
	http          *http.Client   // calls the business file's HTTP tools
	handoffs      Handoffs       // nil: handoffs are only recorded on the timeline
	tags          *tags.Store    // nil: no tag_contact tool
	events        channels.EventSink
	metrics       *Metrics
	log           *slog.Logger
	businesses    Businesses
	// transcripts and listener make a turn wait for its voice notes' words
	// (nil: no transcription provider; an audio is answered as unheard).
	transcripts    Transcripts
	listener       Listener
	transcriptWait time.Duration
	now            func() time.Time
}

// Deps are what the orchestrator needs. LLM and Viewer may be nil (the
// offline engine answers alone); Metrics may be nil.
type Deps struct {
	Pool *pgxpool.Pool
	// TurnLease is how long a turn may hold a conversation before another
	// may take it over (a crashed turn's conversation waits this long at
	// most); longer than the turn job's timeout. Zero: DefaultTurnLease.
	TurnLease time.Duration
	// Wakes refreshes the inbox after a turn's answer commits (may be nil).
	Wakes channels.Waker
	// Knowledge is the sectors' articles the agents answer from.
	Knowledge *knowledge.Store
	Memory    *memory.Store
	Channels  *channels.Store
	Outbox    *channels.Outbox
	Sectors   *SectorStore
	Routers   *Routers
	Prompts   *prompts.Library
	LLM       *llm.Engine
	Viewer    *memory.Viewer
	// Outbound is where HTTP tools may be reached: their URLs are the
	// tenant's, so calls are dialed under it (zero: public addresses only).
	Outbound outbound.Policy
	Handoffs Handoffs
	// Tags lets the LLM tag the contact (tag_contact); nil: the tool is not offered.
	Tags    *tags.Store
	Events  channels.EventSink // contact.merged when a revealed identifier merges contacts
	Metrics *Metrics
	Log     *slog.Logger
	// Businesses names the company in offline replies (nil: "nossa empresa").
	Businesses Businesses
	// Transcripts, when a transcription provider is configured, makes a
	// turn wait up to TranscriptWait (zero: DefaultTranscriptWait) for its
	// voice notes' words, woken through Listener (which may be nil: the
	// turn then rechecks when the wait is over).
	Transcripts    Transcripts
	Listener       Listener
	TranscriptWait time.Duration
}

// Businesses finds the name a business is known by.
type Businesses interface {
	BusinessName(ctx context.Context, accountID uuid.UUID) (string, error)
}

// Handoffs is the human side the orchestrator hands customers to.
type Handoffs interface {
	// Open creates the handoff card in the turn's transaction.
	Open(ctx context.Context, tx pgx.Tx, r handoff.Request) (handoff.Handoff, error)
	// CustomerWrote tells the owner the customer is waiting.
	CustomerWrote(ctx context.Context, accountID, conversationID uuid.UUID) error
	// RecordCSAT takes the message as a satisfaction score if one is
	// awaited, in the turn's transaction.
	RecordCSAT(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, text string) (bool, error)
}

// NewOrchestrator wires the turn.
func NewOrchestrator(d Deps) (*Orchestrator, error) {
	if d.Pool == nil || d.Knowledge == nil || d.Memory == nil || d.Channels == nil || d.Outbox == nil || d.Sectors == nil || d.Routers == nil || d.Prompts == nil {
		return nil, errors.New("orchestrator: pool, knowledge, memory, channels, outbox, sectors, routers and prompts are required")
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.TurnLease <= 0 {
		d.TurnLease = DefaultTurnLease
	}
	if d.TranscriptWait <= 0 {
		d.TranscriptWait = DefaultTranscriptWait
	}
	d.TranscriptWait = min(d.TranscriptWait, maxTranscriptWait)
	return &Orchestrator{transcripts: d.Transcripts, listener: d.Listener, transcriptWait: d.TranscriptWait, wakes: d.Wakes, lease: d.TurnLease, knowledge: d.Knowledge, pool: d.Pool, conversations: conversations.NewStore(d.Pool), memory: d.Memory, channels: d.Channels, outbox: d.Outbox, sectors: d.Sectors, routers: d.Routers,
		prompts: d.Prompts, llm: d.LLM, viewer: d.Viewer, http: d.Outbound.Client(30 * time.Second), handoffs: d.Handoffs, tags: d.Tags, events: d.Events, metrics: d.Metrics, log: d.Log, businesses: d.Businesses, now: time.Now}, nil
}

// turnInput is what a turn decides on.
type turnInput struct {
	AccountID    uuid.UUID
	Conversation conversations.Conversation
	Contact      memory.Contact
	Text         string
	Extractions  []offline.Extraction
	Channel      channels.Channel
	Rules        channels.Rules
	// Business is the company's name, for the offline replies.
	Business string
	// Media are the kinds of what came without words (audio, image, …): a
	// voice note is acknowledged as one, not greeted.
	Media []string
	// Attached are the kinds of every file of the turn's messages, captioned
	// or not: a photo captioned "comprovante do Pix" is a payment proof.
	Attached []string
	// Since is when the customer started waiting: the earliest message this
	// turn answers (a handoff's SLA runs from it, not from the card).
	Since time.Time
}

// decideOptions change how a decision is reached, for replays: Last stands
// in for the conversation's last decision, Override replaces prompts by name,
// and DryRun keeps tools from writing or calling out.
type decideOptions struct {
	Last     *Decision
	HasLast  bool
	Override map[string]prompts.Prompt
	DryRun   bool
}

// maxRounds bounds how many times one turn answers again for messages that
// arrived while it was deciding (each of them has its own turn job as well).
const maxRounds = 3

// Turn answers a conversation's unanswered messages, one turn at a time: it
// takes the conversation's turn lease (see conversations.ClaimTurn for why a
// lease and not a lock), answers what is pending, and answers again when more
// arrived meanwhile. Another turn holding the lease is conversations.ErrBusy,
// which the worker turns into a retry a little later.
func (o *Orchestrator) Turn(ctx context.Context, args TurnArgs) error {
	lease, err := o.conversations.ClaimTurn(ctx, args.AccountID, args.ConversationID, o.lease)
	if err != nil {
		return err
	}
	defer func() {
		release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := o.conversations.ReleaseTurn(release, lease); err != nil {
			o.log.WarnContext(ctx, "release turn", "conversation_id", lease.ConversationID, "error", err)
		}
	}()
	conv := lease.Conversation
	for range maxRounds {
		answered, err := o.round(ctx, args, lease, conv)
		if errors.Is(err, conversations.ErrLeaseLost) {
			o.log.WarnContext(ctx, "turn outlived its lease; another turn answers", "conversation_id", conv.ID)
			return nil
		}
		if errors.Is(err, conversations.ErrTakenOver) {
			o.log.InfoContext(ctx, "a person took the conversation over while the turn decided; the bot stays silent", "conversation_id", conv.ID)
			return nil
		}
		if err != nil || !answered {
			return err
		}
		if conv, err = o.conversations.Get(ctx, args.AccountID, args.ConversationID); err != nil {
			return err
		}
	}
	return nil
}

// round answers once what is pending; false when there was nothing for the
// bot to answer.
func (o *Orchestrator) round(ctx context.Context, args TurnArgs, lease conversations.TurnLease, conv conversations.Conversation) (bool, error) {
	pending, err := o.memory.PendingInbound(ctx, args.AccountID, conv.ID, conv.AnsweredThrough)
	if err != nil || len(pending) == 0 {
		return false, err // nothing new: an earlier turn answered these together
	}
	if conv.Status.WithHuman() {
		o.log.InfoContext(ctx, "conversation is with a human; no AI reply", "conversation_id", conv.ID)
		o.metrics.observe(Decision{Engine: "none"}, "silent")
		if o.handoffs != nil {
			return false, o.handoffs.CustomerWrote(ctx, args.AccountID, conv.ID)
		}
		return false, nil
	}
	if err := o.awaitWords(ctx, args.AccountID, conv.ID, pending); err != nil {
		return false, err // a voice note is being transcribed: answer its words, not "[audio]"
	}
	last := pending[len(pending)-1]
	// What this turn answers: every pending message, by id (pending is in
	// time order, and a platform may stamp a later message earlier).
	var through int64
	for _, e := range pending {
		through = max(through, e.ID)
	}
	ch, rules, err := o.channelOf(ctx, args.AccountID, last)
	if err != nil {
		return false, err
	}
	text := joinTexts(pending)
	if _, isScore := handoff.ParseRating(text); o.handoffs != nil && len(pending) == 1 && isScore {
		scored, err := o.thankForScore(ctx, lease, conv, ch, through, text)
		if err != nil || scored {
			return scored, err
		}
	}
	contactID, extractions, err := o.remember(ctx, args.AccountID, conv.ContactID, last.ID, text, unverifiedSender(ch))
	if err != nil {
		return false, err
	}
	contact, err := o.memory.Contact(ctx, args.AccountID, contactID)
	if err != nil {
		return false, err
	}
	if contactID != conv.ContactID && conv.Sector == "" {
		// A merge just now (the customer revealed who they are): the
		// conversation may have taken the sector of the one it closed.
		if fresh, err := o.conversations.Get(ctx, args.AccountID, conv.ID); err == nil {
			conv.Sector = fresh.Sector
		}
	}
	since := last.OccurredAt
	for _, e := range pending {
		if e.OccurredAt.Before(since) {
			since = e.OccurredAt
		}
	}
	in := turnInput{AccountID: args.AccountID, Conversation: conv, Contact: contact, Text: text, Extractions: extractions,
		Channel: ch, Rules: rules, Since: since, Business: o.businessName(ctx, args.AccountID), Media: wordlessMedia(pending), Attached: attachedKinds(pending)}
	d, err := o.decide(ctx, in, decideOptions{})
	if err != nil {
		return false, err
	}
	if err := o.apply(ctx, in, d, lease, through); err != nil {
		return false, err
	}
	o.metrics.observe(d, outcome(d))
	return true, nil
}

func (o *Orchestrator) channelOf(ctx context.Context, accountID uuid.UUID, msg memory.Event) (channels.Channel, channels.Rules, error) {
	var payload struct {
		ChannelID uuid.UUID `json:"channel_id"`
	}
	if err := json.Unmarshal(msg.Payload, &payload); err != nil || payload.ChannelID == uuid.Nil {
		return channels.Channel{}, channels.Rules{}, fmt.Errorf("message %d has no channel to answer on", msg.ID)
	}
	ch, err := o.channels.Get(ctx, accountID, payload.ChannelID)
	if err != nil {
		return channels.Channel{}, channels.Rules{}, err
	}
	rules, err := channels.RulesFor(ch)
	return ch, rules, err
}

func joinTexts(events []memory.Event) string {
	texts := make([]string, 0, len(events))
	for _, e := range events {
		if said := e.Said(); said != "" {
			texts = append(texts, said) // a voice note's transcript is what the customer said
		}
		for _, m := range e.Media {
			if m.Description != "" {
				texts = append(texts, "[imagem enviada: "+m.Description+"]") // what the photo shows, as a model saw it
			}
		}
	}
	return strings.Join(texts, "\n")
}

// decide reaches the turn's decision without writing anything but what the
// LLM's tools write (none in a dry run).
func (o *Orchestrator) decide(ctx context.Context, in turnInput, opt decideOptions) (Decision, error) {
	sectors, err := o.sectors.Sectors(ctx, in.AccountID)
	if err != nil {
		return Decision{}, err
	}
	router, routerVersion, err := o.routers.For(ctx, in.AccountID, sectors)
	if err != nil {
		return Decision{}, err
	}
	last := opt.Last
	if !opt.HasLast {
		if last, err = o.lastDecision(ctx, in.AccountID, in.Conversation.ID); err != nil {
			return Decision{}, err
		}
	}
	routed := router.Route(in.Text)
	d := route(routed, in.Text, in.Conversation.Sector, sectors, last)
	d.Router, d.Engine = routerVersion, "offline"
	if billing, ok := billingSector(sectors); ok && o.llm == nil && d.Handoff == "" && paymentProof(in.Attached, in.Text) {
		// a proof the offline engine cannot read: billing confirms it
		d.Sector, d.Handoff, d.Clarify, d.NextAction = billing.Name, ReasonPaymentProof, false, paymentProofNextAction
		d.Why = "a file with payment words: a payment proof for billing to confirm"
	}
	sec, _ := sectorNamed(sectors, d.Sector)
	if d.Handoff == "" && !d.Clarify && d.Sector != "none" && o.llm != nil {
		o.llmDecide(ctx, in, sec, sectors, opt, &d)
		sec, _ = sectorNamed(sectors, d.Sector) // the LLM may have transferred
	}
	switch {
	case d.Handoff != "":
	case d.Clarify:
		d.Reply = fill(in.Rules.Templates[channels.TemplateClarify], map[string]string{"options": clarifyOptions(routed.Sector, sectors, 2)})
	case d.Reply == "" && strings.TrimSpace(in.Text) == "" && len(in.Media) > 0:
		d.Engine = "offline"
		d.Reply = mediaReceived(in.Channel.Kind, in.Media, firstName(in.Contact))
	case d.Reply == "" && d.Sector == "none":
		name := ""
		if first := firstName(in.Contact); first != "" {
			name = ", " + first
		}
		d.Engine = "offline"
		business := in.Business
		if business == "" {
			business = "nossa empresa"
		}
		d.Reply = fill(in.Rules.Templates[channels.TemplateGreeting], map[string]string{"name": name, "business": business})
	case d.Reply == "":
		d.Engine = "offline"
		var answered bool
		if d.Reply, answered, err = o.offlineAnswer(ctx, in.AccountID, sec, in.Text, in.Contact, in.Extractions, in.Rules, last == nil); err != nil {
			return Decision{}, err
		}
		if !answered {
			failedAgain(&d, last, in.Text)
			if d.FailedRun >= sec.Handoff.FailedAnswers {
				d.Handoff = string(ReasonFailedAnswers)
				d.Why += fmt.Sprintf("; the same question unanswered %d times", d.FailedRun)
			}
		}
	}
	d.sec = sec
	if d.Handoff != "" {
		o.handoff(in, sec, &d)
		if o.llm != nil && !opt.DryRun {
			d.summary = o.summarize(ctx, in, sec)
		}
	}
	if d.Engine == "offline" {
		d.Reply = shapeOffline(in.Channel.Kind, d.Reply, firstName(in.Contact), in.Business)
	}
	return d, nil
}

// handoff fills the handoff's priority, team, SLA and next action, and the
// notice the customer reads.
func (o *Orchestrator) handoff(in turnInput, sec Sector, d *Decision) {
	d.Priority = priority(d.Handoff)
	if d.Priority == "normal" && offline.Angry(in.Text) {
		d.Priority = "high" // asking for a person, and furious: both count
	}
	d.Team = sec.Team
	wait := firstResponseTarget(sec, in.Rules)
	start := o.now()
	if !in.Since.IsZero() && in.Since.Before(start) {
		start = in.Since
	}
	due := start.Add(wait).UTC()
	d.SLADue = &due
	if d.NextAction == "" {
		d.NextAction = "Responder ao cliente: " + truncate(strings.ReplaceAll(in.Text, "\n", " "), 160)
	}
	d.Reply = handoffNotice(in.Rules, sec, wait)
}

// firstResponseTarget is how soon a person should first answer a handoff of
// the sector: the sector's SLA, else the channel's response time.
func firstResponseTarget(sec Sector, rules channels.Rules) time.Duration {
	if sec.SLA > 0 {
		return time.Duration(sec.SLA)
	}
	return rules.ResponseTime
}

// handoffNotice tells the customer a person of the sector's team takes over,
// and how long they may wait.
func handoffNotice(rules channels.Rules, sec Sector, wait time.Duration) string {
	title := ""
	if sec.Name != "" {
		title = " de " + strings.ToLower(sec.Title)
	}
	return fill(rules.Templates[channels.TemplateHandoffNotice], map[string]string{"sector": title, "wait": humanDuration(wait)})
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (o *Orchestrator) lastDecision(ctx context.Context, accountID, conversationID uuid.UUID) (*Decision, error) {
	e, ok, err := o.memory.LastDecision(ctx, accountID, conversationID)
	if err != nil || !ok {
		return nil, err
	}
	var d Decision
	if err := json.Unmarshal(e.Payload, &d); err != nil {
		return nil, nil // an older payload shape: decide as if first
	}
	return &d, nil
}

// thankForScore answers a satisfaction score; the message opened a
// conversation of its own, which closes with the thanks.
// thanksForRating answers a score as a person would: a low one is regretted,
// a comment acknowledged, and nothing is promised that nobody will do.
func thanksForRating(text string) string {
	r, _ := handoff.ParseRating(text)
	switch {
	case r.Score <= 2 && r.Comment != "":
		return "Obrigado pela avaliação e por contar o que aconteceu. Sentimos muito — seu comentário fica registrado para a equipe."
	case r.Score <= 2:
		return "Obrigado pela avaliação. Sentimos muito que não tenha sido uma boa experiência."
	case r.Comment != "":
		return "Obrigado pela avaliação e pelo comentário!"
	}
	return "Obrigado pela sua avaliação!"
}

// errNotScored rolls back a thank-you whose score was not awaited after all.
var errNotScored = errors.New("no score awaited")

func (o *Orchestrator) thankForScore(ctx context.Context, lease conversations.TurnLease, conv conversations.Conversation, ch channels.Channel, through int64, text string) (bool, error) {
	err := database.InTx(ctx, o.pool, func(tx pgx.Tx) error {
		scored, err := o.handoffs.RecordCSAT(ctx, tx, lease.AccountID, conv.ContactID, text)
		if err != nil {
			return err
		}
		if !scored {
			return errNotScored
		}
		if err := o.conversations.AnswerTx(ctx, tx, lease, conv.Sector, conversations.StatusResolved, through); err != nil {
			return err
		}
		_, err = o.outbox.Queue(ctx, tx, lease.AccountID, channels.Outgoing{ContactID: conv.ContactID, ConversationID: &conv.ID,
			ChannelID: ch.ID, Text: thanksForRating(text), Author: memory.AuthorAI, PromptVersion: OfflinePromptVersion})
		return err
	})
	if errors.Is(err, errNotScored) {
		return false, nil // an ordinary message: the turn answers it
	}
	if err == nil {
		o.metrics.observe(Decision{Engine: "offline"}, "csat")
	}
	return err == nil, err
}

// apply records the decision and queues the reply, in one transaction, as
// the answer to the customer's messages up to through — only while the turn
// holds its lease. Everything goes to the contact the conversation belongs to
// now: a merge during the turn (an identifier the customer gave matched an
// older contact) moved the conversation to the survivor.
func (o *Orchestrator) apply(ctx context.Context, in turnInput, d Decision, lease conversations.TurnLease, through int64) error {
	conv := in.Conversation
	status := conversations.StatusBot
	if d.Handoff != "" {
		status = conversations.StatusPendingHuman
	}
	sector := d.Sector
	if sector == "none" || d.Clarify {
		sector = conv.Sector
	}
	version := OfflinePromptVersion
	if d.Engine == "llm" && len(d.Prompts) > 0 {
		version = d.Prompts[0]
	}
	err := database.InTx(ctx, o.pool, func(tx pgx.Tx) error {
		if err := o.conversations.AnswerTx(ctx, tx, lease, sector, status, through); err != nil {
			return err
		}
		now, err := o.conversations.GetTx(ctx, tx, in.AccountID, conv.ID)
		if err != nil {
			return err
		}
		in.Contact.ID = now.ContactID
		if d.Handoff != "" && o.handoffs != nil {
			if err := o.openCard(ctx, tx, in, &d); err != nil {
				return err
			}
		}
		raw, _ := json.Marshal(d)
		for _, a := range d.Actions {
			rawAction, _ := json.Marshal(a)
			if _, err := o.memory.AppendTx(ctx, tx, in.AccountID, memory.Event{ContactID: in.Contact.ID, ConversationID: &conv.ID, Kind: memory.EventAction,
				Direction: memory.DirectionInternal, Author: memory.AuthorAI, Channel: string(in.Channel.Kind), Text: "ferramenta: " + a.Tool,
				Payload: rawAction, PromptVersion: version}); err != nil {
				return err
			}
		}
		if _, err := o.memory.AppendTx(ctx, tx, in.AccountID, memory.Event{ContactID: in.Contact.ID, ConversationID: &conv.ID, Kind: decisionKind(d),
			Direction: memory.DirectionInternal, Author: memory.AuthorAI, Channel: string(in.Channel.Kind), Text: decisionLabel(d), Payload: raw,
			PromptVersion: version}); err != nil {
			return err
		}
		_, err = o.outbox.Queue(ctx, tx, in.AccountID, channels.Outgoing{ContactID: in.Contact.ID, ConversationID: &conv.ID,
			ChannelID: in.Channel.ID, Text: d.Reply, Author: memory.AuthorAI, PromptVersion: version})
		if err != nil {
			return err
		}
		return nil
	})
	if err == nil && o.wakes != nil {
		o.wakes.Poke(channels.InboxTopic(in.AccountID))
	}
	return err
}

// openCard opens the handoff card and makes the decision and the customer's
// notice say what it says: owner's team, priority, SLA due, next action; out
// of the team's hours, the channel's away template with when they answer.
func (o *Orchestrator) openCard(ctx context.Context, tx pgx.Tx, in turnInput, d *Decision) error {
	sec := d.sec
	source := d.Engine
	if offline.HandoffReason(d.Handoff) == offline.ReasonAskedForPerson {
		source = "customer"
	}
	nextAction := ""
	if strings.HasPrefix(d.Handoff, "llm: ") || d.Handoff == ReasonPaymentProof {
		nextAction = d.NextAction
	}
	h, err := o.handoffs.Open(ctx, tx, handoff.Request{AccountID: in.AccountID, ContactID: in.Contact.ID, ConversationID: in.Conversation.ID,
		Source: source, Reason: d.Handoff, Summary: d.summary, NextAction: nextAction, Sector: sec.Name, Like: sec.Like, Team: sec.Team,
		Priority: d.Priority, SLA: firstResponseTarget(sec, in.Rules), Channel: string(in.Channel.Kind), WaitingSince: in.Since})
	if err != nil {
		return err
	}
	due := h.SLADue
	d.SLADue, d.NextAction, d.Team, d.Priority, d.HandoffID = &due, h.NextAction, h.Team, h.Priority, h.ID.String()
	if h.Away {
		d.Reply = fill(in.Rules.Templates[channels.TemplateAway], map[string]string{"when": whenPhrase(h.AnswerFrom, o.now())})
	} else {
		d.Reply = handoffNotice(in.Rules, sec, max(time.Minute, h.SLADue.Sub(o.now()).Round(time.Minute)))
	}
	if d.Handoff == ReasonPaymentProof {
		d.Reply = "Recebi seu comprovante, obrigado! " + d.Reply
	}
	if d.Engine == "offline" {
		d.Reply = shapeOffline(in.Channel.Kind, d.Reply, firstName(in.Contact), in.Business)
	}
	return nil
}

// whenPhrase says when a team answers again: "hoje às 09:00", "amanhã às
// 09:00", "em 26/12 às 09:00" (in the team's time zone).
func whenPhrase(at, now time.Time) string {
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	clock := at.Format("15:04")
	switch day(at) {
	case day(now.In(at.Location())):
		return "hoje às " + clock
	case day(now.In(at.Location()).AddDate(0, 0, 1)):
		return "amanhã às " + clock
	}
	return "em " + at.Format("02/01") + " às " + clock
}

func decisionKind(d Decision) memory.EventKind {
	if d.Handoff != "" {
		return memory.EventHandoff
	}
	return memory.EventAction
}

// decisionLabel is the AI event's text as a person reads it on the timeline.
func decisionLabel(d Decision) string {
	switch {
	case d.Handoff != "":
		return "transferir para atendimento humano: " + d.Handoff
	case d.Clarify:
		return "perguntar o assunto: " + d.Why
	case d.TransferFrom != "":
		return "transferir de " + d.TransferFrom + " para " + d.Sector
	}
	return "rotear: " + d.Sector
}

// remember stores what the customer just told: identifiers become identities
// (which may merge contacts), other facts become fields. It returns the
// contact the conversation now belongs to.
func (o *Orchestrator) remember(ctx context.Context, accountID, contactID uuid.UUID, sourceEvent int64, text string, unverified bool) (uuid.UUID, []offline.Extraction, error) {
	extractions := offline.Extract(text, o.now())
	err := database.InTx(ctx, o.pool, func(tx pgx.Tx) error {
		fields := map[string]any{}
		for _, e := range extractions {
			if !e.Valid {
				continue
			}
			switch e.Field {
			case "email", "phone", "cpf":
				linked, err := o.linkIdentifier(ctx, tx, accountID, contactID, memory.IdentityKind(e.Field), e.Value, unverified)
				if errors.Is(err, memory.ErrConflict) {
					continue
				}
				if err != nil {
					return err
				}
				contactID = linked
			case "order_number":
				fields["order_number"] = e.Value
			case memory.FieldProductInterest:
				fields[memory.FieldProductInterest] = e.Value // so sales never asks "qual produto?" after it was named
			}
		}
		if len(fields) > 0 {
			_, err := o.memory.UpdateFieldsTx(ctx, tx, accountID, contactID, fields, memory.AuthorAI, &sourceEvent)
			return err
		}
		return nil
	})
	return contactID, extractions, err
}

// linkIdentifier gives the contact an identifier the customer revealed (by
// the offline extraction or the LLM's update_fields); when another contact
// holds it the two merge, contact.merged goes out in the same transaction,
// and the contact the conversation now belongs to is returned.
//
// On a channel where nobody vouches for the sender (unverified: the
// webchat), an identifier another contact holds is only a claim: typing a
// customer's e-mail in the chat must not hand the stranger that customer's
// history (issue 10).
func (o *Orchestrator) linkIdentifier(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, kind memory.IdentityKind, value string, unverified bool) (uuid.UUID, error) {
	if unverified {
		_, err := o.memory.ClaimIdentifierTx(ctx, tx, accountID, contactID, kind, value, memory.AuthorAI)
		return contactID, err
	}
	res, err := o.memory.LinkIdentifierTx(ctx, tx, accountID, contactID, kind, value, memory.AuthorAI)
	if err != nil {
		return contactID, err
	}
	if res.Merged && o.events != nil {
		if err := o.events.Emit(ctx, tx, accountID, webhooks.ContactMerged, res); err != nil {
			return contactID, err
		}
	}
	return res.Contact.ID, nil
}

// wordlessMedia are the media kinds of the messages that came without words
// (a caption is words, and so is a voice note's transcript).
func wordlessMedia(events []memory.Event) []string {
	var kinds []string
	for _, e := range events {
		if e.Said() != "" {
			continue
		}
		for _, m := range e.Media {
			if strings.TrimSpace(m.Caption) == "" && m.Description == "" {
				kinds = append(kinds, m.Type)
			}
		}
	}
	return kinds
}

func firstName(c memory.Contact) string {
	if f := strings.Fields(c.DisplayName); len(f) > 0 {
		return f[0]
	}
	return ""
}

// mediaReceived acknowledges what came for what it is, in the channel's
// register, and says what the offline assistant can do with it: it cannot
// listen or look, so it asks for a line of text, or offers a person.
func mediaReceived(channel channels.Kind, kinds []string, name string) string {
	what := map[string]string{"audio": "seu áudio", "voice": "seu áudio", "image": "sua imagem", "sticker": "sua figurinha",
		"video": "seu vídeo", "document": "seu documento", "file": "seu arquivo", "location": "sua localização", "contacts": "o contato"}
	thing := what[kinds[0]]
	if thing == "" {
		thing = "sua mensagem"
	}
	reg := registerOf(channel)
	hello := ""
	if name != "" && channel != channels.KindEmail { // an e-mail's salutation is its shape's
		hello = reg.hello + ", " + name + "! "
	}
	switch kinds[0] {
	case "audio", "voice", "video":
		return hello + fmt.Sprintf(reg.unheard, thing)
	case "image", "document", "file":
		return hello + fmt.Sprintf(reg.unseen, thing)
	}
	return hello + fmt.Sprintf(reg.received, thing)
}

// businessName is the account's name, or "" when unknown (the reply then
// says "nossa empresa"; a failed read is logged, the turn goes on).
func (o *Orchestrator) businessName(ctx context.Context, accountID uuid.UUID) string {
	if o.businesses == nil {
		return ""
	}
	name, err := o.businesses.BusinessName(ctx, accountID)
	if err != nil {
		o.log.WarnContext(ctx, "business name", "account_id", accountID, "error", err)
	}
	return name
}

// unverifiedSender says nobody vouches for who writes on ch: a webchat
// visitor is whoever holds the browser, while a WhatsApp, Instagram or
// Telegram sender is who the platform says.
func unverifiedSender(ch channels.Channel) bool { return ch.Kind == channels.KindWebchat }

func fill(template string, values map[string]string) string {
	for k, v := range values {
		template = strings.ReplaceAll(template, "{{"+k+"}}", v)
	}
	return template
}

// humanDuration writes a wait in Portuguese: "5 minutos", "4 horas".
func humanDuration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		if d == time.Hour {
			return "1 hora"
		}
		return fmt.Sprintf("%d horas", d/time.Hour)
	case d >= time.Minute:
		m := int(d.Round(time.Minute) / time.Minute)
		if m == 1 {
			return "1 minuto"
		}
		return fmt.Sprintf("%d minutos", m)
	}
	return "alguns instantes"
}
