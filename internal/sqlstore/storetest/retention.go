package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

func runRetention(t *testing.T, open Open) {
	t.Run("RetentionPolicy", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		got, err := b.store.GetRetention(b.ctx, "t1")
		if err != nil || !reflect.DeepEqual(got, audit.RetentionPolicy{TenantID: "t1"}) {
			t.Fatalf("GetRetention without a policy = %+v, %v; want keep forever", got, err)
		}
		p1 := audit.RetentionPolicy{TenantID: "t1", EventDays: 30, ArchiveMinDays: 7, UpdatedAt: base}
		p2 := audit.RetentionPolicy{TenantID: "t2", ArchiveMinDays: 1, UpdatedAt: base}
		for _, p := range []audit.RetentionPolicy{p2, p1} {
			if err := b.store.PutRetention(b.ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := b.store.GetRetention(b.ctx, "t1"); err != nil || !reflect.DeepEqual(got, normalPolicy(p1)) {
			t.Fatalf("GetRetention = %+v, %v; want %+v", got, err, p1)
		}
		// Only t1 purges.
		if list, err := b.store.RetentionPolicies(b.ctx); err != nil || !reflect.DeepEqual(list, []audit.RetentionPolicy{normalPolicy(p1)}) {
			t.Fatalf("RetentionPolicies = %+v, %v", list, err)
		}
		// Replacing.
		p1.EventDays, p1.UpdatedAt = 0, base.Add(time.Hour)
		if err := b.store.PutRetention(b.ctx, p1); err != nil {
			t.Fatal(err)
		}
		if list, err := b.store.RetentionPolicies(b.ctx); err != nil || len(list) != 0 {
			t.Fatalf("RetentionPolicies after keep-forever = %+v, %v", list, err)
		}
		requireInvalid(t, b.store.PutRetention(b.ctx, audit.RetentionPolicy{TenantID: "t1", EventDays: -1}))
		requireInvalid(t, b.store.PutRetention(b.ctx, audit.RetentionPolicy{TenantID: "t1", ArchiveMinDays: audit.MaxRetentionDays + 1}))
	})

	t.Run("LegalHolds", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		h1 := audit.LegalHold{ID: "h1", TenantID: "t1", Name: "case 1", CreatedAt: base, CreatedByKeyID: "k1"}
		h2 := audit.LegalHold{ID: "h2", TenantID: "t1", RangeStart: ptr(base.Add(-time.Hour)), RangeEnd: ptr(base), CreatedAt: base.Add(time.Second)}
		h3 := audit.LegalHold{ID: "h3", TenantID: "t2", CreatedAt: base}
		for _, h := range []audit.LegalHold{h1, h2, h3} {
			if err := b.store.CreateHold(b.ctx, h); err != nil {
				t.Fatal(err)
			}
		}
		requireCode(t, b.store.CreateHold(b.ctx, h1), audit.ErrConflict)
		requireInvalid(t, b.store.CreateHold(b.ctx, audit.LegalHold{ID: "h4", TenantID: "t1", CreatedAt: base,
			RangeStart: ptr(base), RangeEnd: ptr(base.Add(-time.Hour))}))
		list, err := b.store.ListHolds(b.ctx, "t1", false)
		if err != nil || !reflect.DeepEqual(list, []audit.LegalHold{normalHold(h1), normalHold(h2)}) {
			t.Fatalf("ListHolds = %+v, %v", list, err)
		}
		released := base.Add(time.Hour)
		got, err := b.store.ReleaseHold(b.ctx, "t1", "h1", released)
		if err != nil || got.ReleasedAt == nil || !got.ReleasedAt.Equal(fromStore(released)) {
			t.Fatalf("ReleaseHold = %+v, %v", got, err)
		}
		if got, err := b.store.ReleaseHold(b.ctx, "t1", "h1", released.Add(time.Hour)); err != nil || !got.ReleasedAt.Equal(fromStore(released)) {
			t.Fatalf("ReleaseHold twice = %+v, %v; want the first release kept", got, err)
		}
		// Another tenant's hold is absent.
		_, err = b.store.ReleaseHold(b.ctx, "t1", "h3", released)
		requireCode(t, err, audit.ErrNotFound)
		if list, _ := b.store.ListHolds(b.ctx, "t1", false); len(list) != 1 || list[0].ID != "h2" {
			t.Fatalf("active holds = %+v, want h2", list)
		}
		if list, _ := b.store.ListHolds(b.ctx, "t1", true); len(list) != 2 {
			t.Fatalf("all holds = %+v, want h1 and h2", list)
		}
	})

	t.Run("PurgeEvents", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		// e00 … e19, one an hour from base-20h to base-1h; t2 has the same.
		var evs []audit.Event
		for i := range 20 {
			evs = append(evs, event("", fmt.Sprintf("e%02d", i), time.Duration(i-20)*time.Hour))
		}
		for _, tenant := range []string{"t1", "t2"} {
			if _, err := b.store.InsertEvents(b.ctx, tenant, evs); err != nil {
				t.Fatal(err)
			}
		}
		left := func(tenant string) []string { return ids(collect(t, b.store, b.ctx, audit.Filter{TenantID: tenant})) }
		purge := func(cutoff time.Time, limit int) audit.PurgeBatch {
			t.Helper()
			r, err := b.store.PurgeEvents(b.ctx, "t1", cutoff, limit)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		// Bounded: three at a time, oldest first, with their range.
		r := purge(base.Add(-15*time.Hour), 3)
		if r.Deleted != 3 || !r.Oldest.Equal(fromStore(base.Add(-20*time.Hour))) || !r.Newest.Equal(fromStore(base.Add(-18*time.Hour))) ||
			r.HeldBack != "" {
			t.Fatalf("first batch = %+v", r)
		}
		if r := purge(base.Add(-15*time.Hour), 3); r.Deleted != 2 { // e03, e04: the cutoff is exclusive
			t.Fatalf("second batch = %+v, want 2", r)
		}
		if r := purge(base.Add(-15*time.Hour), 3); r.Deleted != 0 {
			t.Fatalf("third batch = %+v, want nothing left", r)
		}
		if got := left("t1"); len(got) != 15 || got[0] != "e05" {
			t.Fatalf("t1 keeps %v", got)
		}
		if got := left("t2"); len(got) != 20 {
			t.Fatalf("the purge of t1 touched t2: %v", got)
		}

		// A hold on e06..e08 (inclusive bounds): the purge goes round it.
		hold := audit.LegalHold{ID: "h1", TenantID: "t1", RangeStart: ptr(base.Add(-14 * time.Hour)),
			RangeEnd: ptr(base.Add(-12 * time.Hour)), CreatedAt: base}
		if err := b.store.CreateHold(b.ctx, hold); err != nil {
			t.Fatal(err)
		}
		if r := purge(base.Add(-10*time.Hour), 100); r.Deleted != 2 { // e05, e09
			t.Fatalf("purge around a hold = %+v, want e05, e09 deleted", r)
		}
		if got := left("t1"); !slices.Equal(got[:4], []string{"e06", "e07", "e08", "e10"}) {
			t.Fatalf("after a purge around a hold: %v", got)
		}

		// An unfinished export reading from base-9h holds the cutoff there;
		// a completed one does not count.
		e := newExport("t1", "x1", "h", base)
		e.Params.Filter.RangeStart = ptr(base.Add(-9 * time.Hour))
		if err := b.store.CreateExport(b.ctx, e); err != nil {
			t.Fatal(err)
		}
		done := newExport("t1", "x0", "h0", base)
		done.Params.Filter.RangeStart = nil
		done.Status = audit.StatusCompleted
		if err := b.store.CreateExport(b.ctx, done); err != nil {
			t.Fatal(err)
		}
		r = purge(base.Add(-5*time.Hour), 100)
		if r.Deleted != 1 || !r.Cutoff.Equal(fromStore(base.Add(-9*time.Hour))) || r.HeldBack == "" { // e10
			t.Fatalf("purge with an unfinished export = %+v, want e10 only, held back at its range start", r)
		}
		// An unfinished export without a range start stops the purge.
		open := newExport("t1", "x2", "h2", base)
		open.Params.Filter.RangeStart = nil
		if err := b.store.CreateExport(b.ctx, open); err != nil {
			t.Fatal(err)
		}
		if r := purge(base, 100); r.Deleted != 0 || r.HeldBack == "" {
			t.Fatalf("purge with an unbounded unfinished export = %+v, want nothing", r)
		}
		for _, id := range []string{"x1", "x2"} {
			if err := b.store.FailExport(b.ctx, "t1", id, audit.EINTERNAL, "test", base); err != nil {
				t.Fatal(err)
			}
		}
		// A hold on the whole tenant stops everything; released, it does not.
		if err := b.store.CreateHold(b.ctx, audit.LegalHold{ID: "h2", TenantID: "t1", CreatedAt: base}); err != nil {
			t.Fatal(err)
		}
		if r := purge(base, 100); r.Deleted != 0 {
			t.Fatalf("purge under a tenant hold = %+v", r)
		}
		if _, err := b.store.ReleaseHold(b.ctx, "t1", "h2", base); err != nil {
			t.Fatal(err)
		}
		if r := purge(base, 100); r.Deleted != 9 { // e11..e19; e06..e08 stay held by h1
			t.Fatalf("purge after release = %+v, want 9", r)
		}
		if got := left("t1"); !slices.Equal(got, []string{"e06", "e07", "e08"}) {
			t.Fatalf("t1 keeps %v, want the held e06..e08", got)
		}
	})

	t.Run("ScheduleMinRetention", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		sc := newSchedule("t1", "s1", base)
		sc.MinRetentionDays = 90
		if err := b.store.CreateSchedule(b.ctx, sc); err != nil {
			t.Fatal(err)
		}
		got, err := b.store.GetSchedule(b.ctx, "t1", "s1")
		if err != nil || got.MinRetentionDays != 90 {
			t.Fatalf("GetSchedule = %d, %v; want min retention 90", got.MinRetentionDays, err)
		}
		got.MinRetentionDays, got.UpdatedAt = 0, base.Add(time.Hour)
		if err := b.store.UpdateSchedule(b.ctx, got); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.store.GetSchedule(b.ctx, "t1", "s1"); got.MinRetentionDays != 0 {
			t.Fatalf("after update: min retention %d, want 0", got.MinRetentionDays)
		}
	})

	t.Run("HeldExportsDoNotExpire", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		mk := func(id string, start, end *time.Time) {
			e := newExport("t1", id, id, base)
			e.Params.Filter.RangeStart, e.Params.Filter.RangeEnd = start, end
			e.Status, e.CompletedAt, e.ExpiresAt = audit.StatusCompleted, ptr(base), ptr(base.Add(time.Hour))
			e.MinRetentionDays = 3
			if err := b.store.CreateExport(b.ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		jan := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		day := 24 * time.Hour
		mk("before", ptr(jan), ptr(jan.Add(day-time.Microsecond)))
		mk("inside", ptr(jan.Add(2*day)), ptr(jan.Add(3*day)))
		mk("open", nil, nil)
		mk("after", ptr(jan.Add(10*day)), nil)
		if got := getExport(t, b, "t1", "inside"); got.MinRetentionDays != 3 {
			t.Fatalf("MinRetentionDays = %d, want 3", got.MinRetentionDays)
		}
		due := func() []string {
			t.Helper()
			es, err := b.store.ExportsDue(b.ctx, audit.DueQuery{Now: base.Add(2 * time.Hour), QueuedBefore: base})
			if err != nil {
				t.Fatal(err)
			}
			out := exportIDs(es)
			slices.Sort(out)
			return out
		}
		if got := due(); !slices.Equal(got, []string{"after", "before", "inside", "open"}) {
			t.Fatalf("due without holds = %v", got)
		}
		// Held: day 1 (inclusive) to day 5.
		if err := b.store.CreateHold(b.ctx, audit.LegalHold{ID: "h", TenantID: "t1", CreatedAt: base,
			RangeStart: ptr(jan.Add(day)), RangeEnd: ptr(jan.Add(5 * day))}); err != nil {
			t.Fatal(err)
		}
		if got := due(); !slices.Equal(got, []string{"after", "before"}) {
			t.Fatalf("due under a hold on days 1-5 = %v, want the archives outside it", got)
		}
		if _, err := b.store.ReleaseHold(b.ctx, "t1", "h", base); err != nil {
			t.Fatal(err)
		}
		if got := due(); len(got) != 4 {
			t.Fatalf("due after release = %v", got)
		}
	})
}

