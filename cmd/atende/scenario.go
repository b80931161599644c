package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Scenario is one cross-channel conversation of a scenario file (eval -server):
// steps sent through the real webhook paths and what the system must end with.
type Scenario struct {
	ID          string         `json:"id"`
	Description string         `json:"description"`
	Steps       []ScenarioStep `json:"steps"`
	Expect      Expectations   `json:"expect"`
}

// ScenarioStep is a customer message on a channel, or a human action.
type ScenarioStep struct {
	At      string         `json:"at"`
	Channel string         `json:"channel"`
	From    map[string]any `json:"from"`
	Name    string         `json:"name"`
	Text    string         `json:"text"`
	Subject string         `json:"subject"`
	Action  string         `json:"action"`
}

// Expectations are what a scenario must end with.
type Expectations struct {
	Contacts         int              `json:"contacts"`
	Identities       []string         `json:"identities"`
	AbsentIdentities []string         `json:"absent_identities"`
	FinalSector      string           `json:"final_sector"`
	Handoff          bool             `json:"handoff"`
	HandoffAfterStep *int             `json:"handoff_after_step"`
	Handoffs         *int             `json:"handoffs"`
	FinalStatus      string           `json:"final_status"`
	Card             *CardExpectation `json:"card"`
	MustNotAskAgain  []string         `json:"must_not_ask_again"`
}

// CardExpectation is what the last handoff card must hold.
type CardExpectation struct {
	Fields             map[string]*string `json:"fields"`
	SummaryMentions    []string           `json:"summary_mentions"`
	NextActionMentions []string           `json:"next_action_mentions"`
}

func readScenario(path string) (Scenario, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Scenario{}, fmt.Errorf("read %s: %w", path, err)
	}
	var s Scenario
	if err := json.Unmarshal(raw, &s); err != nil {
		return Scenario{}, fmt.Errorf("%s: %w", path, err)
	}
	if s.ID == "" || len(s.Steps) == 0 {
		return Scenario{}, fmt.Errorf("%s: a scenario needs an id and steps", path)
	}
	return s, nil
}

var offsetPart = regexp.MustCompile(`(\d+)([dhm])`)

// offset reads "+1d3m" (days, hours, minutes).
func offset(at string) (time.Duration, error) {
	s := strings.TrimPrefix(strings.TrimSpace(at), "+")
	if s == "" {
		return 0, nil
	}
	parts := offsetPart.FindAllStringSubmatch(s, -1)
	if len(parts) == 0 || strings.Join(flatten(parts), "") != s {
		return 0, fmt.Errorf("offset %q: want +NdNhNm", at)
	}
	var d time.Duration
	for _, p := range parts {
		n, _ := strconv.Atoi(p[1])
		d += time.Duration(n) * map[string]time.Duration{"d": 24 * time.Hour, "h": time.Hour, "m": time.Minute}[p[2]]
	}
	return d, nil
}

func flatten(parts [][]string) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = p[0]
	}
	return out
}

// fromString reads a sender field that may be a number or a string.
func fromString(from map[string]any, key string) string {
	switch v := from[key].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatInt(int64(v), 10)
	}
	return ""
}

// senderIdentity is the identity ("kind:value", as the API takes it) a step's sender resolves by.
func senderIdentity(st ScenarioStep) string {
	switch st.Channel {
	case "whatsapp", "evolution":
		return "whatsapp:" + fromString(st.From, "phone")
	case "instagram":
		return "instagram:" + fromString(st.From, "instagram_id")
	case "telegram":
		return "telegram:" + fromString(st.From, "telegram_id")
	case "webchat":
		return "webchat:" + fromString(st.From, "webchat_id")
	case "email":
		return "email:" + strings.ToLower(fromString(st.From, "email"))
	case "chatwoot":
		return "chatwoot:" + fromString(st.From, "chatwoot_id")
	}
	return ""
}
