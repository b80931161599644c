package agents

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/atende/atende/agents/llm"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/prompts"
)

// viewBudget is the MemoryView's share of the prompt, in tokens.
const viewBudget = 1500

// llmTurn is what the LLM engine did in a turn besides its reply.
type llmTurn struct {
	result      llm.Result
	transfer    string
	transferWhy string
	handoff     string
	nextAction  string
}

// fieldTools are the fields update_contact_fields may set (identifiers are linked as identities).
var fieldTools = map[string]bool{"name": true, "need": true, "intent": true, "product_interest": true}

// llmTurn asks the LLM engine: the sector's prompt and the channel's style are
// the system message; the contact's MemoryView (which quotes the customer) and
// the customer's new words are user content. Its tools act on the memory.
func (o *Orchestrator) llmTurn(ctx context.Context, accountID, contactID uuid.UUID, sector, text string, prompt prompts.Prompt, rules channels.Rules) (llmTurn, error) {
	view, err := o.viewer.View(ctx, accountID, contactID, memory.ViewRequest{Query: text, Budget: viewBudget, Sector: sector})
	if err != nil {
		return llmTurn{}, err
	}
	system := prompt.Text + "\n\nEstilo do canal: " + rules.Tone
	var out llmTurn
	str := func(args map[string]any, k string) string { v, _ := args[k].(string); return strings.TrimSpace(v) }
	tools := []llm.Tool{
		{Name: "update_contact_fields", Description: "Salva o que o cliente informou: email, phone, cpf, name, need, intent, product_interest.",
			Parameters: objectSchema("email", "phone", "cpf", "name", "need", "intent", "product_interest"),
			Run: func(ctx context.Context, args map[string]any) (string, error) {
				return "salvo", o.memory.InTx(ctx, func(tx *memory.Tx) error {
					fields := map[string]any{}
					for k, v := range args {
						s, _ := v.(string)
						switch {
						case k == "email" || k == "phone" || k == "cpf":
							res, err := tx.LinkIdentifier(ctx, accountID, contactID, memory.IdentityKind(k), s, memory.AuthorAI)
							if err != nil {
								return err
							}
							contactID = res.Contact.ID
						case fieldTools[k]:
							fields[k] = s
						default:
							return fmt.Errorf("campo %q não existe", k)
						}
					}
					if len(fields) == 0 {
						return nil
					}
					_, err := tx.UpdateFields(ctx, accountID, contactID, fields, memory.AuthorAI, nil)
					return err
				})
			}},
		{Name: "search_history", Description: "Busca no histórico inteiro do cliente, em todos os canais.", Parameters: objectSchema("query"),
			Run: func(ctx context.Context, args map[string]any) (string, error) {
				hits, err := o.memory.SearchHistory(ctx, accountID, contactID, str(args, "query"), 3)
				var b strings.Builder
				for _, h := range hits {
					b.WriteString(h.Text + "\n---\n")
				}
				return b.String(), err
			}},
		{Name: "search_knowledge", Description: "Busca na base de conhecimento do setor.", Parameters: objectSchema("query"),
			Run: func(ctx context.Context, args map[string]any) (string, error) {
				hits, err := o.memory.SearchKnowledge(ctx, accountID, sector, str(args, "query"), 3)
				var b strings.Builder
				for _, h := range hits {
					b.WriteString(h.Title + ": " + h.Body + "\n")
				}
				return b.String(), err
			}},
		{Name: "transfer_to_sector", Description: "Transfere a conversa para outro setor: sales, support ou billing.", Parameters: objectSchema("sector", "reason"),
			Run: func(_ context.Context, args map[string]any) (string, error) {
				to := str(args, "sector")
				if _, ok := prompts.SectorPrompt(to); !ok {
					return "", fmt.Errorf("setor %q não existe (sales, support, billing)", to)
				}
				out.transfer, out.transferWhy = to, str(args, "reason")
				return "transferido para " + to, nil
			}},
		{Name: "handoff_to_human", Description: "Passa a conversa para uma pessoa da equipe, com o motivo e a próxima ação.", Parameters: objectSchema("reason", "next_action"),
			Run: func(_ context.Context, args map[string]any) (string, error) {
				out.handoff, out.nextAction = str(args, "reason"), str(args, "next_action")
				if out.handoff == "" {
					out.handoff = "pedido do agente"
				}
				return "a equipe foi avisada", nil
			}},
	}
	res, err := o.llm.Run(ctx, llm.Request{System: system, Context: view.Text, Customer: text, Tools: tools})
	out.result = res
	return out, err
}

func objectSchema(props ...string) map[string]any {
	p := map[string]any{}
	for _, name := range props {
		p[name] = map[string]any{"type": "string"}
	}
	return map[string]any{"type": "object", "properties": p}
}
