package main

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/atende/atende/memory"
)

// Outcome is one expectation checked.
type Outcome struct {
	Expectation string `json:"expectation"`
	Passed      bool   `json:"passed"`
	Detail      string `json:"detail,omitempty"`
}

// ScenarioResult is a scenario's outcome, expectation by expectation.
type ScenarioResult struct {
	ID       string    `json:"id"`
	Passed   bool      `json:"passed"`
	Outcomes []Outcome `json:"expectations"`
	Error    string    `json:"error,omitempty"`
}

type apiContact struct {
	ID         string
	Name       string
	Fields     map[string]any
	Identities []struct{ Kind, Value string }
}

type apiEvent struct {
	ID             int64
	Kind           string
	Direction      string
	Author         string
	Text           string
	ConversationID string `json:"conversation_id"`
}

type apiHandoff struct {
	ID         string
	Status     string
	Summary    string
	NextAction string `json:"next_action"`
	Fields     map[string]any
	CreatedAt  time.Time `json:"created_at"`
}

func (c *scenarioClient) contactBy(ctx context.Context, identity string) (apiContact, bool, error) {
	var out struct{ Contacts []apiContact }
	if _, err := c.api(ctx, "GET", "/api/v1/contacts?identity="+url.QueryEscape(identity), nil, &out); err != nil {
		return apiContact{}, false, err
	}
	if len(out.Contacts) == 0 {
		return apiContact{}, false, nil
	}
	return out.Contacts[0], true, nil
}

func (c *scenarioClient) timeline(ctx context.Context, contactID string) ([]apiEvent, error) {
	var out []apiEvent
	cursor := ""
	for range 20 {
		var page struct {
			Events []apiEvent
			Next   *string `json:"next_cursor"`
		}
		path := "/api/v1/contacts/" + contactID + "/timeline?limit=500"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if _, err := c.api(ctx, "GET", path, nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Events...)
		if page.Next == nil || *page.Next == "" {
			break
		}
		cursor = *page.Next
	}
	return out, nil
}

