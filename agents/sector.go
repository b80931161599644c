package agents

import (
	"fmt"
	"regexp"
	"time"
)

// Sector is a desk that owns conversations: sales, support and billing by
// default, or whatever the business file defines ("agendamento", a renamed
// "comercial"). The router picks one per turn; its agent answers with the
// sector's prompt, tools and knowledge; its team and SLA go on the handoff.
type Sector struct {
	Name  string `json:"name" yaml:"name"`
	Title string `json:"title" yaml:"title"`
	// Like names the built-in sector (sales, support, billing) whose prompt
	// and routing examples this one starts from; a sector named like a
	// built-in one is like it by default.
	Like string `json:"like,omitempty" yaml:"like"`
	// Prompt is the sector's system prompt from the business file; it is
	// stored as a version of the prompt "sectors.<name>" when applied.
	Prompt string `json:"-" yaml:"prompt"`
	// Tools the sector's agent may call: built-in ones and HTTP tools of the
	// business file. handoff_to_human is always allowed (never silence).
	Tools []string `json:"tools,omitempty" yaml:"tools"`
	// Knowledge names the knowledge sectors searched (default: its own).
	Knowledge []string `json:"knowledge,omitempty" yaml:"knowledge"`
	Team      string   `json:"team,omitempty" yaml:"team"`
	// SLA is the first-response target of the sector's handoffs (zero: the
	// channel's response time), halved for high priority.
	SLA     Duration      `json:"sla,omitempty" yaml:"sla"`
	Handoff HandoffPolicy `json:"handoff" yaml:"handoff"`
	// Model, Timeout and MaxTokens tune the LLM engine for this sector
	// (empty: the engine's defaults). MaxTokens caps each completion.
	Model     string   `json:"model,omitempty" yaml:"model"`
	Timeout   Duration `json:"timeout,omitempty" yaml:"timeout"`
	MaxTokens int      `json:"max_tokens,omitempty" yaml:"max_tokens"`
	// Collect are the fields the sector needs from the customer, asked in
	// the channel's data-collection style and never when memory knows them
	// (default: sales product_interest, support order_number, billing cpf).
	Collect []string `json:"collect,omitempty" yaml:"collect"`
	// Examples are messages this sector owns, added to the router's training.
	Examples []string `json:"examples,omitempty" yaml:"examples"`
}

// HandoffPolicy says when a sector's conversations go to a person, besides
// an explicit request or an escalation (which always do).
type HandoffPolicy struct {
	// Always sends every conversation to a person (a legal desk).
	Always bool `json:"always,omitempty" yaml:"always"`
	// MinConfidence: below it the router asks one clarifying question, and
	// hands off if it is still unsure after the answer (default 0.45).
	MinConfidence float64 `json:"min_confidence,omitempty" yaml:"min_confidence"`
	// FailedAnswers is how many times the same question may go unanswered
	// before a person takes over (default 2).
	FailedAnswers int `json:"failed_answers,omitempty" yaml:"failed_answers"`
	// Keywords hand off whenever a message of this sector contains one.
	Keywords []string `json:"keywords,omitempty" yaml:"keywords"`
}

// Duration is a time.Duration written as "15m" or "4h" in YAML and JSON.
type Duration time.Duration

// UnmarshalText reads "15m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w", b, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes "15m0s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// The built-in tools every sector may be allowed.
const (
	ToolUpdateFields    = "update_contact_fields"
	ToolSearchHistory   = "search_history"
	ToolSearchKnowledge = "search_knowledge"
	ToolTransfer        = "transfer_to_sector"
	ToolHandoff         = "handoff_to_human"
	// ToolTagContact puts a tag on the contact ("vip", "reclamação"),
	// recorded as the AI's; offered when the orchestrator has the tags.
	ToolTagContact = "tag_contact"
)

var builtinTools = []string{ToolUpdateFields, ToolSearchHistory, ToolSearchKnowledge, ToolTransfer, ToolHandoff, ToolTagContact}

// DefaultSectors are an account's sectors when its business file defines none.
func DefaultSectors() []Sector {
	return []Sector{
		{Name: "sales", Title: "Vendas", Team: "vendas"},
		{Name: "support", Title: "Suporte", Team: "suporte"},
		{Name: "billing", Title: "Financeiro", Team: "financeiro"},
	}
}

var defaultCollect = map[string][]string{"sales": {"product_interest"}, "support": {"order_number"}, "billing": {"cpf"}}

var builtinSector = map[string]bool{"sales": true, "support": true, "billing": true}

var sectorName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// withDefaults fills what a definition left out.
func (s Sector) withDefaults() Sector {
	if s.Like == "" && builtinSector[s.Name] {
		s.Like = s.Name
	}
	if s.Title == "" {
		s.Title = s.Name
	}
	if len(s.Tools) == 0 {
		s.Tools = append([]string(nil), builtinTools...)
	}
	if len(s.Collect) == 0 {
		s.Collect = defaultCollect[s.Like]
	}
	if len(s.Knowledge) == 0 {
		s.Knowledge = []string{s.Name}
	}
	if s.Team == "" {
		s.Team = s.Name
	}
	if s.Handoff.MinConfidence == 0 {
		s.Handoff.MinConfidence = 0.45
	}
	if s.Handoff.FailedAnswers == 0 {
		s.Handoff.FailedAnswers = 2
	}
	return s
}

// Allows reports whether the sector's agent may call a tool.
func (s Sector) Allows(tool string) bool {
	if tool == ToolHandoff {
		return true
	}
	for _, t := range s.Tools {
		if t == tool {
			return true
		}
	}
	return false
}

func (s Sector) validate(httpTools map[string]bool) error {
	if !sectorName.MatchString(s.Name) {
		return fmt.Errorf("%w: sector name %q (lower-case letters, digits, - and _)", ErrInvalidSector, s.Name)
	}
	if s.Name == "none" || s.Name == "human" {
		return fmt.Errorf("%w: %q is reserved for messages with no business topic", ErrInvalidSector, s.Name)
	}
	if s.Like != "" && !builtinSector[s.Like] {
		return fmt.Errorf("%w: sector %s is like %q; built-in sectors are sales, support and billing", ErrInvalidSector, s.Name, s.Like)
	}
	for _, t := range s.Tools {
		known := httpTools[t]
		for _, b := range builtinTools {
			known = known || t == b
		}
		if !known {
			return fmt.Errorf("%w: sector %s allows tool %q, which is neither built in nor declared under tools", ErrInvalidSector, s.Name, t)
		}
	}
	if s.Handoff.MinConfidence < 0 || s.Handoff.MinConfidence >= 1 || s.Handoff.FailedAnswers < 0 || s.MaxTokens < 0 {
		return fmt.Errorf("%w: sector %s: min_confidence must be in [0,1), failed_answers and max_tokens positive", ErrInvalidSector, s.Name)
	}
	return nil
}
