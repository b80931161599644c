package memory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// OpenHandoff is what the view says about a handoff to a human still open for
// the contact, so an agent knows a person owns the case.
type OpenHandoff struct {
	ID         uuid.UUID  `json:"id"`
	Reason     string     `json:"reason"`
	Sector     string     `json:"sector"`
	Owner      string     `json:"owner,omitempty"`
	NextAction string     `json:"next_action,omitempty"`
	SLADueAt   *time.Time `json:"sla_due_at,omitempty"`
}

// HandoffLookup finds a contact's open handoff. The handoff package implements
// it; memory defines it because memory is what reads it.
type HandoffLookup interface {
	OpenHandoff(ctx context.Context, accountID, contactID uuid.UUID) (*OpenHandoff, error)
}

// ConversationState is the state of the contact's current conversation.
type ConversationState struct {
	ID          uuid.UUID  `json:"id"`
	ContactID   uuid.UUID  `json:"contact_id"`
	Status      string     `json:"status"`
	Sector      string     `json:"sector,omitempty"`
	AssigneeID  *uuid.UUID `json:"assignee_id,omitempty"`
	LastChannel string     `json:"last_channel,omitempty"`
}

// ViewRequest asks for a contact's memory for one turn: the customer's current
// message (the query) and the most tokens the view may take in a prompt.
type ViewRequest struct {
	Query  string
	Budget int
	Sector string // when set, the sector's knowledge is retrieved too
}

// MemoryView is everything an agent knows about a contact for one turn,
// rendered within a fixed token budget so prompts do not grow with history.
type MemoryView struct {
	ContactID    uuid.UUID          `json:"contact_id"`
	Name         string             `json:"name"`
	Fields       map[string]any     `json:"fields"`
	Identities   []Identity         `json:"identities"`
	Conversation *ConversationState `json:"conversation,omitempty"`
	OpenHandoff  *OpenHandoff       `json:"open_handoff,omitempty"`
	Recent       []Event            `json:"recent_events"`
	Snippets     []Snippet          `json:"snippets"`
	Knowledge    []KnowledgeHit     `json:"knowledge"`
	Budget       int                `json:"budget"`
	Tokens       int                `json:"tokens"`
	Text         string             `json:"text"`
}

// Viewer builds MemoryViews.
type Viewer struct {
	store     *Store
	knowledge KnowledgeSearch
	tokens    *TokenCounter
	handoffs  HandoffLookup
}

// KnowledgeSearch finds a sector's articles for a query. The knowledge
// package implements it; memory defines it because the view reads it.
type KnowledgeSearch interface {
	Search(ctx context.Context, accountID uuid.UUID, sector, query string, k int) ([]KnowledgeHit, error)
}

// NewViewer returns a Viewer; knowledge and handoffs may be nil (the view
// then has no articles, or no open handoff).
func NewViewer(store *Store, knowledge KnowledgeSearch, tokens *TokenCounter, handoffs HandoffLookup) *Viewer {
	return &Viewer{store: store, knowledge: knowledge, tokens: tokens, handoffs: handoffs}
}

// View limits: how much of each kind is considered before the budget decides.
const (
	viewRecentEvents = 12
	viewSnippets     = 5
	viewKnowledge    = 3
	// MinViewBudget is the smallest budget that still fits a contact header.
	MinViewBudget = 32
	// recentShare is the part of the budget left after the header that recent
	// events may take; retrieved history gets the rest.
	recentShare = 0.4
)

// ErrBudgetTooSmall is returned for a budget below MinViewBudget.
var ErrBudgetTooSmall = errors.New("token budget too small")

