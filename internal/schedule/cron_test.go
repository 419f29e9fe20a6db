package schedule

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func mustCron(t testing.TB, expr, zone string) *Cron {
	t.Helper()
	c, err := ParseCron(expr, mustLoc(t, zone))
	if err != nil {
		t.Fatalf("parse %q: %v", expr, err)
	}
	return c
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestParseCron(t *testing.T) {
	valid := []string{
		"0 6 * * 1", "*/15 * * * *", "0 0 1 1,4,7,10 *", "30 2 * * mon-fri", "0 0 29 2 *",
		"  0 6 * * *  ", "0 0 ? * sun", "0-59/5 8-18 * jan-dec *",
	}
	for _, expr := range valid {
		if _, err := ParseCron(expr, time.UTC); err != nil {
			t.Errorf("ParseCron(%q): %v", expr, err)
		}
	}
	invalid := []string{
		"", "   ", "@daily", "@every 1h", "@hourly", "0 0 6 * * *", "0 6 * *", "60 * * * *", "* 24 * * *",
		"0 0 0 * *", "0 0 * 13 *", "0 0 * * 8", "TZ=Europe/Berlin 0 6 * * *", "CRON_TZ=UTC", "0 0 30 2 *",
		"0 0 31 4,6,9,11 *", "a b c d e", "0 6 * * 1\n", "*/0 * * * *",
	}
	for _, expr := range invalid {
		_, err := ParseCron(expr, time.UTC)
		e := audit.AsError(err)
		if e == nil || e.Code != audit.EINVALID || e.Param != "cron" {
			t.Errorf("ParseCron(%q) = %v, want invalid cron", expr, err)
		}
	}
	// Day-of-month OR day-of-week when both are restricted (Vixie cron).
	c := mustCron(t, "0 0 13 * fri", "UTC")
	if got := c.Next(utc("2026-02-01T00:00:00Z")); !got.Equal(utc("2026-02-06T00:00:00Z")) {
		t.Errorf("13th or Friday: got %s", got)
	}
	// A leap-day schedule parses and finds its next leap year.
	c = mustCron(t, "0 0 29 2 *", "UTC")
	if got := c.Next(utc("2026-01-01T00:00:00Z")); !got.Equal(utc("2028-02-29T00:00:00Z")) {
		t.Errorf("leap day: got %s", got)
	}
	if got := c.Next(utc("2096-03-01T00:00:00Z")); !got.Equal(utc("2104-02-29T00:00:00Z")) {
		t.Errorf("leap day over 2100: got %s", got)
	}
}

// TestNextAcrossDST pins next-occurrence math around transitions in zones
// with northern (Berlin, New York) and southern (Sydney) daylight saving, a
// 30-minute shift (Lord Howe), a transition at midnight (Santiago) and none
// with a half-hour offset (Kolkata). Dates are 2026 unless noted.
func TestNextAcrossDST(t *testing.T) {
	tests := []struct {
		name, zone, cron string
		after            string
		want             []string // successive occurrences, UTC
	}{
		// Berlin: CET→CEST 29 March 02:00→03:00; CEST→CET 25 October 03:00→02:00.
		{"berlin 06:00 daily over spring forward", "Europe/Berlin", "0 6 * * *", "2026-03-28T04:30:00Z",
			[]string{"2026-03-28T05:00:00Z", "2026-03-29T04:00:00Z", "2026-03-30T04:00:00Z"}},
		{"berlin 06:00 daily over fall back", "Europe/Berlin", "0 6 * * *", "2026-10-24T03:00:00Z",
			[]string{"2026-10-24T04:00:00Z", "2026-10-25T05:00:00Z", "2026-10-26T05:00:00Z"}},
		{"berlin mondays 06:00 over spring forward", "Europe/Berlin", "0 6 * * 1", "2026-03-23T05:00:00Z",
			[]string{"2026-03-30T04:00:00Z", "2026-04-06T04:00:00Z"}},
		{"berlin 02:30 on spring-forward day shifts to 03:00 CEST", "Europe/Berlin", "30 2 * * *", "2026-03-28T01:30:00Z",
			[]string{"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
		{"berlin 02:30 on fall-back day fires once, first instance", "Europe/Berlin", "30 2 * * *", "2026-10-24T00:30:00Z",
			[]string{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
		{"berlin 02:00 and 02:30 in the gap are one occurrence", "Europe/Berlin", "0,30 2 * * *", "2026-03-28T23:00:00Z",
			[]string{"2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z", "2026-03-30T00:30:00Z"}},
		{"berlin 02:00,03:00 in the gap collapse with 03:00", "Europe/Berlin", "0 2,3 * * *", "2026-03-28T23:00:00Z",
			[]string{"2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"}},
		{"berlin hourly follows elapsed time at spring forward", "Europe/Berlin", "0 * * * *", "2026-03-28T23:30:00Z",
			[]string{"2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"}},
		{"berlin hourly fires in both repeated hours at fall back", "Europe/Berlin", "0 * * * *", "2026-10-24T23:30:00Z",
			[]string{"2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"}},
		{"berlin every 30 min at fall back", "Europe/Berlin", "*/30 * * * *", "2026-10-25T00:15:00Z",
			[]string{"2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z", "2026-10-25T02:00:00Z"}},
		{"berlin 06:00 in winter and summer of other years", "Europe/Berlin", "0 6 * * *", "2027-03-27T05:00:00Z",
			[]string{"2027-03-28T04:00:00Z"}},

		// New York: EST→EDT 8 March 02:00→03:00; EDT→EST 1 November 02:00→01:00.
		{"new york 06:00 over spring forward", "America/New_York", "0 6 * * *", "2026-03-07T10:00:00Z",
			[]string{"2026-03-07T11:00:00Z", "2026-03-08T10:00:00Z"}},
		{"new york 06:00 over fall back", "America/New_York", "0 6 * * *", "2026-10-31T09:00:00Z",
			[]string{"2026-10-31T10:00:00Z", "2026-11-01T11:00:00Z"}},
		{"new york 02:30 on spring-forward day shifts to 03:00 EDT", "America/New_York", "30 2 * * *", "2026-03-07T08:00:00Z",
			[]string{"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}},
		{"new york 01:30 on fall-back day fires once", "America/New_York", "30 1 * * *", "2026-10-31T06:00:00Z",
			[]string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},

		// Sydney (southern hemisphere): AEDT→AEST 5 April 03:00→02:00;
		// AEST→AEDT 4 October 02:00→03:00.
		{"sydney 06:00 over april fall back", "Australia/Sydney", "0 6 * * *", "2026-04-03T18:00:00Z",
			[]string{"2026-04-03T19:00:00Z", "2026-04-04T20:00:00Z"}},
		{"sydney 06:00 over october spring forward", "Australia/Sydney", "0 6 * * *", "2026-10-02T19:00:00Z",
			[]string{"2026-10-02T20:00:00Z", "2026-10-03T19:00:00Z"}},
		{"sydney 02:30 in october gap shifts to 03:00 AEDT", "Australia/Sydney", "30 2 * * *", "2026-10-02T17:00:00Z",
			[]string{"2026-10-03T16:00:00Z", "2026-10-04T15:30:00Z"}},
		{"sydney 02:30 in april repeat fires once", "Australia/Sydney", "30 2 * * *", "2026-04-03T16:00:00Z",
			[]string{"2026-04-04T15:30:00Z", "2026-04-05T16:30:00Z"}},

		// Lord Howe shifts by 30 minutes: 02:00→01:30 on 5 April,
		// 02:00→02:30 on 4 October.
		{"lord howe 01:45 repeated fires once", "Australia/Lord_Howe", "45 1 * * *", "2026-04-04T12:00:00Z",
			[]string{"2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"}},
		{"lord howe 02:15 in a 30-minute gap shifts to 02:30", "Australia/Lord_Howe", "15 2 * * *", "2026-10-03T12:00:00Z",
			[]string{"2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"}},

		// Santiago changes at midnight: 6 September 00:00 does not exist,
		// 4 April 23:00-24:00 happens twice.
		{"santiago midnight in the gap shifts to 01:00", "America/Santiago", "0 0 * * *", "2026-09-05T03:00:00Z",
			[]string{"2026-09-05T04:00:00Z", "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z"}},
		{"santiago 23:30 repeated fires once", "America/Santiago", "30 23 * * *", "2026-04-04T00:00:00Z",
			[]string{"2026-04-04T02:30:00Z", "2026-04-05T02:30:00Z", "2026-04-06T03:30:00Z"}},

		// Kolkata: +05:30 all year.
		{"kolkata 06:00", "Asia/Kolkata", "0 6 * * *", "2026-03-28T00:30:00Z",
			[]string{"2026-03-29T00:30:00Z", "2026-03-30T00:30:00Z"}},
		{"kolkata quarter hours", "Asia/Kolkata", "*/45 * * * *", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z", "2026-01-01T01:15:00Z"}},
		{"kolkata first of month", "Asia/Kolkata", "0 0 1 * *", "2026-01-31T18:30:00Z",
			[]string{"2026-02-28T18:30:00Z", "2026-03-31T18:30:00Z"}},

		// Month ends.
		{"31st skips short months", "UTC", "0 0 31 * *", "2026-01-31T00:00:00Z",
			[]string{"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"}},
		{"quarterly 1st", "UTC", "0 6 1 1,4,7,10 *", "2026-11-15T00:00:00Z",
			[]string{"2027-01-01T06:00:00Z", "2027-04-01T06:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustCron(t, tt.cron, tt.zone)
			at := utc(tt.after)
			for i, w := range tt.want {
				got := c.Next(at)
				if !got.Equal(utc(w)) {
					t.Fatalf("occurrence %d after %s: got %s (%s), want %s", i+1, at.Format(time.RFC3339),
						got.UTC().Format(time.RFC3339), got.Format(time.RFC3339), w)
				}
				if got.Location() != c.Location() {
					t.Errorf("Next returned %s, want the cron's zone", got.Location())
				}
				at = got
			}
		})
	}
}

// TestSixLocalAcrossYears checks the headline promise over years of
// transitions: a 06:00 schedule fires at 06:00 local every day, once.
func TestSixLocalAcrossYears(t *testing.T) {
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata",
		"America/Santiago", "Australia/Lord_Howe"} {
		t.Run(zone, func(t *testing.T) {
			c := mustCron(t, "0 6 * * *", zone)
			loc := c.Location()
			at := time.Date(2025, 12, 31, 12, 0, 0, 0, loc)
			prevDay := civilDate(at)
			for i := 0; i < 3*366; i++ {
				got := c.Next(at)
				l := got.In(loc)
				if l.Hour() != 6 || l.Minute() != 0 || l.Second() != 0 {
					t.Fatalf("occurrence %s is not 06:00 local", l)
				}
				if d := civilDate(l); !d.Equal(prevDay.AddDate(0, 0, 1)) {
					t.Fatalf("occurrence %s does not follow day %s", l, prevDay.Format(time.DateOnly))
				}
				prevDay = civilDate(l)
				at = got
			}
		})
	}
}

// TestPrevMatchesNext cross-checks the two directions on random instants.
func TestPrevMatchesNext(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	specs := []struct{ cron, zone string }{
		{"0 6 * * *", "Europe/Berlin"}, {"30 2 * * *", "Europe/Berlin"}, {"*/20 * * * *", "Europe/Berlin"},
		{"30 1 * * *", "America/New_York"}, {"0 * * * *", "America/New_York"}, {"30 2 * * 0", "Australia/Sydney"},
		{"15 2 * * *", "Australia/Lord_Howe"}, {"0 0 * * *", "America/Santiago"}, {"45 23 * * *", "America/Santiago"},
		{"0 0 1 */3 *", "Asia/Kolkata"}, {"0 12 29 2 *", "UTC"},
	}
	start := utc("2025-01-01T00:00:00Z")
	for _, s := range specs {
		c := mustCron(t, s.cron, s.zone)
		for i := 0; i < 300; i++ {
			at := start.Add(time.Duration(r.Int64N(int64(3 * 365 * 24 * time.Hour))))
			if i%3 == 0 {
				at = at.Truncate(time.Minute) // land on occurrences too
			}
			next := c.Next(at)
			if !next.After(at) {
				t.Fatalf("%s %s: Next(%s) = %s, not after", s.cron, s.zone, at, next)
			}
			if p := c.Prev(next, time.Time{}); !p.Equal(next) {
				t.Fatalf("%s %s: Prev(Next(%s)=%s) = %s", s.cron, s.zone, at, next, p)
			}
			prev := c.Prev(at, time.Time{})
			if prev.After(at) {
				t.Fatalf("%s %s: Prev(%s) = %s, after", s.cron, s.zone, at, prev)
			}
			// prev is the latest occurrence at or before at, so the first
			// one after it is next.
			if n := c.Next(prev); !n.Equal(next) {
				t.Fatalf("%s %s: Next(Prev(%s)=%s) = %s, want %s", s.cron, s.zone, at, prev, n, next)
			}
		}
	}
}

func TestWallInstances(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	naive := utc // a wall time, written as if it were UTC
	inst, gap := wallInstances(naive("2026-03-29T02:30:00Z"), berlin)
	if len(inst) != 0 || !gap.Equal(utc("2026-03-29T01:00:00Z")) {
		t.Errorf("gap: %v, %s", inst, gap)
	}
	inst, _ = wallInstances(naive("2026-10-25T02:30:00Z"), berlin)
	if len(inst) != 2 || !inst[0].Equal(utc("2026-10-25T00:30:00Z")) || !inst[1].Equal(utc("2026-10-25T01:30:00Z")) {
		t.Errorf("repeat: %v", inst)
	}
	inst, _ = wallInstances(naive("2026-07-01T12:00:00Z"), berlin)
	if len(inst) != 1 || !inst[0].Equal(utc("2026-07-01T10:00:00Z")) {
		t.Errorf("summer: %v", inst)
	}
	inst, _ = wallInstances(naive("2026-07-01T12:00:00Z"), time.UTC)
	if len(inst) != 1 || !inst[0].Equal(utc("2026-07-01T12:00:00Z")) {
		t.Errorf("utc: %v", inst)
	}
}

func TestParseCronErrorsAreAuditErrors(t *testing.T) {
	_, err := ParseCron("@every 5m", time.UTC)
	var e *audit.Error
	if !errors.As(err, &e) || e.Param != "cron" {
		t.Fatalf("got %v", err)
	}
}
