package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/browser"
	"github.com/atende/atende/internal/demomonth"
)

// reportFixture seeds a small deterministic month through the demo
// generator: three teams, one with business hours, an admin.
func reportFixture(t *testing.T, s *testServer) (from, to time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.handoffs.PutAttendant(ctx, s.acctA, handoff.NewAttendant{Email: "lia@acme.com", Name: "Lia Lima", Password: "senha-da-lia-1",
		Role: handoff.RoleAdmin, Capacity: 10}); err != nil {
		t.Fatal(err)
	}
	weekdays := map[string]string{"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00", "thu": "09:00-18:00", "fri": "09:00-18:00"}
	if err := s.handoffs.PutTeams(ctx, s.acctA, []handoff.Team{
		{Name: "vendas", Members: []string{"lia@acme.com"}},
		{Name: "suporte", Members: []string{"lia@acme.com"}, Timezone: "America/Sao_Paulo", Hours: weekdays},
		{Name: "financeiro"},
	}); err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(-24 * time.Hour).Truncate(time.Hour)
	res, err := demomonth.Generate(ctx, demomonth.Deps{Pool: s.pool, Memory: s.store, Channels: s.channels}, s.acctA,
		demomonth.Options{Seed: 7, End: end, Days: 12, Conversations: 70})
	if err != nil {
		t.Fatal(err)
	}
	if res.Handoffs < 5 || res.Breaches < 1 || res.CSATAnswers < 3 {
		t.Fatalf("the fixture is too thin to test anything: %+v", res)
	}
	if _, err := demomonth.Generate(ctx, demomonth.Deps{Pool: s.pool, Memory: s.store, Channels: s.channels}, s.acctA,
		demomonth.Options{Seed: 7, End: end, Days: 12, Conversations: 70}); err != demomonth.ErrAlreadySeeded {
		t.Fatalf("a second run must be refused: %v", err)
	}
	return end.Add(-12 * 24 * time.Hour), end
}

// rawConv is a conversation as the test rebuilds it from the raw rows.
type rawConv struct {
	id, contact            uuid.UUID
	status, sector, lastCh string
	started, lastMsg       time.Time
	resolved               *time.Time
	events                 []rawEvent
	handoffs               []rawHandoff
	asked                  bool
	score                  *int
}

type rawEvent struct {
	id                        int64
	kind, dir, author, chanel string
	at                        time.Time
	payload                   map[string]any
}

type rawHandoff struct {
	reason, team  string
	created, due  time.Time
	firstResponse *time.Time
	owner         *uuid.UUID
}