// runRetireArchive: the hold check, the file's removal and the record's
// end are one step that a legal hold being placed cannot get between.
func runRetireArchive(t *testing.T, open Open) {
	t.Run("RetireArchive", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		mk := func(id string) {
			e := newExport("t1", id, id, base)
			e.Status, e.CompletedAt, e.ExpiresAt, e.ObjectKey = audit.StatusCompleted, ptr(base), ptr(base.Add(time.Hour)), "k/"+id
			if err := b.store.CreateExport(b.ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"a", "b", "c"} {
			mk(id)
		}
		allow := func(audit.Export, []audit.LegalHold, audit.RetentionPolicy) error { return nil }
		var removed []string
		remove := func(e audit.Export) error { removed = append(removed, e.ObjectKey); return nil }

		// Another tenant's archive is absent.
		if _, err := b.store.RetireArchive(b.ctx, "t2", "a", nil, allow, remove); !errors.Is(err, audit.ErrNotFound) {
			t.Fatalf("another tenant's archive: %v, want not found", err)
		}
		// A hold placed while an archive is being retired waits for it.
		placed := make(chan error, 1)
		_, err := b.store.RetireArchive(b.ctx, "t1", "a", nil, allow, func(e audit.Export) error {
			go func() {
				placed <- b.store.CreateHold(b.ctx, audit.LegalHold{ID: "h", TenantID: "t1", CreatedAt: base})
			}()
			select {
			case err := <-placed:
				return fmt.Errorf("a legal hold was placed (%w) between the check and the deletion", err)
			case <-time.After(300 * time.Millisecond):
			}
			return remove(e)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := <-placed; err != nil {
			t.Fatalf("the hold, once the archive was gone: %v", err)
		}
		if _, err := b.store.GetExport(b.ctx, "t1", "a"); !errors.Is(err, audit.ErrNotFound) {
			t.Fatalf("deleted archive: %v", err)
		}
		// Now the guard sees the hold, and a refusal changes nothing.
		var seen []string
		refuse := func(e audit.Export, holds []audit.LegalHold, _ audit.RetentionPolicy) error {
			for _, h := range holds {
				seen = append(seen, h.ID)
			}
			return audit.HeldBy(e, holds, audit.RetentionPolicy{})
		}
		if _, err := b.store.RetireArchive(b.ctx, "t1", "b", nil, refuse, remove); audit.ErrorCode(err) != audit.ECONFLICT ||
			!slices.Equal(seen, []string{"h"}) {
			t.Fatalf("retire under a hold: %v (guard saw %v), want a conflict", err, seen)
		}
		if got := getExport(t, b, "t1", "b"); got.Status != audit.StatusCompleted {
			t.Fatalf("refused archive is %s", got.Status)
		}
		if _, err := b.store.ReleaseHold(b.ctx, "t1", "h", base); err != nil {
			t.Fatal(err)
		}
		// Storage refusing leaves the record.
		if _, err := b.store.RetireArchive(b.ctx, "t1", "b", nil, allow, func(audit.Export) error { return errors.New("locked") }); err == nil {
			t.Fatal("retire with a failing remove succeeded")
		}
		if got := getExport(t, b, "t1", "b"); got.Status != audit.StatusCompleted {
			t.Fatalf("archive whose file stayed is %s", got.Status)
		}
		// Expiry keeps the record, expired; twice is once.
		gone := base.Add(2 * time.Hour)
		for range 2 {
			if _, err := b.store.RetireArchive(b.ctx, "t1", "c", &gone, allow, remove); err != nil {
				t.Fatal(err)
			}
		}
		if got := getExport(t, b, "t1", "c"); got.Status != audit.StatusExpired {
			t.Fatalf("expired archive is %s", got.Status)
		}
		if !slices.Equal(removed, []string{"k/a", "k/c"}) {
			t.Fatalf("files removed = %v, want k/a then k/c once", removed)
		}
		// An unfinished export is not an archive.
		q := newExport("t1", "q", "q", base)
		if err := b.store.CreateExport(b.ctx, q); err != nil {
			t.Fatal(err)
		}
		if _, err := b.store.RetireArchive(b.ctx, "t1", "q", nil, allow, remove); audit.ErrorCode(err) != audit.ECONFLICT {
			t.Fatalf("retire a queued export: %v, want a conflict", err)
		}
	})
}

func fromStore(t time.Time) time.Time { return t.UTC().Truncate(audit.TimePrecision) }

func normalPolicy(p audit.RetentionPolicy) audit.RetentionPolicy {
	p.UpdatedAt = fromStore(p.UpdatedAt)
	return p
}

func normalHold(h audit.LegalHold) audit.LegalHold {
	h.CreatedAt = fromStore(h.CreatedAt)
	for _, p := range []**time.Time{&h.RangeStart, &h.RangeEnd, &h.ReleasedAt} {
		if *p != nil {
			t := fromStore(**p)
			*p = &t
		}
	}
	return h
}
