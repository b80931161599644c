package handoff

import (
	"fmt"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // teams' time zones work on hosts and containers without a zoneinfo database
)

// BusinessHours are when a team answers: weekly spans in the team's time
// zone, minus holidays. The SLA clock counts only this time; with no spans
// at all the team answers around the clock.
type BusinessHours struct {
	loc      *time.Location
	spans    [7][]span // by weekday: minutes from midnight, [from, to)
	holidays map[string]bool
}

type span struct{ from, to int }

// weekdays maps the business file's day names to Go's.
var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseHours reads a time zone ("America/Sao_Paulo"), weekly hours by day
// ({"mon": "09:00-18:00", "sat": "09:00-12:00, 13:00-17:00"}; a span past
// midnight like "22:00-06:00" continues into the next day) and holidays
// ("2026-12-25").
func ParseHours(timezone string, weekly map[string]string, holidays []string) (BusinessHours, error) {
	if timezone == "" {
		timezone = "America/Sao_Paulo"
	}
	loc, err := time.LoadLocation(timezone)
	if err != nil {
		return BusinessHours{}, fmt.Errorf("time zone %q: %w", timezone, err)
	}
	h := BusinessHours{loc: loc, holidays: map[string]bool{}}
	for day, spec := range weekly {
		wd, ok := weekdays[strings.ToLower(day)]
		if !ok {
			return BusinessHours{}, fmt.Errorf("hours: unknown day %q (sun, mon, tue, wed, thu, fri, sat)", day)
		}
		for _, part := range strings.Split(spec, ",") {
			from, to, ok := strings.Cut(strings.TrimSpace(part), "-")
			f, err1 := clock(from)
			t, err2 := clock(to)
			if !ok || err1 != nil || err2 != nil || f == t {
				return BusinessHours{}, fmt.Errorf("hours %s: %q is not HH:MM-HH:MM", day, part)
			}
			if t > f {
				h.spans[wd] = append(h.spans[wd], span{f, t})
				continue
			}
			h.spans[wd] = append(h.spans[wd], span{f, 24 * 60})
			if t > 0 {
				next := (wd + 1) % 7
				h.spans[next] = append(h.spans[next], span{0, t})
			}
		}
	}
	for i := range h.spans {
		sort.Slice(h.spans[i], func(a, b int) bool { return h.spans[i][a].from < h.spans[i][b].from })
	}
	for _, d := range holidays {
		if _, err := time.Parse("2006-01-02", d); err != nil {
			return BusinessHours{}, fmt.Errorf("holiday %q is not YYYY-MM-DD", d)
		}
		h.holidays[d] = true
	}
	return h, nil
}

func clock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		if strings.TrimSpace(s) == "24:00" {
			return 24 * 60, nil
		}
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

func (h BusinessHours) alwaysOpen() bool {
	for _, s := range h.spans {
		if len(s) > 0 {
			return false
		}
	}
	return true
}

// window returns the business span that contains t or the next one after it
// (start, end), searching up to two weeks ahead (holidays included).
func (h BusinessHours) window(t time.Time) (time.Time, time.Time, bool) {
	t = t.In(h.loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, h.loc)
	for i := 0; i < 15; i++ {
		d := day.AddDate(0, 0, i)
		if h.holidays[d.Format("2006-01-02")] {
			continue
		}
		for _, s := range h.spans[d.Weekday()] {
			start := d.Add(time.Duration(s.from) * time.Minute)
			end := d.Add(time.Duration(s.to) * time.Minute)
			if s.to == 24*60 {
				end = d.AddDate(0, 0, 1)
			}
			if end.After(t) {
				return maxTime(start, t), end, true
			}
		}
	}
	return time.Time{}, time.Time{}, false
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// IsOpen reports whether the team answers at t.
func (h BusinessHours) IsOpen(t time.Time) bool {
	if h.loc == nil || h.alwaysOpen() {
		return true
	}
	start, _, ok := h.window(t)
	return ok && !start.After(t)
}

// NextOpen is t when the team answers at t, else when it next does.
func (h BusinessHours) NextOpen(t time.Time) time.Time {
	if h.loc == nil || h.alwaysOpen() {
		return t
	}
	start, _, ok := h.window(t)
	if !ok {
		return t
	}
	return start
}

// Add returns the moment d of business time after t: the SLA due time. Time
// outside the hours (nights, weekends, holidays) does not count.
func (h BusinessHours) Add(t time.Time, d time.Duration) time.Time {
	if h.loc == nil || h.alwaysOpen() {
		return t.Add(d)
	}
	for {
		start, end, ok := h.window(t)
		if !ok {
			return t.Add(d)
		}
		if left := end.Sub(start); d <= left {
			return start.Add(d)
		} else {
			d -= left
		}
		t = end
	}
}

// Between is the business time from a to b (zero when b is not after a):
// what the SLA clock counts between them, the inverse of Add. Time outside
// the hours does not count; with no spans at all it is b - a.
func (h BusinessHours) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	if h.loc == nil || h.alwaysOpen() {
		return b.Sub(a)
	}
	var total time.Duration
	for t := a; t.Before(b); {
		start, end, ok := h.window(t)
		if !ok {
			return total + b.Sub(t) // as Add: no business time in two weeks counts as open
		}
		if !start.Before(b) {
			break
		}
		if end.After(b) {
			end = b
		}
		total += end.Sub(start)
		t = end
	}
	return total
}
