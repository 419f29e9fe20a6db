package schedule

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// MaxCronLength bounds the stored expression; five fields never need more.
const MaxCronLength = 100

// scanYears bounds the search for an occurrence. A schedule on 29 February
// fires at most eight years apart (2096 → 2104), so ten years always find one
// for an expression that ParseCron accepted.
const scanYears = 10

// starBit is robfig/cron's marker for a field written as "*" or "?" (its
// SpecSchedule exposes the bit sets, not the constant). It decides whether
// day-of-month and day-of-week AND (one is a star) or OR (neither is), as in
// Vixie cron.
const starBit = 1 << 63

// parser accepts exactly the five standard fields. Descriptors are refused:
// "@every 1h" is not a calendar schedule (its occurrences depend on when a
// process started, so replicas could not agree on them), and "@daily" and
// friends have a five-field spelling that says what they mean.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// Cron is a parsed five-field cron expression bound to a time zone. Its
// occurrences are wall-clock times in that zone, resolved to instants with
// these rules around daylight-saving transitions:
//
//   - A fixed-hour schedule (the hour field is not every hour, e.g.
//     "30 2 * * *") fires once per matching wall-clock time. A time that
//     does not exist because clocks jump forward fires at the end of the gap
//     (02:30 on the Berlin spring-forward day fires at 03:00 CEST), so a
//     daily report is never lost. A time that exists twice because clocks
//     fall back fires once, at its first (daylight-time) instance.
//   - A schedule that runs every hour ("*/15 * * * *", "0 * * * *") follows
//     elapsed time instead, as cron does for wildcard jobs: it fires at every
//     instant whose wall-clock time matches, so the repeated hour of a
//     fall-back night fires twice (at different instants) and the skipped
//     hour of a spring-forward night does not fire at all. Both keep the
//     interval between occurrences what the expression says.
//
// Occurrences from distinct wall-clock times that resolve to the same
// instant (02:00 and 02:30 both shifted to 03:00) are one occurrence.
type Cron struct {
	expr    string
	spec    *cron.SpecSchedule
	loc     *time.Location
	elapsed bool
}

// ParseCron parses a five-field expression (minute hour day-of-month month
// day-of-week, with the usual lists, ranges, steps and month/day names) for
// the zone loc. Errors are audit.Invalid naming "cron".
func ParseCron(expr string, loc *time.Location) (*Cron, error) {
	if loc == nil {
		loc = time.UTC
	}
	if len(expr) > MaxCronLength {
		return nil, audit.Invalid("cron", "cron is at most %d characters", MaxCronLength)
	}
	for _, r := range expr {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return nil, audit.Invalid("cron", "cron must not contain control characters")
		}
	}
	trimmed := strings.TrimSpace(expr)
	switch {
	case trimmed == "":
		return nil, audit.Invalid("cron", "cron is required, e.g. \"0 6 * * 1\" for Mondays at 06:00")
	case strings.HasPrefix(trimmed, "@"):
		return nil, audit.Invalid("cron",
			"cron %q: descriptors such as @daily or @every are not accepted; use five fields, e.g. \"0 0 * * *\"", expr)
	case strings.HasPrefix(trimmed, "TZ=") || strings.HasPrefix(trimmed, "CRON_TZ="):
		// robfig/cron would honour (and, without a following field, panic
		// on) an inline zone; ours lives in the timezone field.
		return nil, audit.Invalid("cron", "cron %q: give the time zone in timezone, not in the expression", expr)
	}
	if n := len(strings.Fields(trimmed)); n != 5 {
		return nil, audit.Invalid("cron",
			"cron %q has %d fields; it needs exactly 5: minute hour day-of-month month day-of-week", expr, n)
	}
	sched, err := parser.Parse(trimmed)
	if err != nil {
		return nil, audit.Invalid("cron", "cron %q is not valid: %v", expr, err)
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("schedule: cron %q parsed to %T", expr, sched)
	}
	spec.Location = loc
	c := &Cron{expr: trimmed, spec: spec, loc: loc, elapsed: spec.Hour&allHours == allHours}
	if !c.satisfiable() {
		return nil, audit.Invalid("cron", "cron %q never fires: no month it names has such a day", expr)
	}
	return c, nil
}

const allHours = 1<<24 - 1

// String returns the expression as parsed.
func (c *Cron) String() string { return c.expr }

// Location returns the zone the expression is evaluated in.
func (c *Cron) Location() *time.Location { return c.loc }

// satisfiable reports whether some day can match. Only a day-of-month list
// restricted to days a chosen month never has ("0 0 30 2 *") cannot, and only
// when day-of-week is a star (otherwise the two OR together, or the star
// day-of-month matches every day).
func (c *Cron) satisfiable() bool {
	s := c.spec
	if s.Dom&starBit != 0 || s.Dow&starBit == 0 {
		return true
	}
	for m := time.January; m <= time.December; m++ {
		if s.Month&(1<<uint(m)) == 0 {
			continue
		}
		for d := 1; d <= daysIn(m); d++ {
			if s.Dom&(1<<uint(d)) != 0 {
				return true
			}
		}
	}
	return false
}

