package agents

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/atende/atende/agents/offline"
	"github.com/atende/atende/conversations"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/prompts"
)

// maxReplayEvents bounds how much of a history a replay reads.
const maxReplayEvents = 20000

// ReplayTurn is one stored turn and what the agent decides for it now.
type ReplayTurn struct {
	At       string   `json:"at"`
	Channel  string   `json:"channel"`
	Customer string   `json:"customer"`
	Before   Decision `json:"before"`
	Reply    string   `json:"reply_before"`
	After    Decision `json:"after"`
	Again    string   `json:"reply_after"`
	// Changed names what differs: sector, handoff, clarify, reply, engine.
	Changed []string `json:"changed"`
}

// Replay re-runs a contact's stored turns with prompts replaced by the given
// versions (the LLM engine reads them; the offline engine uses the account's
// current router), turn by turn, without writing anything: tools that write
// or call out only say what they would have done. Each turn sees the
// contact's fields as they were then; the conversation's sector follows the
// replayed decisions.
func (o *Orchestrator) Replay(ctx context.Context, accountID, contactID uuid.UUID, override []prompts.Prompt) ([]ReplayTurn, error) {
	contact, err := o.memory.Contact(ctx, accountID, contactID)
	if err != nil {
		return nil, err
	}
	linked, err := o.memory.IdentityTimes(ctx, accountID, contactID)
	if err != nil {
		return nil, err
	}
	byName := map[string]prompts.Prompt{}
	for _, p := range override {
		byName[p.Name] = p
	}
	var (
		turns   []ReplayTurn
		pending []memory.Event
		fields  = map[string]any{}
		open    *ReplayTurn
		last    = map[uuid.UUID]*Decision{} // per conversation, the replayed decision
		sector  = map[uuid.UUID]string{}
		cursor  *memory.Cursor
		read    int
	)
	for read < maxReplayEvents {
		page, err := o.memory.Timeline(ctx, accountID, contactID, cursor, 500)
		if err != nil {
			return nil, err
		}
		for _, ev := range page.Events {
			read++
			switch {
			case ev.Kind == memory.EventFieldChange:
				var ch memory.FieldChange
				if json.Unmarshal(ev.Payload, &ch) == nil {
					fields[ch.Field] = ch.New
				}
			case ev.Kind == memory.EventMessage && ev.Direction == memory.DirectionIn:
				pending, open = append(pending, ev), nil
			case ev.Kind == memory.EventMessage && ev.Direction == memory.DirectionOut && ev.Author == memory.AuthorAI && open != nil:
				open.Reply, open = ev.Text, nil
			case ev.Author == memory.AuthorAI && isDecision(ev) && len(pending) > 0 && ev.ConversationID != nil:
				var before Decision
				_ = json.Unmarshal(ev.Payload, &before)
				then := contact
				then.Identities = nil
				for _, id := range contact.Identities {
					if at, ok := linked[id.String()]; ok && !at.After(ev.CreatedAt) {
						then.Identities = append(then.Identities, id)
					}
				}
				t, err := o.replayTurn(ctx, accountID, then, pending, fields, *ev.ConversationID, sector, last, byName)
				if err != nil {
					return nil, err
				}
				t.Before = before
				turns = append(turns, t)
				open, pending = &turns[len(turns)-1], nil
			}
		}
		if page.Next == nil {
			break
		}
		cursor = page.Next
	}
	for i := range turns {
		turns[i].Changed = changes(turns[i])
	}
	return turns, nil
}

func isDecision(ev memory.Event) bool {
	return (ev.Kind == memory.EventAction || ev.Kind == memory.EventHandoff) && strings.Contains(string(ev.Payload), `"engine"`)
}

func (o *Orchestrator) replayTurn(ctx context.Context, accountID uuid.UUID, contact memory.Contact, pending []memory.Event, fields map[string]any,
	convID uuid.UUID, sector map[uuid.UUID]string, last map[uuid.UUID]*Decision, override map[string]prompts.Prompt) (ReplayTurn, error) {
	msg := pending[len(pending)-1]
	ch, rules, err := o.channelOf(ctx, accountID, msg)
	if err != nil {
		return ReplayTurn{}, err
	}
	raw, _ := json.Marshal(fields)
	then := contact
	then.Fields = memory.Fields{}
	if err := json.Unmarshal(raw, &then.Fields); err != nil {
		return ReplayTurn{}, fmt.Errorf("rebuild fields: %w", err)
	}
	text := joinTexts(pending)
	in := turnInput{AccountID: accountID, Conversation: conversations.Conversation{ID: convID, ContactID: contact.ID, Status: conversations.StatusBot, Sector: sector[convID]},
		Contact: then, Text: text, Extractions: offline.Extract(text, msg.OccurredAt), Channel: ch, Rules: rules}
	d, err := o.decide(ctx, in, decideOptions{Last: last[convID], HasLast: true, Override: override, DryRun: true})
	if err != nil {
		return ReplayTurn{}, err
	}
	if d.Sector != "none" && !d.Clarify {
		sector[convID] = d.Sector
	}
	last[convID] = &d
	return ReplayTurn{At: msg.OccurredAt.Format("2006-01-02 15:04"), Channel: string(ch.Kind), Customer: text, After: d, Again: d.Reply}, nil
}

func changes(t ReplayTurn) []string {
	var out []string
	if t.Before.Sector != t.After.Sector {
		out = append(out, "sector")
	}
	if t.Before.Handoff != t.After.Handoff {
		out = append(out, "handoff")
	}
	if t.Before.Clarify != t.After.Clarify {
		out = append(out, "clarify")
	}
	if t.Before.Engine != t.After.Engine {
		out = append(out, "engine")
	}
	if strings.TrimSpace(t.Reply) != strings.TrimSpace(t.Again) {
		out = append(out, "reply")
	}
	return out
}
