package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// storedState is what the REST API showed of a customer message.
type storedState int

const (
	storedUnknown storedState = iota // the timeline could not be read
	storedYes
	storedNo
)

// soakMessage is one message a soak customer sends.
type soakMessage struct {
	Text string
	// Turn is the index of the turn the message belongs to: with the default
	// flow every message is its own turn; a burst is one turn.
	Turn     int
	Started  time.Time // the first attempt; zero when never sent
	AckedAt  time.Time // the 2xx; zero when never acknowledged
	Attempts int
	Stored   storedState
}

// soakCustomer is one person on one channel.
type soakCustomer struct {
	Step      ScenarioStep // channel, sender and name; Text is per message
	Recipient string       // who the sink records replies for ("kind:address")
	Identity  string       // how the REST API finds the contact
	Messages  []*soakMessage
}

// SoakFault is one fault the soak played, and when (ms since the start).
type SoakFault struct {
	Kind   string `json:"kind"`
	AtMS   int64  `json:"at_ms"`
	DownMS int64  `json:"down_ms,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// SoakCounts are the soak's counters of customer messages, of the whole run
// or of one channel kind.
type SoakCounts struct {
	Customers int `json:"customers"`
	Planned   int `json:"planned"` // customers × messages
	Sent      int `json:"sent"`    // at least one attempt made
	// Acked is webhooks answered 2xx (after retries, as platforms retry).
	Acked int `json:"acked"`
	// Stored is customer messages found on the contact's timeline via REST.
	Stored int `json:"stored"`
	// Answered is customer messages whose turn got a reply (or handoff notice) at the sink.
	Answered int `json:"answered"`
	// AnsweredTwice is customer messages whose turn got more than one reply.
	AnsweredTwice int `json:"answered_twice"`
	// Unanswered is planned messages not answered by the end (never sent ones included).
	Unanswered int `json:"unanswered"`
	// Lost is acked messages the timeline does not have.
	Lost int `json:"lost"`
	// Unverified is acked messages whose timeline could not be read.
	Unverified int `json:"unverified"`
}

// tally counts one message whose turn got replies replies, and names what
// went wrong with it ("" when nothing did).
func (k *SoakCounts) tally(m *soakMessage, replies int) string {
	k.Planned++
	sent, acked := !m.Started.IsZero(), !m.AckedAt.IsZero()
	if sent {
		k.Sent++
	}
	if acked {
		k.Acked++
	}
	problem := ""
	switch {
	case m.Stored == storedYes:
		k.Stored++
	case acked && m.Stored == storedNo:
		k.Lost++
		problem = "lost"
	case acked:
		k.Unverified++
		problem = "unverified"
	}
	switch {
	case replies == 0:
		k.Unanswered++
		if problem == "" || problem == "unverified" {
			problem = "unanswered"
		}
	case replies > 1:
		k.Answered++
		k.AnsweredTwice++
		if problem != "lost" {
			problem = "answered_twice"
		}
	default:
		k.Answered++
	}
	if !sent {
		problem = "unsent"
	}
	return problem
}

// SoakProblem is one message lost, answered twice, left unanswered, not
// verified, or never sent (the customer was still waiting for the reply to
// an earlier one, or gave up delivering).
type SoakProblem struct {
	Problem  string `json:"problem"`
	Channel  string `json:"channel"`
	Identity string `json:"identity"`
	Message  int    `json:"message"` // the customer's 1st, 2nd...
	Text     string `json:"text"`
	Sent     bool   `json:"sent"`
	Attempts int    `json:"attempts"`
	Acked    bool   `json:"acked"`
	Stored   string `json:"stored"`  // yes, no, unknown
	Replies  int    `json:"replies"` // to its turn
}

// soakMaxProblems bounds the problems a report lists (the counters count all).
const soakMaxProblems = 20

// SoakReport is what `atende soak` prints (one JSON object with -json).
// Messages count customer messages; a turn is a message, or a burst.
type SoakReport struct {
	SoakCounts
	// StoredUnacked is stored messages that never got a 2xx (stored, then the answer was lost).
	StoredUnacked     int   `json:"stored_unacked"`
	ExtraReplies      int   `json:"extra_replies"`
	StrayReplies      int   `json:"stray_replies"` // replies before a customer's first message
	UnknownSends      int   `json:"unknown_sends"` // sends the sink could not attribute
	TimeToAnswerP50MS int64 `json:"time_to_answer_p50_ms"`
	TimeToAnswerP99MS int64 `json:"time_to_answer_p99_ms"`
	TimeToAnswerMaxMS int64 `json:"time_to_answer_max_ms"`
	Retries           int   `json:"retries"` // webhook attempts beyond the first

	ReplyKinds map[string]int        `json:"reply_kinds"`
	ByChannel  map[string]SoakCounts `json:"by_channel"`
	Errors     map[string]int        `json:"errors"`

	RESTProbes   int   `json:"rest_probes"`
	RESTFailures int   `json:"rest_failures"` // timeouts included
	RESTTimeouts int   `json:"rest_timeouts"`
	RESTP50MS    int64 `json:"rest_p50_ms"`
	RESTP99MS    int64 `json:"rest_p99_ms"`

	Problems    []SoakProblem `json:"problems"`
	Faults      []SoakFault   `json:"faults"`
	LLMRequests int           `json:"llm_requests,omitempty"`
	ElapsedMS   int64         `json:"elapsed_ms"`
	DeadlineHit bool          `json:"deadline_hit"`
	Passed      bool          `json:"passed"`
}

// ErrSoakFailed makes `atende soak` exit non-zero: something was lost,
// answered twice or left unanswered (or could not be checked).
var ErrSoakFailed = errors.New("soak failed")

// replyKind names a reply by the built-in template it comes from.
func replyKind(text string) string {
	switch {
	case strings.Contains(text, "Vou te passar para uma pessoa"):
		return "handoff_notice"
	case strings.Contains(text, "Para eu te direcionar certo"), strings.Contains(text, "Para encaminharmos sua mensagem ao setor certo"):
		return "clarify"
	case strings.Contains(text, "Sou o assistente virtual"):
		return "greeting"
	case strings.Contains(text, "fora do horário"):
		return "away"
	case strings.HasPrefix(text, "template:"):
		return "template"
	}
	return "answer"
}

// scoreReplies attributes a customer's replies to its turns by time: a turn
// owns the replies from its first attempt to the next turn's. It returns the
// replies per turn and those before the first turn.
func scoreReplies(c *soakCustomer, replies []sinkReply) (perTurn map[int][]sinkReply, stray int) {
	starts := map[int]time.Time{}
	for _, m := range c.Messages {
		if m.Started.IsZero() {
			continue
		}
		if s, ok := starts[m.Turn]; !ok || m.Started.Before(s) {
			starts[m.Turn] = m.Started
		}
	}
	turns := make([]int, 0, len(starts))
	for t := range starts {
		turns = append(turns, t)
	}
	sort.Slice(turns, func(i, j int) bool { return starts[turns[i]].Before(starts[turns[j]]) })
	perTurn = map[int][]sinkReply{}
	for _, r := range replies {
		owner := -1
		for _, t := range turns {
			if !r.At.Before(starts[t]) {
				owner = t
			}
		}
		if owner < 0 {
			stray++
			continue
		}
		perTurn[owner] = append(perTurn[owner], r)
	}
	return perTurn, stray
}

// soakObservations are what the run saw besides customers and replies.
type soakObservations struct {
	Errors       map[string]int
	Probes       probeStats
	Faults       []SoakFault
	UnknownSends int
	LLMRequests  int
	Elapsed      time.Duration
	DeadlineHit  bool
}

// buildReport counts what happened to every customer message.
func buildReport(customers []*soakCustomer, replies map[string][]sinkReply, obs soakObservations) SoakReport {
	rep := SoakReport{SoakCounts: SoakCounts{Customers: len(customers)}, ReplyKinds: map[string]int{}, ByChannel: map[string]SoakCounts{},
		Errors: obs.Errors, Faults: obs.Faults, UnknownSends: obs.UnknownSends, LLMRequests: obs.LLMRequests,
		ElapsedMS: obs.Elapsed.Milliseconds(), DeadlineHit: obs.DeadlineHit}
	if rep.Errors == nil {
		rep.Errors = map[string]int{}
	}
	if rep.Faults == nil {
		rep.Faults = []SoakFault{}
	}
	var toAnswer latencies
	var problems []SoakProblem
	for _, c := range customers {
		cc := rep.ByChannel[c.Step.Channel]
		cc.Customers++
		rs := replies[c.Recipient]
		for _, r := range rs {
			rep.ReplyKinds[replyKind(r.Text)]++
		}
		perTurn, stray := scoreReplies(c, rs)
		rep.StrayReplies += stray
		lastAck := map[int]time.Time{}
		for _, m := range c.Messages {
			if m.AckedAt.After(lastAck[m.Turn]) {
				lastAck[m.Turn] = m.AckedAt
			}
		}
		for t, got := range perTurn {
			rep.ExtraReplies += max(0, len(got)-1)
			if ack, ok := lastAck[t]; ok && len(got) > 0 {
				toAnswer = append(toAnswer, max(0, got[0].At.Sub(ack)))
			}
		}
		for i, m := range c.Messages {
			n := 0
			if !m.Started.IsZero() {
				n = len(perTurn[m.Turn])
				rep.Retries += max(0, m.Attempts-1)
			}
			if m.Stored == storedYes && m.AckedAt.IsZero() {
				rep.StoredUnacked++
			}
			cc.tally(m, n)
			if problem := rep.tally(m, n); problem != "" {
				problems = append(problems, SoakProblem{Problem: problem, Channel: c.Step.Channel, Identity: c.Identity,
					Message: i + 1, Text: m.Text, Sent: !m.Started.IsZero(), Attempts: m.Attempts, Acked: !m.AckedAt.IsZero(),
					Stored: [...]string{"unknown", "yes", "no"}[m.Stored], Replies: n})
			}
		}
		rep.ByChannel[c.Step.Channel] = cc
	}
	// The worst first: what the customer lost, then saw twice, then waited for in vain.
	rank := map[string]int{"lost": 0, "answered_twice": 1, "unanswered": 2, "unverified": 3, "unsent": 4}
	sort.SliceStable(problems, func(i, j int) bool { return rank[problems[i].Problem] < rank[problems[j].Problem] })
	rep.Problems = append([]SoakProblem{}, problems[:min(len(problems), soakMaxProblems)]...)
	if len(toAnswer) > 0 {
		rep.TimeToAnswerP50MS = toAnswer.percentile(0.5).Milliseconds()
		rep.TimeToAnswerP99MS = toAnswer.percentile(0.99).Milliseconds()
		rep.TimeToAnswerMaxMS = toAnswer.percentile(1).Milliseconds()
	}
	p := obs.Probes
	rep.RESTProbes, rep.RESTFailures, rep.RESTTimeouts = p.Probes, p.Failures, p.Timeouts
	if len(p.Latencies) > 0 {
		rep.RESTP50MS = p.Latencies.percentile(0.5).Milliseconds()
		rep.RESTP99MS = p.Latencies.percentile(0.99).Milliseconds()
	}
	rep.Passed = rep.Lost == 0 && rep.AnsweredTwice == 0 && rep.Unanswered == 0 && rep.Unverified == 0
	return rep
}

// verdict is nil when the soak passed, else why not.
func (r SoakReport) verdict() error {
	if r.Passed {
		return nil
	}
	return fmt.Errorf("%w: %d lost, %d answered twice, %d unanswered, %d unverified of %d messages",
		ErrSoakFailed, r.Lost, r.AnsweredTwice, r.Unanswered, r.Unverified, r.Planned)
}

// write prints the report as text, or as one JSON object.
func (r SoakReport) write(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("write the soak report: %w", err)
		}
		return nil
	}
	mark := "PASS"
	if !r.Passed {
		mark = "FAIL"
	}
	fmt.Fprintf(w, "%s soak: %d customers, %d messages planned, %.1fs%s\n", mark, r.Customers, r.Planned,
		float64(r.ElapsedMS)/1000, map[bool]string{true: " (deadline hit)"}[r.DeadlineHit])
	fmt.Fprintf(w, "  sent %d  acked %d  stored %d  answered %d  answered_twice %d  unanswered %d  lost %d  unverified %d\n",
		r.Sent, r.Acked, r.Stored, r.Answered, r.AnsweredTwice, r.Unanswered, r.Lost, r.Unverified)
	fmt.Fprintf(w, "  time to answer p50 %dms  p99 %dms  max %dms;  retries %d, extra replies %d, stray %d, stored unacked %d, unknown sends %d\n",
		r.TimeToAnswerP50MS, r.TimeToAnswerP99MS, r.TimeToAnswerMaxMS, r.Retries, r.ExtraReplies, r.StrayReplies, r.StoredUnacked, r.UnknownSends)
	fmt.Fprintf(w, "  REST probes %d, failures %d (timeouts %d), p50 %dms, p99 %dms\n",
		r.RESTProbes, r.RESTFailures, r.RESTTimeouts, r.RESTP50MS, r.RESTP99MS)
	for _, k := range sortedKeys(r.ByChannel) {
		c := r.ByChannel[k]
		fmt.Fprintf(w, "  %-10s customers %3d  acked %3d  stored %3d  answered %3d  twice %d  unanswered %d  lost %d  unverified %d\n",
			k, c.Customers, c.Acked, c.Stored, c.Answered, c.AnsweredTwice, c.Unanswered, c.Lost, c.Unverified)
	}
	fmt.Fprintf(w, "  replies: %s\n", joinCounts(r.ReplyKinds))
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "  errors: %s\n", joinCounts(r.Errors))
	}
	for _, f := range r.Faults {
		fmt.Fprintf(w, "  fault %s at %.1fs", f.Kind, float64(f.AtMS)/1000)
		if f.DownMS > 0 {
			fmt.Fprintf(w, ", down %.1fs", float64(f.DownMS)/1000)
		}
		if f.Detail != "" {
			fmt.Fprintf(w, ": %s", f.Detail)
		}
		fmt.Fprintln(w)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  %s: %s %s message %d %q (sent %v, %d attempts, acked %v, stored %s, %d replies)\n",
			p.Problem, p.Channel, p.Identity, p.Message, p.Text, p.Sent, p.Attempts, p.Acked, p.Stored, p.Replies)
	}
	if r.LLMRequests > 0 {
		fmt.Fprintf(w, "  fake LLM requests: %d\n", r.LLMRequests)
	}
	return nil
}

func joinCounts(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