// expectedReport recomputes every figure in plain Go from the raw rows of
// conversations, events, handoffs, csat_requests and teams (no SQL beyond
// SELECT of whole rows).
func expectedReport(t *testing.T, s *testServer, from, to, now time.Time, by string) map[string]map[string]any {
	t.Helper()
	ctx := context.Background()
	all := map[uuid.UUID]*rawConv{}
	rows, err := s.pool.Query(ctx, `SELECT id, contact_id, status, sector, last_channel, started_at, last_message_at, resolved_at FROM conversations WHERE account_id = $1`, s.acctA)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		c := &rawConv{}
		if err := rows.Scan(&c.id, &c.contact, &c.status, &c.sector, &c.lastCh, &c.started, &c.lastMsg, &c.resolved); err != nil {
			t.Fatal(err)
		}
		all[c.id] = c
	}
	rows.Close()
	rows, err = s.pool.Query(ctx, `SELECT id, conversation_id, kind, direction, author, channel, occurred_at, payload FROM events WHERE account_id = $1 AND conversation_id IS NOT NULL`, s.acctA)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var e rawEvent
		var conv uuid.UUID
		var payload []byte
		if err := rows.Scan(&e.id, &conv, &e.kind, &e.dir, &e.author, &e.chanel, &e.at, &payload); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(payload, &e.payload)
		if c := all[conv]; c != nil {
			c.events = append(c.events, e)
		}
	}
	rows.Close()
	rows, err = s.pool.Query(ctx, `SELECT conversation_id, reason, team, created_at, sla_due, first_response_at, owner_id, id FROM handoffs WHERE account_id = $1`, s.acctA)
	if err != nil {
		t.Fatal(err)
	}
	type ordered struct {
		conv uuid.UUID
		h    rawHandoff
		id   uuid.UUID
	}
	var hs []ordered
	for rows.Next() {
		var o ordered
		if err := rows.Scan(&o.conv, &o.h.reason, &o.h.team, &o.h.created, &o.h.due, &o.h.firstResponse, &o.h.owner, &o.id); err != nil {
			t.Fatal(err)
		}
		hs = append(hs, o)
	}
	rows.Close()
	sort.Slice(hs, func(i, j int) bool {
		if !hs[i].h.created.Equal(hs[j].h.created) {
			return hs[i].h.created.Before(hs[j].h.created)
		}
		return hs[i].id.String() < hs[j].id.String()
	})
	for _, o := range hs {
		if c := all[o.conv]; c != nil {
			c.handoffs = append(c.handoffs, o.h)
		}
	}
	rows, err = s.pool.Query(ctx, `SELECT conversation_id, score FROM csat_requests WHERE account_id = $1`, s.acctA)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uuid.UUID
		var score *int
		if err := rows.Scan(&id, &score); err != nil {
			t.Fatal(err)
		}
		if c := all[id]; c != nil {
			c.asked, c.score = true, score
		}
	}
	rows.Close()
	hours := map[string]handoff.BusinessHours{}
	rows, err = s.pool.Query(ctx, `SELECT name, definition FROM teams WHERE account_id = $1`, s.acctA)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var raw []byte
		var team handoff.Team
		if err := rows.Scan(&name, &raw); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(raw, &team)
		if hours[name], err = handoff.ParseHours(team.Timezone, team.Hours, team.Holidays); err != nil {
			t.Fatal(err)
		}
	}
	rows.Close()

	groups := map[string][]*rawConv{}
	for _, c := range all {
		if c.started.Before(from) || !c.started.Before(to) {
			continue
		}
		sort.Slice(c.events, func(i, j int) bool {
			if !c.events[i].at.Equal(c.events[j].at) {
				return c.events[i].at.Before(c.events[j].at)
			}
			return c.events[i].id < c.events[j].id
		})
		key := "all"
		if by == "channel" {
			key = c.lastCh
			for _, e := range c.events {
				if e.kind == "message" {
					key = e.chanel
					break
				}
			}
		}
		groups[key] = append(groups[key], c)
		groups["total"] = append(groups["total"], c)
	}
	nearest := func(v []float64, p float64) any {
		if len(v) == 0 {
			return nil
		}
		sort.Float64s(v)
		return v[int(math.Ceil(p*float64(len(v))))-1]
	}
	avg := func(v []float64) any {
		if len(v) == 0 {
			return nil
		}
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	share := func(n, d int) any {
		if d == 0 {
			return nil
		}
		return float64(n) / float64(d)
	}
	out := map[string]map[string]any{}
	for key, cs := range groups {
		f := map[string]any{}
		var first, handled, hfirst, hbiz []float64
		in, outN, resolved, fcr, asked, scored, sum, handoffs, withHandoff, contained, met, missed, next, transfers := 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
		dist := map[string]any{"1": 0.0, "2": 0.0, "3": 0.0, "4": 0.0, "5": 0.0}
		byReason, routes := map[string]any{}, map[string]any{}
		for _, c := range cs {
			var firstIn *time.Time
			for _, e := range c.events {
				switch {
				case e.kind == "message" && e.dir == "in":
					in++
					if e.author == "contact" && firstIn == nil {
						at := e.at
						firstIn = &at
					}
				case e.kind == "message" && e.dir == "out":
					outN++
				}
			}
			if firstIn != nil {
				for _, e := range c.events {
					if e.kind == "message" && e.dir == "out" && (e.author == "ai" || e.author == "human") && !e.at.Before(*firstIn) {
						first = append(first, e.at.Sub(*firstIn).Seconds())
						break
					}
				}
			}
			for _, e := range c.events {
				if (e.kind == "action" || e.kind == "handoff") && e.author == "ai" && e.payload["transfer_from"] != nil && e.payload["transfer_from"] != "" {
					transfers++
					r := fmt.Sprint(e.payload["transfer_from"]) + ">" + fmt.Sprint(e.payload["sector"])
					routes[r] = toF(routes[r]) + 1
				}
				if e.kind == "action" && e.author == "system" && e.payload["clock"] == "next_response" {
					next++
				}
			}
			if c.status == "resolved" && c.resolved != nil {
				resolved++
				handled = append(handled, c.resolved.Sub(c.started).Seconds())
				back := false
				for _, o := range all {
					if o.contact == c.contact && o.id != c.id && o.started.After(*c.resolved) && !o.started.After(c.resolved.Add(7*24*time.Hour)) {
						back = true
					}
				}
				if !back {
					fcr++
				}
			}
			if c.asked {
				asked++
			}
			if c.score != nil {
				scored++
				sum += *c.score
				dist[fmt.Sprint(*c.score)] = toF(dist[fmt.Sprint(*c.score)]) + 1
			}
			if len(c.handoffs) > 0 {
				withHandoff++
			} else if c.status == "resolved" || now.Sub(c.lastMsg) >= 24*time.Hour {
				contained++
			}
			for _, h := range c.handoffs {
				handoffs++
				byReason[h.reason] = toF(byReason[h.reason]) + 1
				if h.firstResponse != nil {
					if h.firstResponse.After(h.due) {
						missed++
					} else {
						met++
					}
					hfirst = append(hfirst, h.firstResponse.Sub(h.created).Seconds())
					hbiz = append(hbiz, hours[h.team].Between(h.created, *h.firstResponse).Seconds())
				} else if h.due.Before(now) {
					missed++
				}
			}
		}
		f["conversations"], f["messages_in"], f["messages_out"] = float64(len(cs)), float64(in), float64(outN)
		f["first_responses"] = float64(len(first))
		f["first_response_seconds_p50"], f["first_response_seconds_p90"], f["first_response_seconds_avg"] = nearest(first, .5), nearest(first, .9), avg(first)
		f["handoff_first_response_seconds_p50"], f["handoff_first_response_business_seconds_p50"] = nearest(hfirst, .5), nearest(hbiz, .5)
		f["resolved"], f["handling_seconds_avg"], f["resolve_seconds_p50"] = float64(resolved), avg(handled), nearest(handled, .5)
		f["fcr_rate"] = share(fcr, resolved)
		f["csat_asked"], f["csat_responses"], f["csat_response_rate"] = float64(asked), float64(scored), share(scored, asked)
		f["csat_avg"] = nil
		if scored > 0 {
			f["csat_avg"] = float64(sum) / float64(scored)
		}
		f["csat_distribution"] = dist
		f["handoffs"], f["handoff_rate"], f["bot_containment_rate"] = float64(handoffs), share(withHandoff, len(cs)), share(contained, len(cs))
		f["handoffs_by_reason"], f["transfers"], f["transfers_by_route"] = byReason, float64(transfers), routes
		f["sla_first_response_met"], f["sla_first_response_missed"], f["sla_first_response_hit_rate"] = float64(met), float64(missed), share(met, met+missed)
		f["sla_next_response_breaches"] = float64(next)
		out[key] = f
	}
	return out
}

