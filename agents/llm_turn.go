package agents

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/atende/atende/agents/llm"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/prompts"
	"github.com/atende/atende/tags"
	"github.com/jackc/pgx/v5"
)

// viewBudget is the MemoryView's share of the prompt, in tokens.
const viewBudget = 1500

// agentSets says update_fields may set the field (the registry's AgentSets;
// identifiers are linked as identities instead).
func agentSets(key string) bool {
	f, ok := memory.Field(key)
	return ok && f.AgentSets
}

// llmDecide asks the LLM engine. The sector's prompt, the common rules and the
// channel's style are the system message; the contact's MemoryView (which
// quotes the customer) and the customer's new words are user content. Its
// tools act on the memory and call the business's HTTP tools. On failure the
// decision is left for the offline engine, with the error recorded.
func (o *Orchestrator) llmDecide(ctx context.Context, in turnInput, sec Sector, sectors []Sector, opt decideOptions, d *Decision) {
	used, system, err := o.systemPrompt(ctx, in, sec, opt.Override)
	if err == nil {
		var t *llmTools
		t, err = o.tools(ctx, in, sec, sectors, opt.DryRun)
		if err == nil {
			var view memory.MemoryView
			view, err = o.viewer.View(ctx, in.AccountID, in.Contact.ID, memory.ViewRequest{Query: in.Text, Budget: viewBudget, Sector: sec.Name})
			if err == nil {
				var res llm.Result
				res, err = o.llm.Run(ctx, llm.Request{System: system, Context: view.Text, Customer: in.Text, Tools: t.list,
					Model: sec.Model, MaxTokens: sec.MaxTokens, Timeout: timeoutOf(sec)})
				d.Model, d.PromptTokens, d.CompletionTokens = res.Model, res.PromptTokens, res.CompletionTokens
				d.CostUSD, d.LatencyMS, d.Prompts = res.CostUSD, res.Latency.Milliseconds(), used
				d.Actions = res.Actions
				if err == nil {
					d.Engine, d.Reply = "llm", res.Reply
					if t.transfer != "" {
						d.TransferFrom, d.Sector, d.Why = d.Sector, t.transfer, "transfer: "+t.transferWhy
					}
					if t.handoff != "" {
						d.Handoff, d.NextAction = "llm: "+t.handoff, t.nextAction
					}
					return
				}
			}
		}
	}
	o.log.WarnContext(ctx, "LLM engine failed; the offline engine answers", "conversation_id", in.Conversation.ID, "error", err)
	d.LLMError = err.Error()
	d.Why += "; LLM failed"
}

func timeoutOf(sec Sector) time.Duration { return time.Duration(sec.Timeout) }

// systemPrompt composes Atende's instructions: the sector's prompt (its own,
// else the built-in one it is like, else a generic one), the rules common to
// all sectors and the channel's style. It returns the versions used, the
// sector's first.
func (o *Orchestrator) systemPrompt(ctx context.Context, in turnInput, sec Sector, override map[string]prompts.Prompt) ([]string, string, error) {
	get := func(names ...string) (prompts.Prompt, bool, error) {
		for _, n := range names {
			if p, ok := override[n]; ok {
				return p, true, nil
			}
			p, err := o.prompts.Get(ctx, in.AccountID, n)
			if errors.Is(err, prompts.ErrNotFound) {
				continue
			}
			return p, err == nil, err
		}
		return prompts.Prompt{}, false, nil
	}
	var used, parts []string
	names := []string{"sectors." + sec.Name}
	if sec.Like != "" && sec.Like != sec.Name {
		names = append(names, "sectors."+sec.Like)
	}
	p, ok, err := get(names...)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		text := fmt.Sprintf("Você é o agente do setor %s. Ajude o cliente no que for deste setor usando a base de conhecimento (search_knowledge); nunca invente informações.", sec.Title)
		p = prompts.Prompt{Name: "sectors." + sec.Name, Text: text, Version: prompts.VersionOf("sectors."+sec.Name, text)}
	}
	used, parts = append(used, p.Version), append(parts, p.Text)
	for _, name := range []string{"sectors.common", "channels." + channelStyle(in.Channel.Kind)} {
		p, ok, err := get(name)
		if err != nil {
			return nil, "", err
		}
		switch {
		case ok:
			used, parts = append(used, p.Version), append(parts, p.Text)
		case strings.HasPrefix(name, "channels.") && in.Rules.Tone != "":
			// A channel without a style prompt: its rules' tone stands in.
			parts = append(parts, "Estilo do canal: "+in.Rules.Tone)
		}
	}
	return used, strings.Join(parts, "\n\n"), nil
}

