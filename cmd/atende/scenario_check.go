package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/atende/atende/memory"
)

// check compares the end state with the scenario's expectations, through the REST API.
func (c *scenarioClient) check(ctx context.Context, sc Scenario, contacts map[string]bool, senders []string, handoffsAfter []int,
	lastConv string, asked []string) []Outcome {
	e := sc.Expect
	var out []Outcome
	add := func(name string, ok bool, detail string, args ...any) {
		o := Outcome{Expectation: name, Passed: ok}
		if !ok {
			o.Detail = fmt.Sprintf(detail, args...)
		}
		out = append(out, o)
	}
	add("contacts", len(contacts) == e.Contacts, "%d contacts, want %d", len(contacts), e.Contacts)
	for _, id := range e.Identities {
		ct, ok, err := c.contactBy(ctx, id)
		add("identity "+id, err == nil && ok && contacts[ct.ID], "not attached to the scenario's contacts (found %v, %v)", ok, err)
	}
	for _, id := range e.AbsentIdentities {
		kind, value, _ := strings.Cut(id, ":")
		stored := false
		for ctID := range contacts {
			var ct apiContact
			if _, err := c.api(ctx, "GET", "/api/v1/contacts/"+ctID, nil, &ct); err == nil {
				for _, i := range ct.Identities {
					stored = stored || (i.Kind == kind && i.Value == value)
				}
				if f, ok := ct.Fields[kind]; ok && fmt.Sprint(f) == value {
					stored = true
				}
			}
		}
		add("absent "+id, !stored, "stored, and must not be")
	}
	var conv struct{ Status, Sector string }
	if lastConv != "" {
		if _, err := c.api(ctx, "GET", "/api/v1/conversations/"+lastConv, nil, &conv); err != nil {
			add("final conversation", false, "%v", err)
		}
	}
	add("final_sector", conv.Sector == e.FinalSector, "sector %q, want %q", conv.Sector, e.FinalSector)
	if e.FinalStatus != "" {
		add("final_status", conv.Status == e.FinalStatus, "status %q, want %q", conv.Status, e.FinalStatus)
	}
	want := 0
	if e.Handoff {
		want = 1
	}
	if e.Handoffs != nil {
		want = *e.Handoffs
	}
	final := handoffsAfter[len(handoffsAfter)-1]
	add("handoffs", final == want, "%d handoffs, want %d", final, want)
	if e.HandoffAfterStep != nil && want > 0 {
		step := *e.HandoffAfterStep
		ok := step < len(handoffsAfter) && handoffsAfter[step] == want && handoffsAfter[step-1] == want-1
		add(fmt.Sprintf("handoff after step %d", step), ok, "handoffs after each step: %v", handoffsAfter[1:])
	}
	if e.Card != nil && want > 0 {
		hs, err := c.handoffsOf(ctx, contacts)
		if err != nil || len(hs) == 0 {
			add("card", false, "no card: %v", err)
		} else {
			card := hs[len(hs)-1]
			for field, v := range e.Card.Fields {
				got := ""
				if f, ok := card.Fields[field]; ok {
					got = fmt.Sprint(f)
				}
				if v == nil {
					add("card field "+field+" empty", got == "", "card has %s = %q", field, got)
					continue
				}
				add("card field "+field, normalized(field, got) == normalized(field, *v), "card has %q, want %q", got, *v)
			}
			for _, m := range e.Card.SummaryMentions {
				add("summary mentions "+m, mentions(card.Summary, m), "summary: %s", card.Summary)
			}
			for _, m := range e.Card.NextActionMentions {
				add("next action mentions "+m, mentions(card.NextAction, m), "next action: %s", card.NextAction)
			}
		}
	}
	add("never asks again "+strings.Join(e.MustNotAskAgain, ", "), len(asked) == 0, "%s", strings.Join(asked, "; "))
	return out
}

// normalized compares card values as the scenarios do: e-mail lower-case,
// CPF and phone digits only.
func normalized(field, v string) string {
	v = strings.TrimSpace(v)
	switch field {
	case "email":
		return strings.ToLower(v)
	case "cpf", "phone", "order_number":
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, v)
	}
	return memory.Fold(v)
}

// mentions matches "a|b|c" ignoring case and accents, as a substring.
func mentions(text, alternatives string) bool {
	folded := memory.Fold(text)
	for _, alt := range strings.Split(alternatives, "|") {
		if a := memory.Fold(strings.TrimSpace(alt)); a != "" && strings.Contains(folded, a) {
			return true
		}
	}
	return false
}