func toF(v any) float64 {
	f, _ := v.(float64)
	return f
}

func sameFigure(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && math.Abs(x-y) <= 1e-6*math.Max(1, math.Abs(x))
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if !sameFigure(x[k], y[k]) {
				return false
			}
		}
		return true
	}
	return a == nil && b == nil
}

// The report's figures equal those recomputed in Go from the raw timeline
// rows of a generated month, for the whole account and by channel; the CSV
// has the same figures; bad ranges are 400.
func TestReportsMatchTheRawTimeline(t *testing.T) {
	start := time.Now()
	s := newTestServer(t)
	from, to := reportFixture(t, s)
	t.Logf("fixture generated in %v", time.Since(start))
	now := time.Now()
	s.setNow(now)
	for _, by := range []string{"none", "channel"} {
		for _, r := range [][2]time.Time{{from, to}, {from.Add(3 * 24 * time.Hour), from.Add(8 * 24 * time.Hour)}} {
			var got struct {
				By     string           `json:"by"`
				Groups []map[string]any `json:"groups"`
				Total  map[string]any   `json:"total"`
			}
			path := "/api/v1/reports/summary?by=" + by + "&from=" + url.QueryEscape(r[0].Format(time.RFC3339)) + "&to=" + url.QueryEscape(r[1].Format(time.RFC3339))
			if code := s.call(t, s.keyA, "GET", path, nil, &got); code != 200 {
				t.Fatalf("%s: %d", path, code)
			}
			want := expectedReport(t, s, r[0], r[1], now, by)
			if len(got.Groups) != len(want)-1 {
				t.Fatalf("by %s: %d groups, want %d", by, len(got.Groups), len(want)-1)
			}
			check := func(key string, g map[string]any) {
				w, ok := want[key]
				if !ok {
					t.Errorf("by %s: unexpected group %q", by, key)
					return
				}
				for name, v := range w {
					if !sameFigure(v, g[name]) {
						t.Errorf("by %s, group %s: %s = %v, recomputed %v", by, key, name, g[name], v)
					}
				}
				if len(g) != len(w)+2 { // key and label
					t.Errorf("by %s, group %s: %d figures served, %d recomputed", by, key, len(g)-2, len(w))
				}
			}
			for _, g := range got.Groups {
				check(fmt.Sprint(g["key"]), g)
			}
			check("total", got.Total)
			if by == "none" && r[0].Equal(from) {
				tot := got.Total
				for _, name := range []string{"handoffs", "csat_responses", "sla_first_response_met", "sla_first_response_missed", "resolved"} {
					if toF(tot[name]) == 0 {
						t.Errorf("the fixture has no %s: the comparison proves little", name)
					}
				}
				t.Logf("total: conversations %v, handoffs %v, SLA %v/%v, CSAT %v, FR p50 %v s, business p50 %v s vs %v s",
					tot["conversations"], tot["handoffs"], tot["sla_first_response_met"], tot["sla_first_response_missed"], tot["csat_avg"],
					tot["first_response_seconds_p50"], tot["handoff_first_response_business_seconds_p50"], tot["handoff_first_response_seconds_p50"])
			}
		}
	}

	// CSV: a header of the figure names, a row per group and the total.
	req, _ := http.NewRequest("GET", s.URL+"/api/v1/reports/summary?by=channel&format=csv&from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+url.QueryEscape(to.Format(time.RFC3339)), nil)
	req.Header.Set("Authorization", "Bearer "+s.keyA)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %v %q", resp.StatusCode, err, body)
	}
	want := expectedReport(t, s, from, to, now, "channel")
	if len(recs) != len(want)+1 {
		t.Fatalf("csv rows: %d, want a header and %d", len(recs), len(want))
	}
	header := strings.Join(recs[0], ",")
	for _, col := range []string{"key,label,conversations,messages_in", "csat_distribution.5", "sla_first_response_hit_rate", "handoffs_by_reason.asked_for_person"} {
		if !strings.Contains(header, col) {
			t.Errorf("csv header lacks %s: %s", col, header)
		}
	}
	total := recs[len(recs)-1]
	if total[0] != "total" || total[2] != fmt.Sprint(want["total"]["conversations"]) {
		t.Errorf("csv total row: %v", total)
	}

	for _, bad := range []struct{ query, says string }{
		{"from=2026-13-01&to=2026-12-01", "YYYY-MM-DD"},
		{"from=2025-01-01&to=2026-12-01", "366 days"},
		{"from=2026-12-01&to=2026-11-01", "after"},
		{"from=2026-11-01&to=2026-12-01&by=mood", "by must be"},
	} {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		if code := s.call(t, s.keyA, "GET", "/api/v1/reports/summary?"+bad.query, nil, &e); code != 400 || !strings.Contains(e.Error.Message, bad.says) {
			t.Errorf("%s: %d %q", bad.query, code, e.Error.Message)
		}
	}
	// Another account sees none of it.
	var other struct{ Total map[string]any }
	if code := s.call(t, s.keyB, "GET", "/api/v1/reports/summary?from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+url.QueryEscape(to.Format(time.RFC3339)), nil, &other); code != 200 || toF(other.Total["conversations"]) != 0 {
		t.Fatalf("account B: %d %v", code, other.Total["conversations"])
	}
}

