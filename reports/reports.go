// Package reports is the figures a team lead runs the floor with: volume,
// first response, handling time, resolution, CSAT, SLA, containment,
// handoffs and transfers, for an account and a date range, grouped by
// channel, sector, team or attendant.
//
// It only reads. Its SQL reads other packages' tables (conversations and
// events of memory and conversations; handoffs, teams, attendants and
// csat_requests of handoff) as a read model: it never writes them, and the
// owning packages remain the only writers. A schema change there must be
// mirrored here; reports_test.go (and api's report test) recompute every
// figure from the raw rows to catch a drift.
//
// # The cohort
//
// Every figure describes the conversations that started in [From, To)
// (conversations.started_at): their messages, handoffs, CSAT and
// resolution, whenever those happened. A conversation started on the 31st
// and resolved on the 2nd counts in the month it started.
//
// # Groups
//
//   - none: one group, key "all".
//   - channel: the channel of the conversation's first message (by
//     occurred_at, then id); its last_channel when it has no message.
//   - sector: conversations.sector.
//   - team: the team of the conversation's last handoff (by created_at).
//   - attendant: the owner of the conversation's last handoff; the key is
//     the attendant's id, the label their name.
//
// A conversation with no value for the grouping gets the key "(none)". All of
// a conversation's figures (its handoffs too) go to its one group.
//
// # The figures
//
//   - conversations: the cohort's size.
//   - messages_in / messages_out: message events of the cohort with
//     direction in / out (system messages such as the CSAT question count
//     as out).
//   - first_response_seconds_p50/p90/avg: for each conversation with a
//     customer message (kind message, direction in, author contact), from
//     the first one to the first message out by the AI or a person
//     (author ai or human, not system) at or after it; conversations never
//     answered are left out (first_responses counts those measured).
//   - handoff_first_response_seconds_p50: for each handoff answered, its
//     created_at to first_response_at; handoff_first_response_business_seconds_p50
//     the same counted in the business hours of the handoff's team
//     (handoff.BusinessHours.Between; a team without hours is always open).
//   - resolved: conversations with status resolved and a resolved_at.
//     handling_seconds_avg (TMA) is the mean of resolved_at - started_at
//     over them, resolve_seconds_p50 its median.
//   - fcr_rate: first-contact resolution. Of the resolved conversations,
//     the share whose contact did not start another conversation within 7
//     days after the resolution (started_at in (resolved_at, resolved_at +
//     7 days]). A resolution younger than 7 days counts as FCR until the
//     customer comes back.
//   - csat_asked: conversations with a CSAT request; csat_responses those
//     scored; csat_response_rate = responses / asked; csat_avg the mean
//     score; csat_distribution the count of each score 1..5.
//   - handoffs: the cohort's handoffs; handoff_rate the share of
//     conversations with at least one; handoffs_by_reason counts them by
//     reason.
//   - bot_containment_rate: the share of conversations that never had a
//     handoff and ended: resolved, or no message for 24 hours (as of Now).
//   - sla_first_response_met: handoffs answered by sla_due
//     (first_response_at <= sla_due); sla_first_response_missed: answered
//     after it, or unanswered with sla_due before Now;
//     sla_first_response_hit_rate = met / (met + missed). Open handoffs
//     still within their SLA count in neither.
//   - sla_next_response_breaches: the next-response SLA is not kept per
//     reply; its breaches are recorded as system action events (payload
//     clock next_response), which this counts.
//   - transfers: the AI's sector-to-sector transfers (AI decision events
//     whose payload has transfer_from); transfers_by_route counts them by
//     "from>to".
//
// Percentiles are nearest-rank: the value at rank ceil(p·n) of the sorted
// values. A figure with nothing to measure is null (JSON) or empty (CSV).
package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/handoff"
	"github.com/atende/atende/tags"
)

// Groupings.
const (
	ByNone      = "none"
	ByChannel   = "channel"
	BySector    = "sector"
	ByTeam      = "team"
	ByAttendant = "attendant"
)

// NoKey is the group of conversations with no value for the grouping.
const NoKey = "(none)"

// MaxRange is the longest range a report covers.
const MaxRange = 366 * 24 * time.Hour

// Query asks for a report.
type Query struct {
	From, To time.Time // [From, To)
	By       string
	// Tag keeps the conversations whose contact or conversation carries it
	// (any casing; "" is every conversation).
	Tag string
	// Now is the moment "still open" and "ended" are judged at (default time.Now).
	Now time.Time
}

