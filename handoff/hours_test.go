package handoff

import (
	"testing"
	"time"
)

func TestBusinessHours(t *testing.T) {
	sp, _ := time.LoadLocation("America/Sao_Paulo")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, sp)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Mon-Fri 09-18, Saturday morning; Christmas off. 2026-12-25 is a Friday.
	h, err := ParseHours("America/Sao_Paulo", map[string]string{"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00",
		"thu": "09:00-18:00", "fri": "09:00-18:00", "sat": "09:00-12:00"}, []string{"2026-12-25"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		start string
		sla   time.Duration
		due   string
		open  bool
	}{
		{"inside the day", "2026-11-23 10:00", time.Hour, "2026-11-23 11:00", true},
		{"overnight: the night does not count", "2026-11-23 17:30", time.Hour, "2026-11-24 09:30", true},
		{"after hours: the clock starts next morning", "2026-11-23 20:00", 30 * time.Minute, "2026-11-24 09:30", false},
		{"weekend: Saturday morning, then Monday", "2026-11-28 11:30", time.Hour, "2026-11-30 09:30", true},
		{"Sunday waits for Monday", "2026-11-29 15:00", 15 * time.Minute, "2026-11-30 09:15", false},
		{"holiday: Christmas Friday skips to Saturday", "2026-12-24 17:00", 2 * time.Hour, "2026-12-26 10:00", true},
		{"several days of business time", "2026-11-23 09:00", 20 * time.Hour, "2026-11-25 11:00", true},
	} {
		start := at(tc.start)
		if got := h.Add(start, tc.sla); !got.Equal(at(tc.due)) {
			t.Errorf("%s: due %s, want %s", tc.name, got.In(sp).Format("2006-01-02 15:04"), tc.due)
		}
		if h.IsOpen(start) != tc.open {
			t.Errorf("%s: open %v at %s", tc.name, !tc.open, tc.start)
		}
	}
	if got := h.NextOpen(at("2026-12-25 10:00")); !got.Equal(at("2026-12-26 09:00")) {
		t.Errorf("next open after Christmas: %s", got)
	}

	// A night desk: 22:00-06:00 every day crosses midnight.
	night, err := ParseHours("America/Sao_Paulo", map[string]string{"mon": "22:00-06:00", "tue": "22:00-06:00"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !night.IsOpen(at("2026-11-24 03:00")) || night.IsOpen(at("2026-11-24 12:00")) {
		t.Error("a span past midnight continues into the next day")
	}
	if got := night.Add(at("2026-11-24 05:30"), time.Hour); !got.Equal(at("2026-11-24 22:30")) {
		t.Errorf("overnight desk: %s", got.In(sp))
	}

	always, _ := ParseHours("", nil, nil)
	if !always.IsOpen(at("2026-11-29 03:00")) || !always.Add(at("2026-11-29 03:00"), time.Hour).Equal(at("2026-11-29 04:00")) {
		t.Error("no hours: always open")
	}
	for _, bad := range []map[string]string{{"seg": "09:00-18:00"}, {"mon": "9-18"}, {"mon": "09:00-09:00"}} {
		if _, err := ParseHours("", bad, nil); err == nil {
			t.Errorf("%v must be refused", bad)
		}
	}
	if _, err := ParseHours("Mars/Olympus", nil, nil); err == nil {
		t.Error("an unknown time zone must be refused")
	}
}

// Between counts only business time, and undoes Add.
func TestBusinessHoursBetween(t *testing.T) {
	sp, _ := time.LoadLocation("America/Sao_Paulo")
	h, err := ParseHours("America/Sao_Paulo", map[string]string{"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00",
		"thu": "09:00-18:00", "fri": "09:00-18:00", "sat": "09:00-12:00"}, []string{"2026-12-25"})
	if err != nil {
		t.Fatal(err)
	}
	fri := time.Date(2026, 11, 27, 17, 0, 0, 0, sp) // a Friday, an hour before closing
	mon := time.Date(2026, 11, 30, 10, 0, 0, 0, sp)
	if got := h.Between(fri, mon); got != 5*time.Hour { // 1 h Friday, 3 h Saturday, 1 h Monday
		t.Fatalf("Friday 17:00 to Monday 10:00: %v, want 5h", got)
	}
	if got := h.Between(mon, fri); got != 0 {
		t.Fatalf("backwards: %v", got)
	}
	for _, d := range []time.Duration{time.Minute, 90 * time.Minute, 9 * time.Hour, 30 * time.Hour} {
		for _, start := range []time.Time{fri, mon, time.Date(2026, 12, 24, 20, 0, 0, 0, sp)} {
			if got := h.Between(start, h.Add(start, d)); got != d {
				t.Errorf("Between(%v, Add(%v)) = %v", start, d, got)
			}
		}
	}
	var open BusinessHours
	if got := open.Between(fri, mon); got != mon.Sub(fri) {
		t.Fatalf("always open: %v", got)
	}
}
