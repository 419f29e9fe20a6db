package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

func runChains(t *testing.T, open Open) {
	t.Run("Chains", func(t *testing.T) {
		t.Run("RoundTrip", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			run := func(tenant, id, scheduleID string, occ time.Time, c *audit.ChainLink) audit.Export {
				e := newExport(tenant, id, "h-"+id, base)
				e.ScheduleID, e.Occurrence, e.Chain = scheduleID, &occ, c
				return e
			}
			_, err := b.store.LatestScheduleRun(b.ctx, "t1", "s1")
			requireCode(t, err, audit.ErrNotFound)

			occ := base.Truncate(time.Minute)
			snap := audit.Snapshot{Xmin: 7, Xmax: 12, Xip: []int64{8, 10}}
			first := &audit.ChainLink{Seq: 1, Start: base}
			second := &audit.ChainLink{Seq: 2, PrevExportID: "x1", Start: base, PrevSnapshot: &snap}
			for _, e := range []audit.Export{
				run("t1", "x0", "s1", occ.Add(-time.Hour), nil), // fired before chains
				run("t1", "x1", "s1", occ, first),
				run("t1", "x2", "s1", occ.Add(time.Hour), second),
				run("t1", "y1", "s2", occ, &audit.ChainLink{Seq: 9, Start: base}),
				run("t2", "z1", "s1", occ, &audit.ChainLink{Seq: 5, Start: base}),
			} {
				if err := b.store.CreateExport(b.ctx, e); err != nil {
					t.Fatalf("create %s: %v", e.ID, err)
				}
			}
			if got := getExport(t, b, "t1", "x2"); !reflect.DeepEqual(got.Chain, second) {
				t.Fatalf("chain of x2 = %+v, want %+v", got.Chain, second)
			}
			if got := getExport(t, b, "t1", "x1"); !reflect.DeepEqual(got.Chain, first) {
				t.Fatalf("chain of x1 = %+v, want %+v", got.Chain, first)
			}
			if got := getExport(t, b, "t1", "x0"); got.Chain != nil {
				t.Fatalf("chain of an unchained run = %+v", got.Chain)
			}
			latest, err := b.store.LatestScheduleRun(b.ctx, "t1", "s1")
			if err != nil || latest.ID != "x2" || latest.Chain.Seq != 2 {
				t.Fatalf("LatestScheduleRun = %s %+v, %v; want x2", latest.ID, latest.Chain, err)
			}
			// One number, one run: a second run 2 of s1 is a conflict, even
			// for another occurrence.
			dup := run("t1", "x3", "s1", occ.Add(2*time.Hour), &audit.ChainLink{Seq: 2, PrevExportID: "x1", Start: base})
			requireCode(t, b.store.CreateExport(b.ctx, dup), audit.ErrConflict)
			_, err = b.store.LatestScheduleRun(b.ctx, "t3", "s1")
			requireCode(t, err, audit.ErrNotFound)
		})

		t.Run("FreezeManifest", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			if err := b.store.CreateExport(b.ctx, newExport("t1", "x1", "h", base)); err != nil {
				t.Fatal(err)
			}
			if m, err := b.store.FrozenManifest(b.ctx, "t1", "x1"); err != nil || m != nil {
				t.Fatalf("FrozenManifest before freezing = %q, %v; want nil", m, err)
			}
			first := []byte(`{"version":"a","signature":"s1"}`)
			got, err := b.store.FreezeManifest(b.ctx, "t1", "x1", first)
			if err != nil || string(got) != string(first) {
				t.Fatalf("FreezeManifest = %q, %v; want %q", got, err, first)
			}
			// The first freeze wins: a later builder serves the same bytes.
			got, err = b.store.FreezeManifest(b.ctx, "t1", "x1", []byte(`{"version":"b"}`))
			if err != nil || string(got) != string(first) {
				t.Fatalf("second FreezeManifest = %q, %v; want the first %q", got, err, first)
			}
			if m, err := b.store.FrozenManifest(b.ctx, "t1", "x1"); err != nil || string(m) != string(first) {
				t.Fatalf("FrozenManifest = %q, %v; want %q", m, err, first)
			}
			_, err = b.store.FrozenManifest(b.ctx, "t2", "x1")
			requireCode(t, err, audit.ErrNotFound)
			_, err = b.store.FreezeManifest(b.ctx, "t2", "x1", first)
			requireCode(t, err, audit.ErrNotFound)
		})

		// LateRule runs a chain of windows while events arrive late into
		// windows that already ran: every event lands in exactly one run,
		// the first whose snapshot sees it, and the count agrees with the
		// stream.
		t.Run("LateRule", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			insert := func(evs ...audit.Event) {
				t.Helper()
				if _, err := b.store.InsertEvents(b.ctx, "t1", evs); err != nil {
					t.Fatal(err)
				}
			}
			snap := func() audit.Snapshot {
				t.Helper()
				s, err := b.store.Snapshot(b.ctx)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			// Windows of an hour: w(k) is [base+k h, base+(k+1) h - 1µs].
			at := func(window, minute int) audit.Event {
				return event("", fmt.Sprintf("w%d-m%02d", window, minute), time.Duration(window)*time.Hour+time.Duration(minute)*time.Minute)
			}
			floor := base
			var (
				runs    [][]string
				prev    *audit.Snapshot
				seen    = map[string]int{}
				visible []string // every event in the chain's range visible so far
			)
			// runK exports window k as run k+1 would and returns its ids.
			runK := func(k int) []string {
				t.Helper()
				s := snap()
				start, end := base.Add(time.Duration(k)*time.Hour), base.Add(time.Duration(k+1)*time.Hour-audit.TimePrecision)
				f := audit.Filter{TenantID: "t1", EventTypes: []string{"user"}, RangeStart: &start, RangeEnd: &end, AsOf: &s}
				if prev != nil {
					f.Late = &audit.LateRule{Floor: floor, Since: *prev}
				}
				got := ids(collect(t, b.store, b.ctx, f))
				if n := count(t, b, f, 0); n != int64(len(got)) {
					t.Errorf("run %d: count %d, stream %d", k+1, n, len(got))
				}
				// With After set the store cannot split the filter and asks
				// the one OR where() writes: the same events.
				g := f
				g.After = &audit.Snapshot{}
				if one := ids(collect(t, b.store, b.ctx, g)); !slices.Equal(one, got) {
					t.Errorf("run %d as one query = %v, as two = %v", k+1, one, got)
				}
				// A capped count (the PDF cap) stops at the cap, across the
				// late arrivals and the window.
				for limit := int64(1); limit <= int64(len(got)); limit++ {
					if n := count(t, b, f, limit); n != limit {
						t.Errorf("run %d: count capped at %d = %d", k+1, limit, n)
					}
				}
				prev = &s
				runs = append(runs, got)
				for _, id := range got {
					seen[id]++
				}
				return got
			}
			insert(at(0, 10), at(0, 20))
			before := event("", "before-floor", -time.Minute)
			insert(before)
			if got := runK(0); !slices.Equal(got, []string{"w0-m10", "w0-m20"}) {
				t.Fatalf("run 1 = %v", got)
			}
			visible = append(visible, "w0-m10", "w0-m20")

			// Late into window 0, on time for window 1; one late event that
			// another type filters out, one before the chain's floor.
			late1 := at(0, 30)
			other := at(0, 40)
			other.EventType = "other"
			insert(late1, at(1, 5), other, event("", "before-floor-late", -2*time.Minute))
			got := runK(1)
			if want := []string{late1.ID, "w1-m05"}; !slices.Equal(got, want) {
				t.Fatalf("run 2 = %v, want %v (the late event first, chronologically)", got, want)
			}
			visible = append(visible, got...)

			// Late into windows 0 and 1, nothing on time for window 2; then
			// a run with nothing late.
			late2, late3 := at(0, 50), at(1, 55)
			insert(late2, late3)
			if got := runK(2); !slices.Equal(got, []string{late2.ID, late3.ID}) {
				t.Fatalf("run 3 = %v, want only the late events", got)
			}
			visible = append(visible, late2.ID, late3.ID)
			insert(at(3, 1))
			if got := runK(3); !slices.Equal(got, []string{"w3-m01"}) {
				t.Fatalf("run 4 = %v, want only its own window", got)
			}
			visible = append(visible, "w3-m01")

			for id, n := range seen {
				if n != 1 {
					t.Errorf("event %s is in %d runs", id, n)
				}
			}
			if len(seen) != len(visible) {
				t.Errorf("the runs hold %d events, %d were ingested in the chain's range: %v", len(seen), len(visible), runs)
			}
			// Without the rule the late events would be lost for good.
			s := snap()
			start, end := base.Add(3*time.Hour), base.Add(4*time.Hour-audit.TimePrecision)
			plain := audit.Filter{TenantID: "t1", EventTypes: []string{"user"}, RangeStart: &start, RangeEnd: &end, AsOf: &s}
			if got := ids(collect(t, b.store, b.ctx, plain)); len(got) != 1 {
				t.Fatalf("window 3 without the rule = %v", got)
			}
		})
	})
}