// Figures are one group's numbers; see the package doc for each.
type Figures struct {
	Key                                    string         `json:"key"`
	Label                                  string         `json:"label"`
	Conversations                          int            `json:"conversations"`
	MessagesIn                             int            `json:"messages_in"`
	MessagesOut                            int            `json:"messages_out"`
	FirstResponses                         int            `json:"first_responses"`
	FirstResponseSecondsP50                *float64       `json:"first_response_seconds_p50"`
	FirstResponseSecondsP90                *float64       `json:"first_response_seconds_p90"`
	FirstResponseSecondsAvg                *float64       `json:"first_response_seconds_avg"`
	HandoffFirstResponseSecondsP50         *float64       `json:"handoff_first_response_seconds_p50"`
	HandoffFirstResponseBusinessSecondsP50 *float64       `json:"handoff_first_response_business_seconds_p50"`
	Resolved                               int            `json:"resolved"`
	HandlingSecondsAvg                     *float64       `json:"handling_seconds_avg"`
	ResolveSecondsP50                      *float64       `json:"resolve_seconds_p50"`
	FCRRate                                *float64       `json:"fcr_rate"`
	CSATAsked                              int            `json:"csat_asked"`
	CSATResponses                          int            `json:"csat_responses"`
	CSATResponseRate                       *float64       `json:"csat_response_rate"`
	CSATAvg                                *float64       `json:"csat_avg"`
	CSATDistribution                       map[string]int `json:"csat_distribution"`
	Handoffs                               int            `json:"handoffs"`
	HandoffRate                            *float64       `json:"handoff_rate"`
	BotContainmentRate                     *float64       `json:"bot_containment_rate"`
	HandoffsByReason                       map[string]int `json:"handoffs_by_reason"`
	SLAFirstResponseMet                    int            `json:"sla_first_response_met"`
	SLAFirstResponseMissed                 int            `json:"sla_first_response_missed"`
	SLAFirstResponseHitRate                *float64       `json:"sla_first_response_hit_rate"`
	SLANextResponseBreaches                int            `json:"sla_next_response_breaches"`
	Transfers                              int            `json:"transfers"`
	TransfersByRoute                       map[string]int `json:"transfers_by_route"`
}

// Report is the answer: a group per key (sorted by conversations, then key)
// and the total over all.
type Report struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	By     string    `json:"by"`
	Groups []Figures `json:"groups"`
	Total  Figures   `json:"total"`
}

// Store reads reports from the database.
type Store struct{ pool *pgxpool.Pool }

// New returns the reports of the database.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// ErrInvalid is a query that cannot be answered (a bad grouping or range).
var ErrInvalid = fmt.Errorf("invalid report query")

// Validate checks a query's grouping and range.
func (q Query) Validate() error {
	switch q.By {
	case ByNone, ByChannel, BySector, ByTeam, ByAttendant:
	default:
		return fmt.Errorf("%w: by must be none, channel, sector, team or attendant, not %q", ErrInvalid, q.By)
	}
	if !q.To.After(q.From) {
		return fmt.Errorf("%w: to must be after from", ErrInvalid)
	}
	if q.To.Sub(q.From) > MaxRange {
		return fmt.Errorf("%w: the range is longer than 366 days", ErrInvalid)
	}
	// tags.Key is "" for a tag that cannot be one, and "" here is every
	// conversation: such a filter is refused, never widened to all.
	if strings.TrimSpace(q.Tag) != "" && tags.Key(q.Tag) == "" {
		_, _, err := tags.Normalize(q.Tag)
		return fmt.Errorf("%w: tag: %v", ErrInvalid, err)
	}
	return nil
}

// conv is what the report knows of one conversation of the cohort.
type conv struct {
	id, contact    uuid.UUID
	status, sector string
	channel        string
	started        time.Time
	resolved       *time.Time
	lastMessage    time.Time
	in, out        int
	firstIn        *time.Time
	firstReply     *time.Time
	reopened       bool
	asked          bool
	score          *int
	handoffs       []hand
	nextBreaches   int
	transfers      []string
}

type hand struct {
	reason, team  string
	owner         *uuid.UUID
	ownerName     string
	created, due  time.Time
	firstResponse *time.Time
}

