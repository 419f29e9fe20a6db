package schedule_test

import (
	"reflect"
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// runs returns the schedule's runs oldest first.
func (b *bundle) runs(t *testing.T, tenant, id string) []audit.Export {
	t.Helper()
	list := b.exports(t, tenant, id)
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

// TestChainWindowsAreContiguous fires an hourly schedule, lets the workers
// be down for three hours and fires again: the runs are numbered 1, 2, …,
// each links to the one before, and each window starts one microsecond
// after the previous one ended, so the catch-up run covers the downtime.
func TestChainWindowsAreContiguous(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, b *bundle) {
		b.create(t, newSchedule("t1", "hourly", "0 * * * *", "UTC", audit.Window{Kind: audit.LastHours, Hours: 1},
			utc("2026-01-01T00:00:00Z")))
		for _, now := range []string{"2026-01-01T01:00:05Z", "2026-01-01T02:00:05Z", "2026-01-01T05:10:00Z", "2026-01-01T06:00:05Z"} {
			if n := b.tick(t, utc(now)); n != 1 {
				t.Fatalf("tick at %s fired %d, want 1", now, n)
			}
		}
		runs := b.runs(t, "t1", "hourly")
		if len(runs) != 4 {
			t.Fatalf("%d runs, want 4", len(runs))
		}
		first := runs[0]
		if first.Chain == nil || first.Chain.Seq != 1 || first.Chain.PrevExportID != "" || first.Chain.PrevSnapshot != nil ||
			!first.Chain.Start.Equal(utc("2026-01-01T00:00:00Z")) || first.Chain.Late() != nil {
			t.Fatalf("first run's chain = %+v", first.Chain)
		}
		wantStart := []string{"2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z", "2026-01-01T05:00:00Z"}
		wantEnd := []string{"2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z", "2026-01-01T05:00:00Z", "2026-01-01T06:00:00Z"}
		for i, e := range runs {
			f := e.Params.Filter
			if !f.RangeStart.Equal(utc(wantStart[i])) || !f.RangeEnd.Equal(utc(wantEnd[i]).Add(-audit.TimePrecision)) {
				t.Errorf("run %d window %s .. %s, want %s .. %s - 1µs", i+1, f.RangeStart, f.RangeEnd, wantStart[i], wantEnd[i])
			}
			if e.Chain == nil || e.Chain.Seq != int64(i+1) || !e.Chain.Start.Equal(first.Chain.Start) {
				t.Fatalf("run %d chain = %+v", i+1, e.Chain)
			}
			if e.RequestHash != e.Params.Hash() {
				t.Errorf("run %d: request hash is not its params' hash", i+1)
			}
			if i == 0 {
				continue
			}
			prev := runs[i-1]
			if !f.RangeStart.Equal(prev.Params.Filter.RangeEnd.Add(audit.TimePrecision)) {
				t.Errorf("run %d starts at %s, not right after run %d's end %s", i+1, f.RangeStart, i, prev.Params.Filter.RangeEnd)
			}
			if e.Chain.PrevExportID != prev.ID || !reflect.DeepEqual(e.Chain.PrevSnapshot, &prev.AsOf.Snapshot) {
				t.Errorf("run %d links to %s %v, want %s %v", i+1, e.Chain.PrevExportID, e.Chain.PrevSnapshot, prev.ID, prev.AsOf.Snapshot)
			}
			if late := e.Chain.Late(); late == nil || !late.Floor.Equal(first.Chain.Start) {
				t.Errorf("run %d late rule = %+v", i+1, late)
			}
		}
	})
}

// TestChainSkipsEmptyWindows: a previous_day window fired every hour has
// nothing new to cover after the day's first run; those occurrences are
// marked fired without a run, and the next day's run starts where the last
// one ended.
func TestChainSkipsEmptyWindows(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, b *bundle) {
		b.create(t, newSchedule("t1", "s", "0 * * * *", "UTC", audit.Window{Kind: audit.PreviousDay},
			utc("2026-01-01T00:00:00Z")))
		if n := b.tick(t, utc("2026-01-02T00:00:05Z")); n != 1 {
			t.Fatalf("first tick fired %d", n)
		}
		if n := b.tick(t, utc("2026-01-02T01:00:05Z")); n != 0 {
			t.Fatalf("an occurrence with an empty window fired %d", n)
		}
		if got := b.lastFired(t, "t1", "s"); got == nil || !got.Equal(utc("2026-01-02T01:00:00Z")) {
			t.Fatalf("LastFiredAt = %v: the empty occurrence must count as fired", got)
		}
		if n := b.tick(t, utc("2026-01-03T00:00:05Z")); n != 1 {
			t.Fatalf("next day fired %d", n)
		}
		runs := b.runs(t, "t1", "s")
		if len(runs) != 2 || runs[1].Chain.Seq != 2 || !runs[1].Params.Filter.RangeStart.Equal(utc("2026-01-02T00:00:00Z")) {
			t.Fatalf("runs = %d, second %+v", len(runs), runs[len(runs)-1].Params.Filter)
		}
	})
}