// daysIn is the most days month m can have (29 for February).
func daysIn(m time.Month) int {
	return time.Date(2024, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (c *Cron) dayMatches(day time.Time) bool {
	s := c.spec
	if s.Month&(1<<uint(day.Month())) == 0 {
		return false
	}
	dom := s.Dom&(1<<uint(day.Day())) != 0
	dow := s.Dow&(1<<uint(day.Weekday())) != 0
	if s.Dom&starBit != 0 || s.Dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}

// Next returns the first occurrence strictly after after, in the cron's
// zone, or the zero time if there is none within ten years (cannot happen
// for an expression ParseCron accepted).
func (c *Cron) Next(after time.Time) time.Time {
	first := civilDate(after.In(c.loc)).AddDate(0, 0, -1)
	limit := first.AddDate(scanYears, 0, 0)
	var best time.Time
	foundOn := time.Time{}
	for day := first; !day.After(limit); day = day.AddDate(0, 0, 1) {
		if !foundOn.IsZero() && day.After(foundOn) {
			// One more day was examined after the first hit: an
			// occurrence of a later date cannot be earlier.
			break
		}
		for _, t := range c.occurrencesOn(day) {
			if t.After(after) && (best.IsZero() || t.Before(best)) {
				best = t
				if foundOn.IsZero() {
					foundOn = day.AddDate(0, 0, 1)
				}
			}
		}
	}
	if best.IsZero() {
		return time.Time{}
	}
	return best.In(c.loc)
}

// Prev returns the latest occurrence at or before t that is strictly after
// floor, or the zero time if there is none (a zero floor searches ten years
// back).
func (c *Cron) Prev(t, floor time.Time) time.Time {
	last := civilDate(t.In(c.loc)).AddDate(0, 0, 1)
	limit := last.AddDate(-scanYears, 0, 0)
	if !floor.IsZero() {
		if f := civilDate(floor.In(c.loc)).AddDate(0, 0, -1); f.After(limit) {
			limit = f
		}
	}
	var best time.Time
	foundOn := time.Time{}
	for day := last; !day.Before(limit); day = day.AddDate(0, 0, -1) {
		if !foundOn.IsZero() && day.Before(foundOn) {
			break
		}
		for _, o := range c.occurrencesOn(day) {
			if !o.After(t) && o.After(floor) && o.After(best) {
				best = o
				if foundOn.IsZero() {
					foundOn = day.AddDate(0, 0, -1)
				}
			}
		}
	}
	if best.IsZero() {
		return time.Time{}
	}
	return best.In(c.loc)
}

// occurrencesOn returns the instants of the local date day (a UTC midnight
// standing for a civil date), ascending and without duplicates.
func (c *Cron) occurrencesOn(day time.Time) []time.Time {
	if !c.dayMatches(day) {
		return nil
	}
	y, m, d := day.Date()
	noon := time.Date(y, m, d, 12, 0, 0, 0, c.loc)
	_, off := noon.Zone()
	start, end := noon.ZoneBounds()
	// Every instant a wall time of this date can denote lies within
	// [day-14h, day+36h] (offsets span -12h..+14h). When one zone period
	// covers all of it, each wall time is exactly one instant.
	stable := (start.IsZero() || !start.After(day.Add(-15*time.Hour))) &&
		(end.IsZero() || end.After(day.Add(39*time.Hour)))

	var out []time.Time
	for h := 0; h < 24; h++ {
		if c.spec.Hour&(1<<uint(h)) == 0 {
			continue
		}
		for mi := 0; mi < 60; mi++ {
			if c.spec.Minute&(1<<uint(mi)) == 0 {
				continue
			}
			naive := day.Add(time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute)
			if stable {
				out = append(out, naive.Add(-time.Duration(off)*time.Second))
				continue
			}
			instances, gapEnd := wallInstances(naive, c.loc)
			switch {
			case c.elapsed:
				out = append(out, instances...)
			case len(instances) > 0:
				out = append(out, instances[0])
			default:
				out = append(out, gapEnd)
			}
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(out, time.Time.Equal)
}

// wallInstances returns every instant whose wall-clock time in loc is naive
// (a UTC time standing for a wall-clock reading), ascending: none when the
// time falls into a gap, two when clocks fall back over it. For a gap it
// also returns the instant the gap ends, the first instant whose wall-clock
// time is later than naive.
func wallInstances(naive time.Time, loc *time.Location) (instances []time.Time, gapEnd time.Time) {
	// naive - offset lies within [naive-14h, naive+12h]; walk the zone
	// periods that intersect that span.
	p := naive.Add(-15 * time.Hour)
	limit := naive.Add(15 * time.Hour)
	for {
		pt := p.In(loc)
		_, off := pt.Zone()
		start, end := pt.ZoneBounds()
		cand := naive.Add(-time.Duration(off) * time.Second)
		afterStart := start.IsZero() || !cand.Before(start)
		beforeEnd := end.IsZero() || cand.Before(end)
		switch {
		case afterStart && beforeEnd:
			instances = append(instances, cand)
		case !afterStart && len(instances) == 0 && gapEnd.IsZero():
			// The previous period ended before naive on the wall and
			// this one starts after it: naive was skipped.
			gapEnd = start
		}
		if end.IsZero() || end.After(limit) {
			return instances, gapEnd
		}
		p = end
	}
}

// wallInstant returns the first instant whose wall-clock time in loc is at
// or after the civil date-time of naive: the earlier instance of a repeated
// time, the end of the gap for a skipped one. Windows use it for midnights.
func wallInstant(naive time.Time, loc *time.Location) time.Time {
	instances, gapEnd := wallInstances(naive, loc)
	if len(instances) > 0 {
		return instances[0]
	}
	return gapEnd
}

// civilDate returns t's calendar date, in t's location, as UTC midnight.
func civilDate(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