// View assembles the contact's memory for a query: the header (fields,
// identities, conversation, open handoff), the last events, the top
// retrieved snippets of the whole history, and sector knowledge — dropping or
// trimming the least important parts so Tokens never exceeds Budget.
func (v *Viewer) View(ctx context.Context, accountID, contactID uuid.UUID, req ViewRequest) (MemoryView, error) {
	if req.Budget < MinViewBudget {
		return MemoryView{}, fmt.Errorf("%w: at least %d tokens", ErrBudgetTooSmall, MinViewBudget)
	}
	c, err := v.store.Contact(ctx, accountID, contactID)
	if err != nil {
		return MemoryView{}, err
	}
	view := MemoryView{ContactID: c.ID, Name: c.DisplayName, Fields: c.Fields.Map(), Identities: c.Identities,
		Budget: req.Budget, Recent: []Event{}, Snippets: []Snippet{}, Knowledge: []KnowledgeHit{}}
	if view.Conversation, err = v.store.currentConversation(ctx, accountID, contactID); err != nil {
		return MemoryView{}, err
	}
	if v.handoffs != nil {
		if view.OpenHandoff, err = v.handoffs.OpenHandoff(ctx, accountID, contactID); err != nil {
			return MemoryView{}, fmt.Errorf("read open handoff of %s: %w", contactID, err)
		}
	}
	recent, err := v.store.recentConversation(ctx, accountID, contactID, viewRecentEvents)
	if err != nil {
		return MemoryView{}, err
	}
	var snippets []Snippet
	if strings.TrimSpace(req.Query) != "" {
		if snippets, err = v.store.SearchHistory(ctx, accountID, contactID, req.Query, viewSnippets+viewRecentEvents/ChunkWindow+1); err != nil {
			return MemoryView{}, err
		}
	}
	var knowledge []KnowledgeHit
	if v.knowledge != nil && req.Sector != "" && strings.TrimSpace(req.Query) != "" {
		if knowledge, err = v.knowledge.Search(ctx, accountID, req.Sector, req.Query, viewKnowledge); err != nil {
			return MemoryView{}, err
		}
	}

	header := v.tokens.Truncate(renderHeader(view), req.Budget)
	left := req.Budget - v.tokens.Count(header) - v.tokens.Count(sectionHeadings) - 1

	// Recent events, newest first, within their share.
	recentBudget := int(float64(left) * recentShare)
	inRecent := map[int64]bool{}
	for i := len(recent) - 1; i >= 0; i-- {
		cost := v.tokens.Count(EventLine(recent[i])) + 1
		if cost > recentBudget {
			break
		}
		recentBudget -= cost
		left -= cost
		view.Recent = append([]Event{recent[i]}, view.Recent...)
		inRecent[recent[i].ID] = true
	}
	// Retrieved history not already among the recent events.
	for _, sn := range snippets {
		if len(view.Snippets) == viewSnippets || left < 16 {
			break
		}
		if inRecent[sn.FirstEventID] && inRecent[sn.LastEventID] {
			continue
		}
		cost := v.tokens.Count(sn.Text) + 2
		if cost > left {
			sn.Text = v.tokens.Truncate(sn.Text, left-2)
			cost = left
		}
		left -= cost
		view.Snippets = append(view.Snippets, sn)
	}
	for _, k := range knowledge {
		cost := v.tokens.Count(renderKnowledge(k)) + 1
		if cost > left {
			break
		}
		left -= cost
		view.Knowledge = append(view.Knowledge, k)
	}
	// Token counts of parts do not add up exactly to the count of the whole;
	// drop the least important parts until the rendered whole fits.
	for {
		view.Text = header + renderBody(view)
		view.Tokens = v.tokens.Count(view.Text)
		if view.Tokens <= req.Budget {
			return view, nil
		}
		switch {
		case len(view.Knowledge) > 0:
			view.Knowledge = view.Knowledge[:len(view.Knowledge)-1]
		case len(view.Snippets) > 0:
			view.Snippets = view.Snippets[:len(view.Snippets)-1]
		case len(view.Recent) > 0:
			view.Recent = view.Recent[1:]
		default:
			header = v.tokens.Truncate(header, req.Budget-(view.Tokens-req.Budget)-1)
		}
	}
}