// Summary computes the report.
func (s *Store) Summary(ctx context.Context, accountID uuid.UUID, q Query) (Report, error) {
	if err := q.Validate(); err != nil {
		return Report{}, err
	}
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	convs, err := s.cohort(ctx, accountID, q)
	if err != nil {
		return Report{}, err
	}
	hours, err := s.teamHours(ctx, accountID)
	if err != nil {
		return Report{}, err
	}
	groups := map[string][]*conv{}
	labels := map[string]string{}
	for _, c := range convs {
		key, label := groupKey(c, q.By)
		groups[key] = append(groups[key], c)
		labels[key] = label
	}
	r := Report{From: q.From, To: q.To, By: q.By, Groups: []Figures{}}
	for key, cs := range groups {
		f := compute(cs, hours, q.Now)
		f.Key, f.Label = key, labels[key]
		r.Groups = append(r.Groups, f)
	}
	sort.Slice(r.Groups, func(i, j int) bool {
		if r.Groups[i].Conversations != r.Groups[j].Conversations {
			return r.Groups[i].Conversations > r.Groups[j].Conversations
		}
		return r.Groups[i].Key < r.Groups[j].Key
	})
	r.Total = compute(convs, hours, q.Now)
	r.Total.Key, r.Total.Label = "total", "total"
	return r, nil
}

func groupKey(c *conv, by string) (string, string) {
	orNone := func(s string) (string, string) {
		if s == "" {
			return NoKey, NoKey
		}
		return s, s
	}
	var last *hand
	if len(c.handoffs) > 0 {
		last = &c.handoffs[len(c.handoffs)-1]
	}
	switch by {
	case ByChannel:
		return orNone(c.channel)
	case BySector:
		return orNone(c.sector)
	case ByTeam:
		if last == nil {
			return NoKey, NoKey
		}
		return orNone(last.team)
	case ByAttendant:
		if last == nil || last.owner == nil {
			return NoKey, NoKey
		}
		return last.owner.String(), last.ownerName
	}
	return "all", "all"
}

// tagged is the cohort's tag condition on conversation c ($4: a tag key, or
// "" for every conversation); the tags package owns that SQL.
var tagged = `($4 = '' OR ` + tags.MatchSQL("c.account_id", "c.contact_id", "c.id", "$4") + `)`

// cohortCTE is the conversations started in the range (and tagged so).
var cohortCTE = `WITH cohort AS (SELECT c.id FROM conversations c WHERE c.account_id = $1 AND c.started_at >= $2 AND c.started_at < $3 AND ` + tagged + `) `

