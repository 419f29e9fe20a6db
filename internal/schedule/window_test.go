package schedule

import (
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

func TestWindowRange(t *testing.T) {
	const us = "T00:00:00Z"
	tests := []struct {
		name   string
		zone   string
		window audit.Window
		occ    string // UTC
		start  string // UTC, inclusive
		bound  string // UTC, exclusive boundary; end = bound - 1µs
	}{
		// previous_day
		{"day of 23 hours (Berlin spring forward)", "Europe/Berlin", audit.Window{Kind: audit.PreviousDay},
			"2026-03-30T04:00:00Z", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"},
		{"day of 25 hours (Berlin fall back)", "Europe/Berlin", audit.Window{Kind: audit.PreviousDay},
			"2026-10-26T05:00:00Z", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"},
		{"day in Kolkata", "Asia/Kolkata", audit.Window{Kind: audit.PreviousDay},
			"2026-03-01T00:30:00Z", "2026-02-27T18:30:00Z", "2026-02-28T18:30:00Z"},
		{"year end (New York)", "America/New_York", audit.Window{Kind: audit.PreviousDay},
			"2027-01-01T11:00:00Z", "2026-12-31T05:00:00Z", "2027-01-01T05:00:00Z"},
		{"occurrence at local midnight is the next day", "Europe/Berlin", audit.Window{Kind: audit.PreviousDay},
			"2026-01-14T23:00:00Z", "2026-01-13T23:00:00Z", "2026-01-14T23:00:00Z"},
		{"day without a midnight (Santiago 6 Sep starts 01:00)", "America/Santiago", audit.Window{Kind: audit.PreviousDay},
			"2026-09-07T10:00:00Z", "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z"},
		{"day before one without a midnight", "America/Santiago", audit.Window{Kind: audit.PreviousDay},
			"2026-09-06T10:00:00Z", "2026-09-05T04:00:00Z", "2026-09-06T04:00:00Z"},

		// previous_week: Monday 00:00 to Monday 00:00
		{"week on Monday (Berlin, spring forward in it)", "Europe/Berlin", audit.Window{Kind: audit.PreviousWeek},
			"2026-03-30T04:00:00Z", "2026-03-22T23:00:00Z", "2026-03-29T22:00:00Z"},
		{"week on Sunday is the one before", "Europe/Berlin", audit.Window{Kind: audit.PreviousWeek},
			"2026-03-29T04:00:00Z", "2026-03-15T23:00:00Z", "2026-03-22T23:00:00Z"},
		{"week across the year end", "UTC", audit.Window{Kind: audit.PreviousWeek},
			"2027-01-01T06:00:00Z", "2026-12-21" + us, "2026-12-28" + us},
		{"ISO week 53 of 2026", "UTC", audit.Window{Kind: audit.PreviousWeek},
			"2027-01-04T06:00:00Z", "2026-12-28" + us, "2027-01-04" + us},
		{"week in Sydney", "Australia/Sydney", audit.Window{Kind: audit.PreviousWeek},
			"2026-04-05T20:00:00Z", "2026-03-29T13:00:00Z", "2026-04-05T14:00:00Z"},

		// previous_month
		{"March covers February (Berlin)", "Europe/Berlin", audit.Window{Kind: audit.PreviousMonth},
			"2026-03-02T05:00:00Z", "2026-01-31T23:00:00Z", "2026-02-28T23:00:00Z"},
		{"March covers leap February", "Europe/Berlin", audit.Window{Kind: audit.PreviousMonth},
			"2024-03-01T05:00:00Z", "2024-01-31T23:00:00Z", "2024-02-29T23:00:00Z"},
		{"late March still covers February", "Europe/Berlin", audit.Window{Kind: audit.PreviousMonth},
			"2026-03-31T04:00:00Z", "2026-01-31T23:00:00Z", "2026-02-28T23:00:00Z"},
		{"April covers March with the DST change", "Europe/Berlin", audit.Window{Kind: audit.PreviousMonth},
			"2026-04-01T04:00:00Z", "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z"},
		{"January covers December", "America/New_York", audit.Window{Kind: audit.PreviousMonth},
			"2027-01-01T05:00:00Z", "2026-12-01T05:00:00Z", "2027-01-01T05:00:00Z"},
		{"month in Sydney over April fall back", "Australia/Sydney", audit.Window{Kind: audit.PreviousMonth},
			"2026-04-05T20:00:00Z", "2026-02-28T13:00:00Z", "2026-03-31T13:00:00Z"},
		{"month in Kolkata", "Asia/Kolkata", audit.Window{Kind: audit.PreviousMonth},
			"2026-03-01T00:30:00Z", "2026-01-31T18:30:00Z", "2026-02-28T18:30:00Z"},
		{"occurrence at local 1st 00:00", "Europe/Berlin", audit.Window{Kind: audit.PreviousMonth},
			"2026-02-28T23:00:00Z", "2026-01-31T23:00:00Z", "2026-02-28T23:00:00Z"},
		{"one local minute before the 1st", "Europe/Berlin", audit.Window{Kind: audit.PreviousMonth},
			"2026-02-28T22:59:00Z", "2025-12-31T23:00:00Z", "2026-01-31T23:00:00Z"},

		// previous_quarter
		{"January covers Q4 of the year before", "Europe/Berlin", audit.Window{Kind: audit.PreviousQuarter},
			"2026-01-01T05:00:00Z", "2025-09-30T22:00:00Z", "2025-12-31T23:00:00Z"},
		{"May covers Q1", "Europe/Berlin", audit.Window{Kind: audit.PreviousQuarter},
			"2026-05-20T04:00:00Z", "2025-12-31T23:00:00Z", "2026-03-31T22:00:00Z"},
		{"31 December covers Q3", "Europe/Berlin", audit.Window{Kind: audit.PreviousQuarter},
			"2026-12-31T05:00:00Z", "2026-06-30T22:00:00Z", "2026-09-30T22:00:00Z"},
		{"1 July 00:00 covers Q2", "Europe/Berlin", audit.Window{Kind: audit.PreviousQuarter},
			"2026-06-30T22:00:00Z", "2026-03-31T22:00:00Z", "2026-06-30T22:00:00Z"},
		{"quarter in Sydney", "Australia/Sydney", audit.Window{Kind: audit.PreviousQuarter},
			"2026-07-01T00:00:00Z", "2026-03-31T13:00:00Z", "2026-06-30T14:00:00Z"},

		// last_hours: elapsed time, whatever the zone
		{"last 24 hours over spring forward", "Europe/Berlin", audit.Window{Kind: audit.LastHours, Hours: 24},
			"2026-03-29T04:00:00Z", "2026-03-28T04:00:00Z", "2026-03-29T04:00:00Z"},
		{"last hour", "Asia/Kolkata", audit.Window{Kind: audit.LastHours, Hours: 1},
			"2026-03-29T00:30:00Z", "2026-03-28T23:30:00Z", "2026-03-29T00:30:00Z"},
		{"last 8784 hours", "UTC", audit.Window{Kind: audit.LastHours, Hours: MaxWindowHours},
			"2025-01-01T00:00:00Z", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateWindow(tt.window); err != nil {
				t.Fatal(err)
			}
			start, end := WindowRange(tt.window, utc(tt.occ), mustLoc(t, tt.zone))
			wantEnd := utc(tt.bound).Add(-time.Microsecond)
			if !start.Equal(utc(tt.start)) || !end.Equal(wantEnd) {
				t.Fatalf("Range = [%s, %s], want [%s, %s]", start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano),
					tt.start, wantEnd.Format(time.RFC3339Nano))
			}
			if start.Location() != time.UTC || end.Location() != time.UTC {
				t.Errorf("Range not in UTC: %s %s", start.Location(), end.Location())
			}
		})
	}
}

// TestWindowsTile checks, over three years of firings in several zones,
// that consecutive calendar windows neither overlap nor leave a gap under
// the filter's inclusive range_end: each starts 1µs after the previous end.
func TestWindowsTile(t *testing.T) {
	cases := []struct {
		cron string
		kind audit.WindowKind
	}{
		{"0 6 * * *", audit.PreviousDay}, {"0 6 * * 1", audit.PreviousWeek}, {"0 6 1 * *", audit.PreviousMonth},
		{"0 6 1 1,4,7,10 *", audit.PreviousQuarter}, {"0 3 * * *", audit.PreviousDay},
	}
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/Santiago"} {
		for _, tc := range cases {
			c := mustCron(t, tc.cron, zone)
			w := audit.Window{Kind: tc.kind}
			at := utc("2024-01-01T00:00:00Z")
			var prevEnd time.Time
			for i := 0; i < 40 || (tc.kind == audit.PreviousDay && i < 3*366); i++ {
				occ := c.Next(at)
				start, end := WindowRange(w, occ, c.Location())
				if !prevEnd.IsZero() && !start.Equal(prevEnd.Add(audit.TimePrecision)) {
					t.Fatalf("%s %s %s: window at %s starts %s, previous ended %s", zone, tc.cron, tc.kind,
						occ, start, prevEnd)
				}
				if !end.Before(occ) {
					t.Fatalf("%s %s: window at %s ends %s, not before the occurrence", zone, tc.kind, occ, end)
				}
				prevEnd = end
				at = occ
			}
		}
	}
}

func TestWindowValidate(t *testing.T) {
	tests := []struct {
		w     audit.Window
		param string
	}{
		{audit.Window{Kind: audit.PreviousDay}, ""},
		{audit.Window{Kind: audit.LastHours, Hours: 1}, ""},
		{audit.Window{Kind: audit.LastHours, Hours: 8784}, ""},
		{audit.Window{}, "window.kind"},
		{audit.Window{Kind: "previous_year"}, "window.kind"},
		{audit.Window{Kind: audit.LastHours}, "window.hours"},
		{audit.Window{Kind: audit.LastHours, Hours: 8785}, "window.hours"},
		{audit.Window{Kind: audit.LastHours, Hours: -1}, "window.hours"},
		{audit.Window{Kind: audit.PreviousMonth, Hours: 3}, "window.hours"},
	}
	for _, tt := range tests {
		err := ValidateWindow(tt.w)
		if tt.param == "" {
			if err != nil {
				t.Errorf("%+v: %v", tt.w, err)
			}
			continue
		}
		if e := audit.AsError(err); e == nil || e.Code != audit.EINVALID || e.Param != tt.param {
			t.Errorf("%+v: got %v, want invalid %s", tt.w, err, tt.param)
		}
	}
}
