package agents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/atende/atende/agents/llm"
	"github.com/atende/atende/agents/offline"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/prompts"
)

// OfflinePromptVersion names the offline engine's behaviour on AI events, as
// prompt versions name the LLM engine's.
const OfflinePromptVersion = "offline-v1"

// stickyConfidence is the classifier confidence below which a conversation
// keeps its current sector instead of transferring.
const stickyConfidence = 0.6

// Orchestrator runs a conversation turn: unanswered messages in, one reply
// (or handoff) out, everything on the timeline with author ai.
type Orchestrator struct {
	memory   *memory.Store
	channels *channels.Store
	outbox   *channels.Outbox
	router   *offline.Router
	llm      *llm.Engine    // nil: the offline engine answers alone
	viewer   *memory.Viewer // what the LLM engine reads of the contact
	log      *slog.Logger
	now      func() time.Time
}

// NewOrchestrator trains the offline router on the built-in examples and wires
// the turn. engine and viewer may be nil: then the offline engine answers alone.
func NewOrchestrator(mem *memory.Store, chs *channels.Store, outbox *channels.Outbox, engine *llm.Engine, viewer *memory.Viewer, log *slog.Logger) (*Orchestrator, error) {
	examples, err := prompts.SectorExamples()
	if err != nil {
		return nil, err
	}
	rows := make([]offline.LabelledMessage, len(examples))
	for i, e := range examples {
		rows[i] = offline.LabelledMessage{Text: e.Text, Sector: e.Sector, WantsHuman: e.WantsHuman}
	}
	return &Orchestrator{memory: mem, channels: chs, outbox: outbox, router: offline.TrainRouter(rows, offline.TrainOptions{}),
		llm: engine, viewer: viewer, log: log, now: time.Now}, nil
}

// decision is what the offline engine decided for a turn, as recorded on the AI event.
type decision struct {
	Sector           string  `json:"sector"`
	Confidence       float64 `json:"confidence"`
	Why              string  `json:"why"`
	Handoff          string  `json:"handoff,omitempty"`
	NextAction       string  `json:"next_action,omitempty"`
	Engine           string  `json:"engine"`
	PromptTokens     int     `json:"prompt_tokens,omitempty"`
	CompletionTokens int     `json:"completion_tokens,omitempty"`
	LatencyMS        int64   `json:"latency_ms,omitempty"`
}

// Turn answers a conversation's unanswered messages, one turn at a time.
func (o *Orchestrator) Turn(ctx context.Context, args TurnArgs) error {
	unlock, err := o.memory.LockConversation(ctx, args.ConversationID)
	if err != nil {
		return err
	}
	defer unlock()
	pending, err := o.memory.PendingInbound(ctx, args.AccountID, args.ConversationID)
	if err != nil || len(pending) == 0 {
		return err // nothing new: an earlier turn answered these together
	}
	conv, err := o.memory.Conversation(ctx, args.AccountID, args.ConversationID)
	if err != nil {
		return err
	}
	if conv.Status == "pending_human" || conv.Status == "human" {
		o.log.InfoContext(ctx, "conversation is with a human; no AI reply", "conversation_id", conv.ID)
		return nil
	}
	last := pending[len(pending)-1]
	var payload struct {
		ChannelID uuid.UUID `json:"channel_id"`
	}
	if err := json.Unmarshal(last.Payload, &payload); err != nil || payload.ChannelID == uuid.Nil {
		return fmt.Errorf("message %d has no channel to answer on", last.ID)
	}
	ch, err := o.channels.Get(ctx, args.AccountID, payload.ChannelID)
	if err != nil {
		return err
	}
	rules, err := channels.RulesFor(ch)
	if err != nil {
		return err
	}
	texts := make([]string, 0, len(pending))
	for _, e := range pending {
		if strings.TrimSpace(e.Text) != "" {
			texts = append(texts, e.Text)
		}
	}
	text := strings.Join(texts, "\n")
	contactID, extractions, err := o.remember(ctx, args, last.ID, text)
	if err != nil {
		return err
	}
	contact, err := o.memory.Contact(ctx, args.AccountID, contactID)
	if err != nil {
		return err
	}
	routed := o.router.Route(text)
	d := decision{Sector: routed.Sector.Label, Confidence: routed.Sector.Confidence, Engine: "offline",
		Why: fmt.Sprintf("classifier %.2f", routed.Sector.Confidence)}
	if conv.Sector != "" && d.Sector != conv.Sector && (d.Sector == "none" || d.Confidence < stickyConfidence) {
		d.Why = fmt.Sprintf("kept %s: %s was only %.2f", conv.Sector, d.Sector, d.Confidence)
		d.Sector = conv.Sector
	}
	status := "bot"
	var reply string
	version := OfflinePromptVersion
	var actions []llm.Action
	if !routed.WantsHuman && o.llm != nil {
		if prompt, ok := prompts.SectorPrompt(d.Sector); ok {
			var out llmTurn
			out, err = o.llmTurn(ctx, args.AccountID, contactID, d.Sector, text, prompt, rules)
			if err != nil {
				o.log.WarnContext(ctx, "LLM engine failed; the offline engine answers", "conversation_id", conv.ID, "error", err)
				d.Why += "; LLM failed: " + err.Error()
			} else {
				d.Engine, version, actions, reply = "llm", prompt.Version, out.result.Actions, out.result.Reply
				d.PromptTokens, d.CompletionTokens = out.result.PromptTokens, out.result.CompletionTokens
				d.LatencyMS = out.result.Latency.Milliseconds()
				if out.transfer != "" {
					d.Why, d.Sector = "transfer: "+out.transferWhy, out.transfer
				}
				if out.handoff != "" {
					routed.WantsHuman, routed.Reason, d.NextAction = true, offline.HandoffReason("llm: "+out.handoff), out.nextAction
				}
			}
		}
	}
	switch {
	case routed.WantsHuman:
		d.Handoff = string(routed.Reason)
		status = "pending_human"
		reply = fill(rules.Templates[channels.TemplateHandoffNotice], map[string]string{
			"sector": sectorPhrase(d.Sector), "wait": humanDuration(rules.ResponseTime)})
	case strings.TrimSpace(reply) == "":
		d.Engine = "offline"
		reply, err = o.answer(ctx, args.AccountID, d.Sector, text, contact, extractions, rules)
		if err != nil {
			return err
		}
	}
	sector := d.Sector
	if sector == "none" {
		sector = conv.Sector
	}
	raw, _ := json.Marshal(d)
	return o.memory.InTx(ctx, func(tx *memory.Tx) error {
		if err := tx.SetConversation(ctx, args.AccountID, conv.ID, sector, status); err != nil {
			return err
		}
		kind := memory.EventAction
		label := "rotear: " + d.Sector
		if d.Handoff != "" {
			kind, label = memory.EventHandoff, "transferir para atendimento humano: "+d.Handoff
		}
		for _, a := range actions {
			rawAction, _ := json.Marshal(a)
			if _, err := tx.Append(ctx, args.AccountID, memory.Event{ContactID: contactID, ConversationID: &conv.ID, Kind: memory.EventAction,
				Direction: memory.DirectionInternal, Author: memory.AuthorAI, Channel: string(ch.Kind), Text: "ferramenta: " + a.Tool,
				Payload: rawAction, PromptVersion: version}); err != nil {
				return err
			}
		}
		if _, err := tx.Append(ctx, args.AccountID, memory.Event{ContactID: contactID, ConversationID: &conv.ID, Kind: kind,
			Direction: memory.DirectionInternal, Author: memory.AuthorAI, Channel: string(ch.Kind), Text: label, Payload: raw,
			PromptVersion: version}); err != nil {
			return err
		}
		_, err := o.outbox.Queue(ctx, tx, args.AccountID, channels.Outgoing{ContactID: contactID, ConversationID: &conv.ID,
			ChannelID: ch.ID, Text: reply, Author: memory.AuthorAI, PromptVersion: version})
		return err
	})
}

