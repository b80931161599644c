package agents

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/atende/atende/agents/llm"
	"github.com/atende/atende/agents/offline"
	"github.com/atende/atende/memory"
)

// stickyConfidence is the classifier confidence below which a conversation
// keeps its current sector instead of transferring.
const stickyConfidence = 0.6

// stillFits is how many times likelier than the current sector another must
// be for a follow-up to transfer: a transfer is a message that no longer
// reads as the subject at all ("a geladeira chegou amassada", 0.95 against
// 0.02), not one that could be either ("pode entregar no mesmo endereço?"
// after a purchase, 0.85 against 0.15).
const stillFits = 10

// Handoff reasons the orchestrator adds to the offline engine's own.
const (
	ReasonLowConfidence offline.HandoffReason = "low_confidence"
	ReasonFailedAnswers offline.HandoffReason = "failed_answers"
	ReasonPolicy        offline.HandoffReason = "sector_policy"
	ReasonEngineFailed  offline.HandoffReason = "engine_failed"
)

// Decision is what the agent decided for a turn. It is the payload of the AI
// event on the timeline (with author ai, the sector and the prompt version),
// and what `atende replay` compares.
type Decision struct {
	Sector       string  `json:"sector"`
	Confidence   float64 `json:"confidence"`
	Why          string  `json:"why"`
	Router       string  `json:"router,omitempty"`
	TransferFrom string  `json:"transfer_from,omitempty"`
	// Clarify: the router was unsure and asked which sector the customer means.
	Clarify bool `json:"clarify,omitempty"`
	// Answered is false when the agent could not answer (no knowledge, no
	// question left to ask); FailedRun counts such turns in a row.
	Answered  bool `json:"answered"`
	FailedRun int  `json:"failed_run,omitempty"`
	// FailedText is the question that went unanswered, to tell the same
	// question asked again from a new one.
	FailedText string     `json:"failed_text,omitempty"`
	Handoff    string     `json:"handoff,omitempty"`
	NextAction string     `json:"next_action,omitempty"`
	Priority   string     `json:"priority,omitempty"`
	Team       string     `json:"team,omitempty"`
	SLADue     *time.Time `json:"sla_due,omitempty"`
	Engine     string     `json:"engine"`
	Model      string     `json:"model,omitempty"`
	// Prompts are the versions of every prompt the turn used.
	Prompts          []string `json:"prompts,omitempty"`
	PromptTokens     int      `json:"prompt_tokens,omitempty"`
	CompletionTokens int      `json:"completion_tokens,omitempty"`
	CostUSD          float64  `json:"cost_usd,omitempty"`
	LatencyMS        int64    `json:"latency_ms,omitempty"`
	LLMError         string   `json:"llm_error,omitempty"`

	HandoffID string `json:"handoff_id,omitempty"`

	summary string       // the LLM's summary for the card, when it wrote one
	sec     Sector       // the definition of Sector, for the card
	Reply   string       `json:"-"` // the reply is its own message event
	Actions []llm.Action `json:"-"` // each tool call is its own action event
}