func (s *Store) cohort(ctx context.Context, accountID uuid.UUID, q Query) ([]*conv, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.id, c.contact_id, c.status, c.sector, c.started_at,
			CASE WHEN c.status = 'resolved' THEN c.resolved_at END, c.last_message_at,
			coalesce(fm.channel, c.last_channel), coalesce(n.msg_in, 0), coalesce(n.msg_out, 0), fi.at, fr.at,
			c.status = 'resolved' AND c.resolved_at IS NOT NULL AND EXISTS (SELECT 1 FROM conversations o
				WHERE o.account_id = c.account_id AND o.contact_id = c.contact_id AND o.id <> c.id
				AND o.started_at > c.resolved_at AND o.started_at <= c.resolved_at + interval '7 days'),
			r.conversation_id IS NOT NULL, r.score
		FROM conversations c
		LEFT JOIN LATERAL (SELECT e.channel FROM events e WHERE e.account_id = c.account_id AND e.conversation_id = c.id
			AND e.kind = 'message' ORDER BY e.occurred_at, e.id LIMIT 1) fm ON true
		LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE e.direction = 'in') AS msg_in, count(*) FILTER (WHERE e.direction = 'out') AS msg_out
			FROM events e WHERE e.account_id = c.account_id AND e.conversation_id = c.id AND e.kind = 'message') n ON true
		LEFT JOIN LATERAL (SELECT min(e.occurred_at) AS at FROM events e WHERE e.account_id = c.account_id AND e.conversation_id = c.id
			AND e.kind = 'message' AND e.direction = 'in' AND e.author = 'contact') fi ON true
		LEFT JOIN LATERAL (SELECT min(e.occurred_at) AS at FROM events e WHERE e.account_id = c.account_id AND e.conversation_id = c.id
			AND e.kind = 'message' AND e.direction = 'out' AND e.author IN ('ai', 'human') AND e.occurred_at >= fi.at) fr ON true
		LEFT JOIN csat_requests r ON r.account_id = c.account_id AND r.conversation_id = c.id
		WHERE c.account_id = $1 AND c.started_at >= $2 AND c.started_at < $3 AND `+tagged+`
		ORDER BY c.started_at, c.id`, accountID, q.From, q.To, tags.Key(q.Tag))
	if err != nil {
		return nil, fmt.Errorf("read the report's conversations: %w", err)
	}
	defer rows.Close()
	var out []*conv
	byID := map[uuid.UUID]*conv{}
	for rows.Next() {
		c := &conv{}
		if err := rows.Scan(&c.id, &c.contact, &c.status, &c.sector, &c.started, &c.resolved, &c.lastMessage, &c.channel,
			&c.in, &c.out, &c.firstIn, &c.firstReply, &c.reopened, &c.asked, &c.score); err != nil {
			return nil, fmt.Errorf("read the report's conversations: %w", err)
		}
		out = append(out, c)
		byID[c.id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the report's conversations: %w", err)
	}

	hrows, err := s.pool.Query(ctx, cohortCTE+`SELECT h.conversation_id, h.reason, h.team, h.owner_id, coalesce(a.name, ''),
			h.created_at, h.sla_due, h.first_response_at
		FROM handoffs h JOIN cohort ON cohort.id = h.conversation_id
		LEFT JOIN attendants a ON a.account_id = h.account_id AND a.id = h.owner_id
		WHERE h.account_id = $1 ORDER BY h.created_at, h.id`, accountID, q.From, q.To, tags.Key(q.Tag))
	if err != nil {
		return nil, fmt.Errorf("read the report's handoffs: %w", err)
	}
	defer hrows.Close()
	for hrows.Next() {
		var id uuid.UUID
		var h hand
		if err := hrows.Scan(&id, &h.reason, &h.team, &h.owner, &h.ownerName, &h.created, &h.due, &h.firstResponse); err != nil {
			return nil, fmt.Errorf("read the report's handoffs: %w", err)
		}
		if c := byID[id]; c != nil {
			c.handoffs = append(c.handoffs, h)
		}
	}
	if err := hrows.Err(); err != nil {
		return nil, fmt.Errorf("read the report's handoffs: %w", err)
	}

	erows, err := s.pool.Query(ctx, cohortCTE+`SELECT e.conversation_id, e.author, coalesce(e.payload->>'transfer_from', ''),
			coalesce(e.payload->>'sector', ''), coalesce(e.payload->>'clock', '')
		FROM events e JOIN cohort ON cohort.id = e.conversation_id
		WHERE e.account_id = $1 AND e.kind IN ('action', 'handoff')
		AND ((e.author = 'ai' AND coalesce(e.payload->>'transfer_from', '') <> '')
			OR (e.author = 'system' AND e.payload->>'clock' = 'next_response'))
		ORDER BY e.occurred_at, e.id`, accountID, q.From, q.To, tags.Key(q.Tag))
	if err != nil {
		return nil, fmt.Errorf("read the report's transfers: %w", err)
	}
	defer erows.Close()
	for erows.Next() {
		var id uuid.UUID
		var author, from, to, clock string
		if err := erows.Scan(&id, &author, &from, &to, &clock); err != nil {
			return nil, fmt.Errorf("read the report's transfers: %w", err)
		}
		c := byID[id]
		switch {
		case c == nil:
		case author == "ai":
			c.transfers = append(c.transfers, from+">"+to)
		case clock == handoff.SLANextResponse:
			c.nextBreaches++
		}
	}
	return out, erows.Err()
}

// teamHours are the business hours of the account's teams by name.
func (s *Store) teamHours(ctx context.Context, accountID uuid.UUID) (map[string]handoff.BusinessHours, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, definition FROM teams WHERE account_id = $1`, accountID)
	if err != nil {
		return nil, fmt.Errorf("read teams: %w", err)
	}
	defer rows.Close()
	out := map[string]handoff.BusinessHours{}
	for rows.Next() {
		var name string
		var raw []byte
		if err := rows.Scan(&name, &raw); err != nil {
			return nil, fmt.Errorf("read teams: %w", err)
		}
		var t handoff.Team
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, fmt.Errorf("decode team %s: %w", name, err)
		}
		h, err := handoff.ParseHours(t.Timezone, t.Hours, t.Holidays)
		if err != nil {
			return nil, fmt.Errorf("team %s: %w", name, err)
		}
		out[name] = h
	}
	return out, rows.Err()
}

