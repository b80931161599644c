package llm

import (
	"fmt"
	"strconv"
	"strings"
)

// Price is what a model charges, in US dollars per million tokens.
type Price struct {
	Input  float64
	Output float64
}

// Prices are per model. Providers change prices often and per contract, so
// they are configuration (ATENDE_LLM_PRICES), not code.
type Prices map[string]Price

// ParsePrices reads "model=input/output,model=input/output", in US dollars
// per million tokens: "gpt-4o-mini=0.15/0.60,claude-3-5-haiku-latest=0.8/4".
func ParsePrices(s string) (Prices, error) {
	out := Prices{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		model, costs, ok := strings.Cut(item, "=")
		in, outS, ok2 := strings.Cut(costs, "/")
		if !ok || !ok2 || strings.TrimSpace(model) == "" {
			return nil, fmt.Errorf("price %q: want model=input/output (USD per million tokens)", item)
		}
		i, err1 := strconv.ParseFloat(strings.TrimSpace(in), 64)
		o, err2 := strconv.ParseFloat(strings.TrimSpace(outS), 64)
		if err1 != nil || err2 != nil || i < 0 || o < 0 {
			return nil, fmt.Errorf("price %q: input and output must be non-negative numbers", item)
		}
		out[strings.TrimSpace(model)] = Price{Input: i, Output: o}
	}
	return out, nil
}

// Cost is what a turn's tokens cost on model; 0 for a model without a price.
func (p Prices) Cost(model string, promptTokens, completionTokens int) float64 {
	price, ok := p[model]
	if !ok {
		return 0
	}
	return (float64(promptTokens)*price.Input + float64(completionTokens)*price.Output) / 1e6
}
