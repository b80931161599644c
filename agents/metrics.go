package agents

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics export what turns cost: how many ended how, tokens and money per
// model and sector, and the LLM's latency. A nil *Metrics records nothing.
type Metrics struct {
	turns   *prometheus.CounterVec
	tokens  *prometheus.CounterVec
	cost    *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

// NewMetrics registers the agent metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atende_agent_turns_total",
			Help: "Conversation turns by engine and outcome (reply, clarify, handoff, silent)."}, []string{"engine", "outcome"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atende_llm_tokens_total",
			Help: "LLM tokens by model, sector and kind (prompt, completion)."}, []string{"model", "sector", "kind"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atende_llm_cost_usd_total",
			Help: "LLM cost in US dollars by model and sector (ATENDE_LLM_PRICES)."}, []string{"model", "sector"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "atende_llm_turn_seconds",
			Help: "LLM time per turn, tool calls included.", Buckets: prometheus.ExponentialBuckets(0.1, 2, 10)}, []string{"model"}),
	}
	reg.MustRegister(m.turns, m.tokens, m.cost, m.latency)
	return m
}

func (m *Metrics) observe(d Decision, outcome string) {
	if m == nil {
		return
	}
	m.turns.WithLabelValues(d.Engine, outcome).Inc()
	if d.Model == "" {
		return
	}
	m.tokens.WithLabelValues(d.Model, d.Sector, "prompt").Add(float64(d.PromptTokens))
	m.tokens.WithLabelValues(d.Model, d.Sector, "completion").Add(float64(d.CompletionTokens))
	m.cost.WithLabelValues(d.Model, d.Sector).Add(d.CostUSD)
	m.latency.WithLabelValues(d.Model).Observe(float64(d.LatencyMS) / 1000)
}

// outcome names how a turn ended, for the turns metric.
func outcome(d Decision) string {
	switch {
	case d.Handoff != "":
		return "handoff"
	case d.Clarify:
		return "clarify"
	}
	return "reply"
}