// channelStyle names the style prompt of a channel kind (Evolution is WhatsApp).
func channelStyle(k channels.Kind) string {
	if k == channels.KindEvolution {
		return string(channels.KindWhatsApp)
	}
	return string(k)
}

// llmTools are a turn's tools and what the control tools decided.
type llmTools struct {
	list        []llm.Tool
	transfer    string
	transferWhy string
	handoff     string
	nextAction  string
}

// tools builds the tools the sector allows. In a dry run (replay) the tools
// that write or call out say what they would have done instead.
func (o *Orchestrator) tools(ctx context.Context, in turnInput, sec Sector, sectors []Sector, dryRun bool) (*llmTools, error) {
	t := &llmTools{}
	accountID, contactID := in.AccountID, in.Contact.ID
	str := func(args map[string]any, k string) string { v, _ := args[k].(string); return strings.TrimSpace(v) }
	names := make([]string, len(sectors))
	for i, s := range sectors {
		names[i] = s.Name
	}
	all := []llm.Tool{
		{Name: ToolUpdateFields, Description: "Salva o que o cliente informou: email, phone, cpf, name, need, intent, product_interest, order_number.",
			Parameters: objectSchema("email", "phone", "cpf", "name", "need", "intent", "product_interest", "order_number"),
			Run: func(ctx context.Context, args map[string]any) (string, error) {
				if dryRun {
					return "salvo (replay: nada foi gravado)", nil
				}
				return "salvo", database.InTx(ctx, o.pool, func(tx pgx.Tx) error {
					fields := map[string]any{}
					for k, v := range args {
						s, _ := v.(string)
						switch {
						case k == "email" || k == "phone" || k == "cpf":
							linked, err := o.linkIdentifier(ctx, tx, accountID, contactID, memory.IdentityKind(k), s, unverifiedSender(in.Channel))
							if err != nil {
								return err
							}
							contactID = linked
						case agentSets(k):
							fields[k] = s
						default:
							return fmt.Errorf("campo %q não existe", k)
						}
					}
					if len(fields) == 0 {
						return nil
					}
					_, err := o.memory.UpdateFieldsTx(ctx, tx, accountID, contactID, fields, memory.AuthorAI, nil)
					return err
				})
			}},
		{Name: ToolSearchHistory, Description: "Busca no histórico inteiro do cliente, em todos os canais.", Parameters: objectSchema("query"),
			Run: func(ctx context.Context, args map[string]any) (string, error) {
				hits, err := o.memory.SearchHistory(ctx, accountID, contactID, str(args, "query"), 3)
				var b strings.Builder
				for _, h := range hits {
					b.WriteString(h.Text + "\n---\n")
				}
				return b.String(), err
			}},
		{Name: ToolSearchKnowledge, Description: "Busca na base de conhecimento do setor.", Parameters: objectSchema("query"),
			Run: func(ctx context.Context, args map[string]any) (string, error) {
				var b strings.Builder
				for _, k := range sec.Knowledge {
					hits, err := o.knowledge.Search(ctx, accountID, k, str(args, "query"), 3)
					if err != nil {
						return "", err
					}
					for _, h := range hits {
						b.WriteString(h.Title + ": " + h.Body + "\n")
					}
				}
				return b.String(), nil
			}},
		{Name: ToolTransfer, Description: "Transfere a conversa para outro setor: " + strings.Join(names, ", ") + ".", Parameters: objectSchema("sector", "reason"),
			Run: func(_ context.Context, args map[string]any) (string, error) {
				to := str(args, "sector")
				if _, ok := sectorNamed(sectors, to); !ok {
					return "", fmt.Errorf("setor %q não existe (%s)", to, strings.Join(names, ", "))
				}
				t.transfer, t.transferWhy = to, str(args, "reason")
				return "transferido para " + to, nil
			}},
		{Name: ToolHandoff, Description: "Passa a conversa para uma pessoa da equipe, com o motivo e a próxima ação.", Parameters: objectSchema("reason", "next_action"),
			Run: func(_ context.Context, args map[string]any) (string, error) {
				t.handoff, t.nextAction = str(args, "reason"), str(args, "next_action")
				if t.handoff == "" {
					t.handoff = "pedido do agente"
				}
				return "a equipe foi avisada", nil
			}},
	}
	if o.tags != nil {
		all = append(all, llm.Tool{Name: ToolTagContact, Description: "Marca o cliente com uma tag curta para a equipe filtrar (ex.: vip, reclamação, revenda); até 40 caracteres.",
			Parameters: objectSchema("tag"),
			Run: func(ctx context.Context, args map[string]any) (string, error) {
				name, _, err := tags.Normalize(str(args, "tag"))
				if err != nil {
					return "", err
				}
				if dryRun {
					return "tag " + name + " (replay: nada foi gravado)", nil
				}
				var ch tags.Change
				err = database.InTx(ctx, o.pool, func(tx pgx.Tx) error {
					ch, err = o.tags.AddTx(ctx, tx, accountID, tags.Contact(contactID), name, tags.AI)
					return err
				})
				if err != nil {
					return "", err
				}
				if !ch.Changed {
					return "o cliente já tinha a tag " + ch.Tag.Name, nil
				}
				return "tag " + ch.Tag.Name + " adicionada", nil
			}})
	}
	for _, tool := range all {
		if sec.Allows(tool.Name) {
			t.list = append(t.list, tool)
		}
	}
	httpTools, err := o.sectors.Tools(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for _, name := range sec.Tools {
		ht, ok := httpTools[name]
		if !ok {
			continue
		}
		params := ht.Parameters
		if params == nil {
			params = map[string]any{"type": "object", "properties": map[string]any{}}
		}
		t.list = append(t.list, llm.Tool{Name: ht.Name, Description: ht.Description, Parameters: params,
			Run: func(ctx context.Context, args map[string]any) (string, error) {
				if dryRun {
					return "", fmt.Errorf("replay: %s não foi chamada", ht.Name)
				}
				return ht.Call(ctx, o.http, ToolCall{Tool: ht.Name, Arguments: args, AccountID: accountID, ContactID: contactID,
					ConversationID: in.Conversation.ID, Sector: sec.Name}, o.now())
			}})
	}
	return t, nil
}

func objectSchema(props ...string) map[string]any {
	p := map[string]any{}
	for _, name := range props {
		p[name] = map[string]any{"type": "string"}
	}
	return map[string]any{"type": "object", "properties": p}
}

// summarize asks the LLM for the handoff card's summary with the
// handoff-summary prompt; on any failure the card is written extractively.
func (o *Orchestrator) summarize(ctx context.Context, in turnInput, sec Sector) string {
	p, err := o.prompts.Get(ctx, in.AccountID, "handoff.summary")
	if err != nil {
		return ""
	}
	view, err := o.viewer.View(ctx, in.AccountID, in.Contact.ID, memory.ViewRequest{Query: in.Text, Budget: viewBudget, Sector: sec.Name})
	if err != nil {
		return ""
	}
	res, err := o.llm.Run(ctx, llm.Request{System: p.Text, Context: view.Text, Customer: in.Text, Model: sec.Model, Timeout: timeoutOf(sec)})
	if err != nil {
		o.log.WarnContext(ctx, "handoff summary by the LLM failed; the card is written extractively", "error", err)
		return ""
	}
	return strings.TrimSpace(res.Reply)
}