func (c *scenarioClient) handoffsOf(ctx context.Context, contactIDs map[string]bool) ([]apiHandoff, error) {
	seen := map[string]bool{}
	var out []apiHandoff
	for id := range contactIDs {
		var list struct{ Handoffs []apiHandoff }
		if _, err := c.api(ctx, "GET", "/api/v1/handoffs?status=all&contact_id="+id, nil, &list); err != nil {
			return nil, err
		}
		for _, h := range list.Handoffs {
			if !seen[h.ID] {
				seen[h.ID] = true
				out = append(out, h)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// run plays a scenario against the server and checks its expectations.
func (c *scenarioClient) run(ctx context.Context, sc Scenario, stepWait time.Duration) ScenarioResult {
	res := ScenarioResult{ID: sc.ID}
	var span time.Duration
	for _, st := range sc.Steps {
		d, err := offset(st.At)
		if err != nil {
			res.Error = err.Error()
			return res
		}
		span = max(span, d)
	}
	// Stamped in the past, so every step is older than the replies to it.
	start := time.Now().Add(-span - 10*time.Minute).Truncate(time.Second)
	contacts := map[string]bool{}
	var senders []string
	handoffsAfter := make([]int, len(sc.Steps)+1)
	var lastConv string
	var asked []string
	for i, st := range sc.Steps {
		n := i + 1
		d, _ := offset(st.At)
		if st.Action != "" {
			if err := c.act(ctx, st, contacts); err != nil {
				res.Error = fmt.Sprintf("step %d (%s): %v", n, st.Action, err)
				return res
			}
		} else {
			if err := c.send(ctx, sc, n, st, start.Add(d)); err != nil {
				res.Error = fmt.Sprintf("step %d: %v", n, err)
				return res
			}
			identity := senderIdentity(st)
			senders = append(senders, identity)
			replies, contact, conv, err := c.processed(ctx, identity, st.Text, stepWait)
			if err != nil {
				res.Error = fmt.Sprintf("step %d: %v", n, err)
				return res
			}
			contacts[contact.ID] = true
			lastConv = conv
			known := knownFields(contact)
			for _, r := range replies {
				for _, f := range sc.Expect.MustNotAskAgain {
					if known[f] && asks(f, r) {
						asked = append(asked, fmt.Sprintf("step %d asked for %s, already known: %q", n, f, r))
					}
				}
			}
		}
		// Merges may have folded contacts into one: re-resolve the senders.
		current := map[string]bool{}
		for _, s := range senders {
			if ct, ok, err := c.contactBy(ctx, s); err == nil && ok {
				current[ct.ID] = true
			}
		}
		contacts = current
		hs, err := c.handoffsOf(ctx, contacts)
		if err != nil {
			res.Error = err.Error()
			return res
		}
		handoffsAfter[n] = len(hs)
	}
	res.Outcomes = c.check(ctx, sc, contacts, senders, handoffsAfter, lastConv, asked)
	res.Passed = true
	for _, o := range res.Outcomes {
		res.Passed = res.Passed && o.Passed
	}
	return res
}

// processed waits until the step's message was answered: an AI event after
// it, or a conversation a person owns (where the bot stays silent). It
// returns the AI replies to it, the contact and the conversation.
func (c *scenarioClient) processed(ctx context.Context, identity, text string, wait time.Duration) ([]string, apiContact, string, error) {
	deadline := time.Now().Add(wait)
	for {
		contact, ok, err := c.contactBy(ctx, identity)
		if err != nil {
			return nil, contact, "", err
		}
		if ok {
			events, err := c.timeline(ctx, contact.ID)
			if err != nil {
				return nil, contact, "", err
			}
			if msg := inboundFor(events, text); msg != nil {
				var replies []string
				answered := false
				for _, e := range events {
					if e.ID > msg.ID && e.Author == "ai" {
						answered = true
						if e.Kind == "message" && e.Direction == "out" {
							replies = append(replies, e.Text)
						}
					}
				}
				var conv struct{ Status string }
				if _, err := c.api(ctx, "GET", "/api/v1/conversations/"+msg.ConversationID, nil, &conv); err != nil {
					return nil, contact, "", err
				}
				silent := conv.Status == "pending_human" || conv.Status == "human"
				if answered && len(replies) > 0 || silent && !answered {
					contact, _, err = c.contactBy(ctx, identity)
					return replies, contact, msg.ConversationID, err
				}
			}
		}
		if time.Now().After(deadline) {
			return nil, contact, "", fmt.Errorf("not processed within %s", wait)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// inboundFor is the latest customer message of the timeline that text
// stored as (the stored text is the sent one, or a trimmed part of it).
func inboundFor(events []apiEvent, text string) *apiEvent {
	var msg *apiEvent
	for i := range events {
		e := &events[i]
		if e.Kind == "message" && e.Direction == "in" && strings.TrimSpace(e.Text) != "" && strings.Contains(strings.TrimSpace(text), strings.TrimSpace(e.Text)) {
			if msg == nil || e.ID > msg.ID {
				msg = e
			}
		}
	}
	return msg
}

// act performs a human step: reply in the conversation with the open
// handoff, then resolve it.
func (c *scenarioClient) act(ctx context.Context, st ScenarioStep, contacts map[string]bool) error {
	if st.Action != "resolve" {
		return fmt.Errorf("unknown action %q (resolve)", st.Action)
	}
	hs, err := c.handoffsOf(ctx, contacts)
	if err != nil {
		return err
	}
	for i := len(hs) - 1; i >= 0; i-- {
		h := hs[i]
		if h.Status != "queued" && h.Status != "assigned" {
			continue
		}
		if st.Text != "" {
			if _, err := c.api(ctx, "POST", "/api/v1/handoffs/"+h.ID+"/reply", map[string]any{"attendant": c.attendant, "text": st.Text}, nil); err != nil {
				return err
			}
		}
		_, err := c.api(ctx, "POST", "/api/v1/handoffs/"+h.ID+"/resolve", map[string]any{"attendant": c.attendant}, nil)
		return err
	}
	return fmt.Errorf("no open handoff to resolve")
}

// knownFields are the fields a contact holds a valid value for.
func knownFields(c apiContact) map[string]bool {
	known := map[string]bool{}
	for k, v := range c.Fields {
		if fmt.Sprint(v) != "" {
			known[k] = true
		}
	}
	for _, id := range c.Identities {
		known[id.Kind] = true
	}
	if c.Name != "" {
		known["name"] = true
	}
	return known
}

var askPatterns = map[string]*regexp.Regexp{
	"email":        regexp.MustCompile(`\b(seu|o seu|qual (e )?o seu|informar|passar|mande|envie)\s+(o\s+)?e-?mail\b`),
	"phone":        regexp.MustCompile(`\b(seu|um)\s+(telefone|celular|whatsapp|numero de telefone)\b`),
	"cpf":          regexp.MustCompile(`\b(passar|informar|informe|mandar|envie|qual (e )?o seu|me diga)\b[^.?!]{0,25}\bcpf\b`),
	"order_number": regexp.MustCompile(`\bnumero do pedido\b`),
	"name":         regexp.MustCompile(`\b(seu nome|como (voce )?se chama)\b`),
}

// asks reports whether a reply asks the customer for a field.
func asks(field, reply string) bool {
	p, ok := askPatterns[field]
	return ok && p.MatchString(memory.Fold(reply))
}