// remember stores what the customer just told: identifiers become identities
// (which may merge contacts), other facts become fields. It returns the
// contact the conversation now belongs to.
func (o *Orchestrator) remember(ctx context.Context, args TurnArgs, sourceEvent int64, text string) (uuid.UUID, []offline.Extraction, error) {
	extractions := offline.Extract(text, o.now())
	contactID := args.ContactID
	err := o.memory.InTx(ctx, func(tx *memory.Tx) error {
		fields := map[string]any{}
		for _, e := range extractions {
			if !e.Valid {
				continue
			}
			switch e.Field {
			case "email", "phone", "cpf":
				res, err := tx.LinkIdentifier(ctx, args.AccountID, contactID, memory.IdentityKind(e.Field), e.Value, memory.AuthorAI)
				if errors.Is(err, memory.ErrConflict) {
					continue
				}
				if err != nil {
					return err
				}
				contactID = res.Contact.ID
			case "order_number":
				fields["order_number"] = e.Value
			}
		}
		if len(fields) > 0 {
			_, err := tx.UpdateFields(ctx, args.AccountID, contactID, fields, memory.AuthorAI, &sourceEvent)
			return err
		}
		return nil
	})
	return contactID, extractions, err
}

// answer composes the reply: a correction for an invalid identifier, the
// sector's knowledge when it matches, or the one question the sector still
// needs — never a question memory already answered.
func (o *Orchestrator) answer(ctx context.Context, accountID uuid.UUID, sector, text string, c memory.Contact, ex []offline.Extraction, rules channels.Rules) (string, error) {
	for _, e := range ex {
		if e.Field == "cpf" && !e.Valid {
			return fmt.Sprintf("O CPF %s não confere (os dígitos verificadores não batem). Pode conferir e me mandar de novo?", e.Raw), nil
		}
	}
	name := ""
	if first := strings.Fields(c.DisplayName); len(first) > 0 {
		name = ", " + first[0]
	}
	if sector == "none" {
		return fill(rules.Templates[channels.TemplateGreeting], map[string]string{"name": name, "business": "nossa empresa"}), nil
	}
	hits, err := o.memory.SearchKnowledge(ctx, accountID, sector, text, 1)
	if err != nil {
		return "", err
	}
	if len(hits) > 0 && hits[0].TextRank > 0 {
		return hits[0].Body + "\n\nPosso ajudar em mais alguma coisa?", nil
	}
	fields := c.Fields.Map()
	switch sector {
	case "billing":
		if _, ok := fields["cpf"]; !ok {
			return "Para localizar sua cobrança, me informe o CPF do titular, por favor.", nil
		}
	case "support":
		if _, ok := fields["order_number"]; !ok {
			return "Pode me passar o número do pedido ou do protocolo, por favor?", nil
		}
	case "sales":
		if _, ok := fields["product_interest"]; !ok {
			return "Legal! Qual produto ou plano te interessa?", nil
		}
	}
	return "Obrigado" + name + "! Já registrei tudo por aqui e vou verificar. Te respondo em seguida.", nil
}

func fill(template string, values map[string]string) string {
	for k, v := range values {
		template = strings.ReplaceAll(template, "{{"+k+"}}", v)
	}
	return template
}

func sectorPhrase(sector string) string {
	switch sector {
	case "sales":
		return " de vendas"
	case "support":
		return " de suporte"
	case "billing":
		return " do financeiro"
	}
	return ""
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