func renderHeader(v MemoryView) string {
	var b strings.Builder
	name := v.Name
	if name == "" {
		name = "(sem nome)"
	}
	fmt.Fprintf(&b, "# Contato: %s\n", name)
	if len(v.Identities) > 0 {
		ids := make([]string, len(v.Identities))
		for i, id := range v.Identities {
			ids[i] = id.String()
		}
		fmt.Fprintf(&b, "Identificadores: %s\n", strings.Join(ids, ", "))
	}
	if len(v.Fields) > 0 {
		parts := make([]string, 0, len(v.Fields))
		for _, k := range sortedKeys(v.Fields) {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v.Fields[k]))
		}
		fmt.Fprintf(&b, "Campos: %s\n", strings.Join(parts, "; "))
	}
	if c := v.Conversation; c != nil {
		fmt.Fprintf(&b, "Conversa: %s", c.Status)
		if c.Sector != "" {
			fmt.Fprintf(&b, ", setor %s", c.Sector)
		}
		b.WriteString("\n")
	}
	if h := v.OpenHandoff; h != nil {
		fmt.Fprintf(&b, "Atendimento humano em aberto: %s (setor %s)", h.Reason, h.Sector)
		if h.NextAction != "" {
			fmt.Fprintf(&b, "; próxima ação: %s", h.NextAction)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// The headings of the view's sections, counted up front so the parts fit with them.
const (
	headingRecent    = "# Últimas mensagens\n"
	headingSnippets  = "# Trechos do histórico\n"
	headingKnowledge = "# Base de conhecimento\n"
	sectionHeadings  = headingRecent + headingSnippets + headingKnowledge
)

func renderBody(v MemoryView) string {
	var b strings.Builder
	if len(v.Recent) > 0 {
		b.WriteString(headingRecent)
		for _, e := range v.Recent {
			b.WriteString(EventLine(e))
			b.WriteString("\n")
		}
	}
	if len(v.Snippets) > 0 {
		b.WriteString(headingSnippets)
		for _, s := range v.Snippets {
			b.WriteString(s.Text)
			b.WriteString("\n---\n")
		}
	}
	if len(v.Knowledge) > 0 {
		b.WriteString(headingKnowledge)
		for _, k := range v.Knowledge {
			b.WriteString(renderKnowledge(k))
			b.WriteString("\n")
		}
	}
	return b.String()
}

func renderKnowledge(k KnowledgeHit) string { return "- " + k.Title + ": " + k.Body }

// recentConversation returns the last n events worth showing an agent
// (messages, notes, actions, handoffs, CSAT), oldest first.
func (s *Store) recentConversation(ctx context.Context, accountID, contactID uuid.UUID, n int) ([]Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT * FROM (SELECT `+eventColumns+` FROM events
		WHERE account_id = $1 AND contact_id = $2 AND kind IN ('message', 'note', 'action', 'handoff', 'csat')
		ORDER BY occurred_at DESC, id DESC LIMIT $3) recent ORDER BY occurred_at, id`, accountID, contactID, n)
	if err != nil {
		return nil, fmt.Errorf("read recent conversation of %s: %w", contactID, err)
	}
	return collectEvents(rows)
}

func (s *Store) currentConversation(ctx context.Context, accountID, contactID uuid.UUID) (*ConversationState, error) {
	var c ConversationState
	err := s.pool.QueryRow(ctx, `SELECT id, status, sector, assignee_id, last_channel FROM conversations
		WHERE account_id = $1 AND contact_id = $2 AND status <> 'resolved' ORDER BY last_message_at DESC LIMIT 1`,
		accountID, contactID).Scan(&c.ID, &c.Status, &c.Sector, &c.AssigneeID, &c.LastChannel)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read conversation of %s: %w", contactID, err)
	}
	return &c, nil
}