func compute(cs []*conv, hours map[string]handoff.BusinessHours, now time.Time) Figures {
	f := Figures{Conversations: len(cs), CSATDistribution: map[string]int{"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
		HandoffsByReason: map[string]int{}, TransfersByRoute: map[string]int{}}
	var first, handled, hfirst, hbusiness []float64
	var fcr, withHandoff, contained, scored, scoreSum int
	for _, c := range cs {
		f.MessagesIn += c.in
		f.MessagesOut += c.out
		if c.firstIn != nil && c.firstReply != nil {
			first = append(first, c.firstReply.Sub(*c.firstIn).Seconds())
		}
		if c.status == "resolved" && c.resolved != nil {
			handled = append(handled, c.resolved.Sub(c.started).Seconds())
			if !c.reopened {
				fcr++
			}
		}
		if c.asked {
			f.CSATAsked++
		}
		if c.score != nil {
			scored++
			scoreSum += *c.score
			f.CSATDistribution[fmt.Sprint(*c.score)]++
		}
		if len(c.handoffs) > 0 {
			withHandoff++
		} else if c.status == "resolved" || now.Sub(c.lastMessage) >= 24*time.Hour {
			contained++
		}
		for _, h := range c.handoffs {
			f.Handoffs++
			f.HandoffsByReason[h.reason]++
			switch {
			case h.firstResponse != nil && !h.firstResponse.After(h.due):
				f.SLAFirstResponseMet++
			case h.firstResponse != nil || h.due.Before(now):
				f.SLAFirstResponseMissed++
			}
			if h.firstResponse != nil {
				hfirst = append(hfirst, h.firstResponse.Sub(h.created).Seconds())
				hbusiness = append(hbusiness, hours[h.team].Between(h.created, *h.firstResponse).Seconds())
			}
		}
		f.SLANextResponseBreaches += c.nextBreaches
		for _, t := range c.transfers {
			f.Transfers++
			f.TransfersByRoute[t]++
		}
	}
	f.FirstResponses = len(first)
	f.FirstResponseSecondsP50, f.FirstResponseSecondsP90, f.FirstResponseSecondsAvg = Percentile(first, 0.5), Percentile(first, 0.9), mean(first)
	f.HandoffFirstResponseSecondsP50, f.HandoffFirstResponseBusinessSecondsP50 = Percentile(hfirst, 0.5), Percentile(hbusiness, 0.5)
	f.Resolved = len(handled)
	f.HandlingSecondsAvg, f.ResolveSecondsP50 = mean(handled), Percentile(handled, 0.5)
	f.FCRRate = ratio(fcr, f.Resolved)
	f.CSATResponses = scored
	f.CSATResponseRate = ratio(scored, f.CSATAsked)
	if scored > 0 {
		avg := float64(scoreSum) / float64(scored)
		f.CSATAvg = &avg
	}
	f.HandoffRate = ratio(withHandoff, f.Conversations)
	f.BotContainmentRate = ratio(contained, f.Conversations)
	f.SLAFirstResponseHitRate = ratio(f.SLAFirstResponseMet, f.SLAFirstResponseMet+f.SLAFirstResponseMissed)
	return f
}

// Percentile is the nearest-rank p-th percentile (0 < p <= 1) of values;
// nil when there are none.
func Percentile(values []float64, p float64) *float64 {
	if len(values) == 0 {
		return nil
	}
	v := append([]float64(nil), values...)
	sort.Float64s(v)
	rank := int(math.Ceil(p*float64(len(v)))) - 1
	rank = max(0, min(rank, len(v)-1))
	return &v[rank]
}

func mean(values []float64) *float64 {
	if len(values) == 0 {
		return nil
	}
	var sum float64
	for _, v := range values {
		sum += v
	}
	m := sum / float64(len(values))
	return &m
}

func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}

// IsLead reports whether an attendant supervises one of the account's teams
// (the inbox shows reports to admins and team supervisors).
func (s *Store) IsLead(ctx context.Context, accountID, attendantID uuid.UUID) (bool, error) {
	var lead bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM teams WHERE account_id = $1 AND supervisor_id = $2)`,
		accountID, attendantID).Scan(&lead); err != nil {
		return false, fmt.Errorf("read the supervisors: %w", err)
	}
	return lead, nil
}