// /inbox/relatorios renders the figures and its SVG charts in Chromium.
func TestInboxReportsInARealBrowser(t *testing.T) {
	s := newTestServer(t)
	from, to := reportFixture(t, s)
	s.setNow(time.Now())
	ctx := browser.New(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	de, ate := from.In(saoPaulo).Format("2006-01-02"), to.In(saoPaulo).Format("2006-01-02")
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/inbox/login"),
		chromedp.WaitVisible(chromedp.CSS("input[name=email]")),
		chromedp.SetValue(chromedp.CSS("input[name=empresa]"), "acme"),
		chromedp.SendKeys(chromedp.CSS("input[name=email]"), "lia@acme.com"),
		chromedp.SendKeys(chromedp.CSS("input[name=senha]"), "senha-da-lia-1"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("nav.pages a[href='/inbox/relatorios']")),
		chromedp.Click(chromedp.CSS("nav.pages a[href='/inbox/relatorios']")),
		chromedp.WaitVisible(chromedp.CSS("form.report-range")),
		chromedp.Navigate(s.URL+"/inbox/relatorios?de="+de+"&ate="+ate),
		chromedp.WaitVisible(chromedp.CSS("section.charts svg rect")),
	)
	if err != nil {
		t.Fatalf("open the reports: %v", err)
	}
	charts, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelectorAll('section.charts svg').length`))
	bars, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`Array.from(document.querySelectorAll('section.charts svg rect')).filter(r => r.getBBox().width > 0).length`))
	if charts != 3 || bars < 5 {
		t.Fatalf("the page draws %v charts with %v visible bars", charts, bars)
	}
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
	for _, want := range []string{"Conversas por canal", "Distribuição do CSAT", "1ª resposta (mediana) por setor", "WhatsApp", "SLA de 1ª resposta", "Pediu uma pessoa"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		path := filepath.Join(artifactsDir(t), "inbox-reports.png")
		_ = os.WriteFile(path, png, 0o644)
		t.Logf("screenshot in %s", path)
	}
}