// route applies the router's answer to the conversation: sticky sector,
// transfer when the intent clearly changes, a clarifying question when the
// first message is ambiguous (a handoff if still unsure after it), and the
// handoff triggers of the message and of the sector's policy.
func route(r offline.Routing, text, current string, sectors []Sector, last *Decision) Decision {
	d := Decision{Sector: r.Sector.Label, Confidence: r.Sector.Confidence, Answered: true,
		Why: fmt.Sprintf("classifier %.2f", r.Sector.Confidence)}
	if _, ok := sectorNamed(sectors, d.Sector); !ok {
		d.Sector = "none"
	}
	switch {
	case current != "" && d.Sector != current && (d.Sector == "none" || d.Confidence < stickyConfidence):
		d.Why = fmt.Sprintf("kept %s: %s was only %.2f", current, d.Sector, d.Confidence)
		d.Sector = current
	case current != "" && d.Sector != current && r.Sector.Probability[current]*stillFits >= d.Confidence:
		// a follow-up that still reads as the current subject ("pode entregar
		// no mesmo endereço?" after a purchase) is not a transfer
		d.Why = fmt.Sprintf("kept %s (%.2f): %s %.2f", current, r.Sector.Probability[current], d.Sector, d.Confidence)
		d.Sector = current
	case current != "" && d.Sector != current:
		d.TransferFrom = current
		d.Why = fmt.Sprintf("transfer from %s: %s %.2f", current, d.Sector, d.Confidence)
	case current == "" && d.Sector == "none" && last != nil && last.Clarify:
		d.Handoff = string(ReasonLowConfidence)
		d.Why = "no topic in the answer to the clarifying question"
	case current == "" && d.Sector != "none":
		sec, _ := sectorNamed(sectors, d.Sector)
		if d.Confidence >= sec.Handoff.MinConfidence {
			break
		}
		if last != nil && last.Clarify {
			d.Handoff = string(ReasonLowConfidence)
			d.Why = fmt.Sprintf("still unsure after asking: %s %.2f", d.Sector, d.Confidence)
		} else {
			d.Clarify = true
			d.Why = fmt.Sprintf("unsure: %s", topSectors(r.Sector, sectors, 2))
		}
	}
	if r.WantsHuman {
		d.Handoff = string(r.Reason)
		d.Clarify = false
	}
	if sec, ok := sectorNamed(sectors, d.Sector); ok && d.Handoff == "" {
		folded := memory.Fold(text)
		switch {
		case sec.Handoff.Always:
			d.Handoff, d.Why = string(ReasonPolicy), d.Why+"; sector policy: always a person"
		default:
			for _, k := range sec.Handoff.Keywords {
				if k = memory.Fold(k); k != "" && strings.Contains(folded, k) {
					d.Handoff, d.Why = string(ReasonPolicy), d.Why+"; sector policy: keyword "+k
					break
				}
			}
		}
	}
	return d
}

// sameQuestion is the word overlap (Jaccard) from which a message asks
// again what an unanswered one asked.
const sameQuestion = 0.4

// failedAgain counts a turn the agent could not answer: the run grows only
// while the customer keeps asking the same thing in the same sector — "the
// same question failing twice" — and starts over with a new question.
func failedAgain(d *Decision, last *Decision, text string) {
	d.Answered, d.FailedText, d.FailedRun = false, truncate(text, 300), 1
	if last != nil && !last.Answered && last.Sector == d.Sector && similarity(text, last.FailedText) >= sameQuestion {
		d.FailedRun = last.FailedRun + 1
	}
}

func similarity(a, b string) float64 {
	set := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, w := range memory.Words(s) {
			if len(w) > 2 {
				m[memory.Stem(w)] = true
			}
		}
		return m
	}
	x, y := set(a), set(b)
	if len(x) == 0 || len(y) == 0 {
		return 0
	}
	inter := 0
	for w := range x {
		if y[w] {
			inter++
		}
	}
	return float64(inter) / float64(len(x)+len(y)-inter)
}

// priority is how urgent a handoff is: threats and anger first.
func priority(reason string) string {
	switch offline.HandoffReason(reason) {
	case offline.ReasonThreat, offline.ReasonFrustration:
		return "high"
	}
	return "normal"
}

func sectorNamed(sectors []Sector, name string) (Sector, bool) {
	for _, s := range sectors {
		if s.Name == name {
			return s, true
		}
	}
	return Sector{}, false
}

// topSectors names the n most likely sectors with their probabilities.
func topSectors(p offline.Prediction, sectors []Sector, n int) string {
	type cand struct {
		name string
		p    float64
	}
	var cs []cand
	for _, s := range sectors {
		cs = append(cs, cand{s.Name, p.Probability[s.Name]})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].p > cs[j].p })
	var parts []string
	for i := 0; i < n && i < len(cs); i++ {
		parts = append(parts, fmt.Sprintf("%s %.2f", cs[i].name, cs[i].p))
	}
	return strings.Join(parts, ", ")
}

// clarifyOptions are the titles of the n most likely sectors, for the
// clarifying question ("vendas ou financeiro").
func clarifyOptions(p offline.Prediction, sectors []Sector, n int) string {
	ranked := append([]Sector(nil), sectors...)
	sort.SliceStable(ranked, func(i, j int) bool { return p.Probability[ranked[i].Name] > p.Probability[ranked[j].Name] })
	var titles []string
	for i := 0; i < n && i < len(ranked); i++ {
		titles = append(titles, strings.ToLower(ranked[i].Title))
	}
	if len(titles) < 2 {
		return strings.Join(titles, "")
	}
	return strings.Join(titles[:len(titles)-1], ", ") + " ou " + titles[len(titles)-1]
}
