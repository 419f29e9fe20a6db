package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// newExport is an export request as the export service builds it.
func newExport(tenantID, id, hash string, created time.Time) audit.Export {
	return audit.Export{
		ID:       id,
		TenantID: tenantID,
		Params: audit.ExportParams{
			Filter:   audit.Filter{TenantID: tenantID, EventTypes: []string{"user"}, RangeStart: ptr(base)},
			FileType: audit.FileCSV,
			Locale:   "en",
			Timezone: "Europe/Paris",
		},
		RequestHash: hash,
		Status:      audit.StatusQueued,
		RowsTotal:   -1,
		CreatedAt:   created,
	}
}

func getExport(t *testing.T, b *testBundle, tenantID, id string) audit.Export {
	t.Helper()
	e, err := b.store.GetExport(b.ctx, tenantID, id)
	if err != nil {
		t.Fatalf("GetExport(%s, %s): %v", tenantID, id, err)
	}
	return e
}

func exportIDs(es []audit.Export) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func runExports(t *testing.T, open Open) {
	t.Run("Exports", func(t *testing.T) {
		t.Run("RoundTrip", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			e := audit.Export{
				ID: "x1", TenantID: "t1",
				Params: audit.ExportParams{
					Filter: audit.Filter{TenantID: "t1", AuditeeIDs: []string{"a", "b"}, EventTypes: []string{"user"},
						SubTypes: []string{"login"}, SystemSources: []string{"web"},
						Metadata:   map[string][]string{"entity_id": {"e1", "e2"}, "tag": {"x"}},
						RangeStart: ptr(base), RangeEnd: ptr(base.Add(time.Hour))},
					FileType: audit.FilePDF, Locale: "fr", Timezone: "Europe/Paris",
				},
				RequestHash: "h", Status: audit.StatusCompleted, RowsWritten: 10, RowsTotal: 10, SizeBytes: 1234,
				SHA256: "abc", ObjectKey: "tenants/t1/x1.pdf", ContentType: "application/pdf",
				FirstEventID: "f", LastEventID: "l", ErrorCode: "", ErrorMessage: "", Attempts: 2,
				ScheduleID: "s1", Occurrence: ptr(base.Add(-time.Hour)), WebhookURL: "https://example.com/h",
				CreatedAt: base, StartedAt: ptr(base.Add(time.Second)), CompletedAt: ptr(base.Add(2 * time.Second)),
				ExpiresAt: ptr(base.Add(48 * time.Hour)), RetentionDays: 2,
				RequesterKeyID: "k1", RequesterKeyName: "ci",
			}
			if err := b.store.CreateExport(b.ctx, e); err != nil {
				t.Fatal(err)
			}
			if got := getExport(t, b, "t1", "x1"); !reflect.DeepEqual(got, e) {
				t.Fatalf("read back\n got %+v\nwant %+v", got, e)
			}
			requireCode(t, b.store.CreateExport(b.ctx, e), audit.ErrConflict)
			_, err := b.store.GetExport(b.ctx, "t2", "x1")
			requireCode(t, err, audit.ErrNotFound)
			_, err = b.store.GetExport(b.ctx, "t1", "nope")
			requireCode(t, err, audit.ErrNotFound)
		})

		t.Run("CreateOrAttach", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			coa := func(e audit.Export, reuseSince time.Time) (audit.Export, bool) {
				t.Helper()
				got, created, err := b.store.CreateOrAttachExport(b.ctx, e, reuseSince, 0)
				if err != nil {
					t.Fatalf("CreateOrAttachExport(%s): %v", e.ID, err)
				}
				return got, created
			}
			window := base.Add(-time.Hour)

			first, created := coa(newExport("t1", "x1", "h1", base), window)
			if !created || first.ID != "x1" || first.Status != audit.StatusQueued {
				t.Fatalf("first = %+v, created %v", first, created)
			}
			if got := getExport(t, b, "t1", "x1"); !reflect.DeepEqual(got, first) {
				t.Fatalf("returned export differs from stored\n got %+v\nwant %+v", first, got)
			}
			// Queued: attach.
			if got, created := coa(newExport("t1", "x2", "h1", base.Add(time.Second)), window); created || got.ID != "x1" {
				t.Fatalf("attach to queued: %s created %v", got.ID, created)
			}
			// Another request, another tenant: new exports.
			if got, created := coa(newExport("t1", "x3", "h2", base), window); !created || got.ID != "x3" {
				t.Fatalf("other hash: %s created %v", got.ID, created)
			}
			if got, created := coa(newExport("t2", "x4", "h1", base), window); !created || got.ID != "x4" || got.TenantID != "t2" {
				t.Fatalf("other tenant: %+v created %v", got, created)
			}
			// Running: attach.
			if _, err := b.store.StartExport(b.ctx, "t1", "x1", base.Add(time.Minute), 5); err != nil {
				t.Fatal(err)
			}
			if got, created := coa(newExport("t1", "x5", "h1", base.Add(2*time.Minute)), window); created || got.ID != "x1" || got.Status != audit.StatusRunning {
				t.Fatalf("attach to running: %+v created %v", got, created)
			}
			// Completed at T: reused while T >= reuseSince, not after.
			done := base.Add(3 * time.Minute)
			if err := b.store.CompleteExport(b.ctx, "t1", "x1", audit.ExportResult{Rows: 5, ObjectKey: "k1"}, done, done.Add(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if got, created := coa(newExport("t1", "x6", "h1", done.Add(time.Minute)), done); created || got.ID != "x1" || got.Status != audit.StatusCompleted {
				t.Fatalf("reuse completed at the window's edge: %+v created %v", got, created)
			}
			newer, created := coa(newExport("t1", "x7", "h1", done.Add(2*time.Hour)), done.Add(time.Microsecond))
			if !created || newer.ID != "x7" {
				t.Fatalf("after the window: %s created %v", newer.ID, created)
			}
			// Failed: a new export.
			if err := b.store.FailExport(b.ctx, "t1", "x7", audit.EINTERNAL, "boom", done.Add(3*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if got, created := coa(newExport("t1", "x8", "h1", done.Add(4*time.Hour)), done.Add(time.Hour)); !created || got.ID != "x8" {
				t.Fatalf("after failure: %s created %v", got.ID, created)
			}
			// A scheduled run with the same hash does not block or capture
			// on-demand requests.
			sched := newExport("t1", "s1", "h9", base)
			sched.ScheduleID = "sch"
			if err := b.store.CreateExport(b.ctx, sched); err != nil {
				t.Fatal(err)
			}
			if got, created := coa(newExport("t1", "x9", "h9", base), window); !created || got.ID != "x9" {
				t.Fatalf("beside scheduled: %s created %v", got.ID, created)
			}
			sched2 := newExport("t1", "s2", "h9", base)
			sched2.ScheduleID = "sch"
			if err := b.store.CreateExport(b.ctx, sched2); err != nil {
				t.Fatalf("second scheduled run with one hash: %v", err)
			}
			_, _, err := b.store.CreateOrAttachExport(b.ctx, audit.Export{ID: "x", RequestHash: "h"}, window, 0)
			requireInvalid(t, err)
		})

		t.Run("CreateOrAttachMaxActive", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			window := base.Add(-time.Hour)
			for _, id := range []string{"x1", "x2"} {
				if _, created, err := b.store.CreateOrAttachExport(b.ctx, newExport("t1", id, "h-"+id, base), window, 2); err != nil || !created {
					t.Fatalf("%s under the limit: created %v, %v", id, created, err)
				}
			}
			// At the limit: a new export is refused, an identical request
			// still attaches, another tenant and scheduled runs are apart.
			_, _, err := b.store.CreateOrAttachExport(b.ctx, newExport("t1", "x3", "h-x3", base), window, 2)
			requireCode(t, err, audit.ErrTooMany)
			if got, created, err := b.store.CreateOrAttachExport(b.ctx, newExport("t1", "x4", "h-x1", base), window, 2); err != nil || created || got.ID != "x1" {
				t.Fatalf("identical request at the limit: %s created %v, %v; want x1 attached", got.ID, created, err)
			}
			if _, created, err := b.store.CreateOrAttachExport(b.ctx, newExport("t2", "y1", "h-x3", base), window, 2); err != nil || !created {
				t.Fatalf("another tenant: created %v, %v", created, err)
			}
			sched := newExport("t1", "s1", "h-s1", base)
			sched.ScheduleID = "sch"
			if err := b.store.CreateExport(b.ctx, sched); err != nil {
				t.Fatal(err)
			}
			// A finished export frees its place; scheduled runs never took one.
			if _, err := b.store.StartExport(b.ctx, "t1", "x1", base, -1); err != nil {
				t.Fatal(err)
			}
			if err := b.store.FailExport(b.ctx, "t1", "x1", "internal", "boom", base); err != nil {
				t.Fatal(err)
			}
			if _, created, err := b.store.CreateOrAttachExport(b.ctx, newExport("t1", "x3", "h-x3", base), window, 2); err != nil || !created {
				t.Fatalf("after one finished: created %v, %v", created, err)
			}
		})

		t.Run("CreateOrAttachConcurrent", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			for round := range 3 {
				hash := fmt.Sprint("hash", round)
				const n = 10
				var (
					wg      sync.WaitGroup
					mu      sync.Mutex
					created int
					ids     = map[string]bool{}
					errs    []error
				)
				start := make(chan struct{})
				for i := range n {
					wg.Go(func() {
						<-start
						e, c, err := b.store.CreateOrAttachExport(b.ctx,
							newExport("t1", fmt.Sprintf("r%d-%d", round, i), hash, base), base.Add(-time.Hour), 0)
						mu.Lock()
						defer mu.Unlock()
						if err != nil {
							errs = append(errs, err)
							return
						}
						ids[e.ID] = true
						if c {
							created++
						}
					})
				}
				close(start)
				wg.Wait()
				if len(errs) > 0 || created != 1 || len(ids) != 1 {
					t.Fatalf("round %d: %d created, ids %v, errors %v; want exactly one export", round, created, ids, errs)
				}
				list, err := b.store.ListExports(b.ctx, audit.ExportListFilter{TenantID: "t1"})
				if err != nil || len(list) != round+1 {
					t.Fatalf("round %d: %d exports stored, %v", round, len(list), err)
				}
			}
		})

		t.Run("Lifecycle", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			if err := b.store.CreateExport(b.ctx, newExport("t1", "x1", "h1", base)); err != nil {
				t.Fatal(err)
			}
			// Another tenant never reaches it.
			_, err := b.store.StartExport(b.ctx, "t2", "x1", base, 1)
			requireCode(t, err, audit.ErrNotFound)
			requireCode(t, b.store.UpdateProgress(b.ctx, "t2", "x1", 1, base), audit.ErrNotFound)
			requireCode(t, b.store.CompleteExport(b.ctx, "t2", "x1", audit.ExportResult{}, base, base), audit.ErrNotFound)
			requireCode(t, b.store.FailExport(b.ctx, "t2", "x1", "c", "m", base), audit.ErrNotFound)
			requireCode(t, b.store.ExpireExport(b.ctx, "t2", "x1", base), audit.ErrNotFound)
			requireCode(t, b.store.DeleteExport(b.ctx, "t2", "x1"), audit.ErrNotFound)
			if got := getExport(t, b, "t1", "x1"); got.Status != audit.StatusQueued || got.Attempts != 0 {
				t.Fatalf("touched by another tenant: %+v", got)
			}

			requireCode(t, b.store.UpdateProgress(b.ctx, "t1", "x1", 1, base), audit.ErrConflict) // not running
			requireCode(t, b.store.ExpireExport(b.ctx, "t1", "x1", base), audit.ErrConflict)      // not completed
			// Only a completed export's expiry is deferred; another tenant's
			// is not found.
			if err := b.store.DeferExpiry(b.ctx, "t1", "x1", base.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if got := getExport(t, b, "t1", "x1"); got.ExpiresAt != nil {
				t.Fatalf("a queued export's expiry deferred to %v", got.ExpiresAt)
			}
			requireCode(t, b.store.DeferExpiry(b.ctx, "t2", "x1", base), audit.ErrNotFound)

			t1 := base.Add(time.Second)
			e, err := b.store.StartExport(b.ctx, "t1", "x1", t1, 100)
			if err != nil || e.Status != audit.StatusRunning || e.Attempts != 1 || e.RowsTotal != 100 || e.StartedAt == nil || !e.StartedAt.Equal(t1) {
				t.Fatalf("start = %+v, %v", e, err)
			}
			if err := b.store.UpdateProgress(b.ctx, "t1", "x1", 40, base); err != nil {
				t.Fatal(err)
			}
			// A count made beside the run: only for this attempt while running.
			if err := b.store.SetRowsTotal(b.ctx, "t1", "x1", 1, 120); err != nil {
				t.Fatal(err)
			}
			if err := b.store.SetRowsTotal(b.ctx, "t1", "x1", 2, 999); err != nil { // not this attempt
				t.Fatal(err)
			}
			if err := b.store.SetRowsTotal(b.ctx, "t2", "x1", 1, 999); err != nil { // not this tenant
				t.Fatal(err)
			}
			if got := getExport(t, b, "t1", "x1"); got.RowsTotal != 120 {
				t.Fatalf("rows_total after SetRowsTotal = %d, want 120", got.RowsTotal)
			}
			if got := getExport(t, b, "t1", "x1"); got.RowsWritten != 40 {
				t.Fatalf("progress = %d", got.RowsWritten)
			}
			// A retry starts again: another attempt, progress reset.
			t2 := base.Add(2 * time.Second)
			e, err = b.store.StartExport(b.ctx, "t1", "x1", t2, 101)
			if err != nil || e.Attempts != 2 || e.RowsWritten != 0 || e.RowsTotal != 101 || !e.StartedAt.Equal(t2) {
				t.Fatalf("restart = %+v, %v", e, err)
			}
			done, expires := base.Add(3*time.Second), base.Add(24*time.Hour)
			res := audit.ExportResult{Rows: 101, SizeBytes: 2048, SHA256: "beef", ObjectKey: "tenants/t1/x1.csv",
				ContentType: "text/csv", FirstEventID: "a", LastEventID: "z", ProducerVersion: "1.4.2"}
			if err := b.store.CompleteExport(b.ctx, "t1", "x1", res, done, expires); err != nil {
				t.Fatal(err)
			}
			got := getExport(t, b, "t1", "x1")
			want := e
			want.Status, want.RowsWritten, want.RowsTotal, want.SizeBytes, want.SHA256 = audit.StatusCompleted, 101, 101, 2048, "beef"
			want.ObjectKey, want.ContentType, want.FirstEventID, want.LastEventID = res.ObjectKey, res.ContentType, "a", "z"
			want.CompletedAt, want.ExpiresAt, want.ProducerVersion = &done, &expires, "1.4.2"
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("completed\n got %+v\nwant %+v", got, want)
			}
			// Done: no more starts, completions or failures.
			_, err = b.store.StartExport(b.ctx, "t1", "x1", done, 1)
			requireCode(t, err, audit.ErrConflict)
			requireCode(t, b.store.CompleteExport(b.ctx, "t1", "x1", res, done, expires), audit.ErrConflict)
			requireCode(t, b.store.FailExport(b.ctx, "t1", "x1", "c", "m", done), audit.ErrConflict)
			requireCode(t, b.store.UpdateProgress(b.ctx, "t1", "x1", 1, base), audit.ErrConflict)
			// A count finishing after the run completed leaves the real figure.
			if err := b.store.SetRowsTotal(b.ctx, "t1", "x1", 2, 5); err != nil {
				t.Fatal(err)
			}
			if got := getExport(t, b, "t1", "x1"); got.RowsTotal != 101 {
				t.Fatalf("rows_total after a late SetRowsTotal = %d, want 101", got.RowsTotal)
			}

			// Storage retains the object longer (S3 Object Lock): the expiry
			// moves out, never in, and the export leaves the due list
			// until then.
			due := func(at time.Time) bool {
				t.Helper()
				es, err := b.store.ExportsDue(b.ctx, audit.DueQuery{Now: at, QueuedBefore: at, Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				return slices.ContainsFunc(es, func(e audit.Export) bool { return e.ID == "x1" })
			}
			if !due(expires.Add(time.Minute)) {
				t.Fatal("a completed export past its expiry is not due")
			}
			later := expires.Add(2 * time.Hour)
			requireCode(t, b.store.DeferExpiry(b.ctx, "t2", "x1", later), audit.ErrNotFound)
			if err := b.store.DeferExpiry(b.ctx, "t1", "x1", later); err != nil {
				t.Fatal(err)
			}
			if err := b.store.DeferExpiry(b.ctx, "t1", "x1", expires); err != nil { // earlier: no change
				t.Fatal(err)
			}
			if got := getExport(t, b, "t1", "x1"); got.ExpiresAt == nil || !got.ExpiresAt.Equal(later) {
				t.Fatalf("expiry after deferring to %v and then to the earlier %v: %v", later, expires, got.ExpiresAt)
			}
			if due(expires.Add(time.Minute)) || !due(later) {
				t.Fatal("a deferred export is due before its new expiry, or not at it")
			}

			gone := base.Add(25 * time.Hour)
			if err := b.store.ExpireExport(b.ctx, "t1", "x1", gone); err != nil {
				t.Fatal(err)
			}
			if err := b.store.ExpireExport(b.ctx, "t1", "x1", gone.Add(time.Hour)); err != nil {
				t.Fatalf("expire twice: %v", err)
			}
			if got := getExport(t, b, "t1", "x1"); got.Status != audit.StatusExpired || got.ObjectKey != res.ObjectKey {
				t.Fatalf("expired = %+v", got)
			}
			_, err = b.store.StartExport(b.ctx, "t1", "x1", gone, 1)
			requireCode(t, err, audit.ErrConflict)

			if err := b.store.DeleteExport(b.ctx, "t1", "x1"); err != nil {
				t.Fatal(err)
			}
			_, err = b.store.GetExport(b.ctx, "t1", "x1")
			requireCode(t, err, audit.ErrNotFound)
			requireCode(t, b.store.DeleteExport(b.ctx, "t1", "x1"), audit.ErrNotFound)
			_, err = b.store.StartExport(b.ctx, "t1", "x1", gone, 1)
			requireCode(t, err, audit.ErrNotFound)
		})

		t.Run("Fail", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			for _, id := range []string{"queued", "running"} {
				if err := b.store.CreateExport(b.ctx, newExport("t1", id, id, base)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := b.store.StartExport(b.ctx, "t1", "running", base, 1); err != nil {
				t.Fatal(err)
			}
			at := base.Add(time.Minute)
			for _, id := range []string{"queued", "running"} {
				if err := b.store.FailExport(b.ctx, "t1", id, audit.EINVALID, "too many events", at); err != nil {
					t.Fatalf("fail %s: %v", id, err)
				}
				got := getExport(t, b, "t1", id)
				if got.Status != audit.StatusFailed || got.ErrorCode != audit.EINVALID || got.ErrorMessage != "too many events" ||
					got.CompletedAt == nil || !got.CompletedAt.Equal(at) {
					t.Fatalf("failed %s = %+v", id, got)
				}
				// A give-up delivered twice is harmless.
				if err := b.store.FailExport(b.ctx, "t1", id, audit.EINTERNAL, "again", at.Add(time.Hour)); err != nil {
					t.Fatalf("fail twice: %v", err)
				}
				if got := getExport(t, b, "t1", id); got.ErrorCode != audit.EINVALID {
					t.Fatalf("second failure overwrote the first: %+v", got)
				}
				_, err := b.store.StartExport(b.ctx, "t1", id, at, 1)
				requireCode(t, err, audit.ErrConflict)
			}
		})

		t.Run("ExportsDue", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			now := base.Add(48 * time.Hour)
			stale := now.Add(-2 * time.Minute)
			mk := func(tenant, id string, created time.Time, status audit.ExportStatus, expires *time.Time) {
				t.Helper()
				e := newExport(tenant, id, id, created)
				e.Status, e.ExpiresAt = status, expires
				if status == audit.StatusCompleted || status == audit.StatusExpired {
					e.ObjectKey = "k/" + id
				}
				if err := b.store.CreateExport(b.ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			mk("t1", "expired-past", base, audit.StatusCompleted, ptr(now.Add(-time.Hour)))
			mk("t2", "expired-now", base.Add(time.Second), audit.StatusCompleted, ptr(now))
			mk("t1", "expires-later", base, audit.StatusCompleted, ptr(now.Add(time.Microsecond)))
			mk("t1", "already-expired", base, audit.StatusExpired, ptr(now.Add(-time.Hour)))
			mk("t2", "queued-stale", stale.Add(-time.Microsecond), audit.StatusQueued, nil)
			mk("t1", "queued-fresh", stale, audit.StatusQueued, nil)
			mk("t1", "running-old", base, audit.StatusRunning, nil)
			if _, err := b.store.StartExport(b.ctx, "t1", "running-old", base, 1); err != nil { // heartbeat at base
				t.Fatal(err)
			}
			mk("t1", "running-alive", base, audit.StatusRunning, nil)
			if _, err := b.store.StartExport(b.ctx, "t1", "running-alive", base, 1); err != nil {
				t.Fatal(err)
			}
			if err := b.store.UpdateProgress(b.ctx, "t1", "running-alive", 5, now); err != nil {
				t.Fatal(err)
			}
			mk("t1", "failed-old", base, audit.StatusFailed, nil)

			due, err := b.store.ExportsDue(b.ctx, audit.DueQuery{Now: now, QueuedBefore: stale, SilentBefore: now.Add(-time.Minute), Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			got := exportIDs(due)
			slices.Sort(got)
			if want := []string{"expired-now", "expired-past", "queued-stale", "running-old"}; !slices.Equal(got, want) {
				t.Fatalf("ExportsDue = %v, want %v", got, want)
			}
			if due, err := b.store.ExportsDue(b.ctx, audit.DueQuery{Now: now, QueuedBefore: stale, Limit: 2}); err != nil || len(due) != 2 {
				t.Fatalf("limit 2: %d, %v", len(due), err)
			}

			keys := []string{"k/expired-past", "k/already-expired", "k/unknown", "k/expires-later"}
			exist, err := b.store.ObjectKeysExist(b.ctx, keys)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{"k/expired-past": true, "k/already-expired": false, "k/unknown": false, "k/expires-later": true}
			if !reflect.DeepEqual(exist, want) {
				t.Fatalf("ObjectKeysExist = %v, want %v", exist, want)
			}
			// More keys than one IN list carries.
			many := make([]string, 1200)
			for i := range many {
				many[i] = fmt.Sprint("k/none", i)
			}
			many[1100] = "k/expired-now"
			exist, err = b.store.ObjectKeysExist(b.ctx, many)
			if err != nil || len(exist) != len(many) || !exist["k/expired-now"] || exist["k/none0"] {
				t.Fatalf("ObjectKeysExist(1200 keys): %d answers, %v", len(exist), err)
			}
			if exist, err := b.store.ObjectKeysExist(b.ctx, nil); err != nil || len(exist) != 0 {
				t.Fatalf("ObjectKeysExist(nil) = %v, %v", exist, err)
			}
		})

		t.Run("List", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			var all []audit.Export // newest first
			for i := range 25 {
				// Groups of three share a creation time: order falls back to id.
				e := newExport("t1", fmt.Sprintf("x%02d", i), fmt.Sprint("h", i), base.Add(time.Duration(i/3)*time.Second))
				switch i % 5 {
				case 0:
					e.Params.FileType = audit.FilePDF
				case 1:
					e.Status = audit.StatusCompleted
				case 2:
					e.ScheduleID = "sch1"
				case 3:
					e.RequesterKeyID, e.RequesterKeyName = "key1", "ci"
				}
				if err := b.store.CreateExport(b.ctx, e); err != nil {
					t.Fatal(err)
				}
				all = append([]audit.Export{getExport(t, b, "t1", e.ID)}, all...)
			}
			if err := b.store.CreateExport(b.ctx, newExport("t2", "other", "h", base.Add(time.Hour))); err != nil {
				t.Fatal(err)
			}
			list := func(f audit.ExportListFilter) []string {
				t.Helper()
				f.TenantID = "t1"
				es, err := b.store.ListExports(b.ctx, f)
				if err != nil {
					t.Fatalf("ListExports(%+v): %v", f, err)
				}
				return exportIDs(es)
			}
			full, err := b.store.ListExports(b.ctx, audit.ExportListFilter{TenantID: "t1"})
			if err != nil || !reflect.DeepEqual(full, all) {
				t.Fatalf("ListExports = %v, %v; want %v", exportIDs(full), err, exportIDs(all))
			}
			// Pages of 10 rebuild the listing exactly.
			var paged []string
			f := audit.ExportListFilter{Limit: 10}
			for pages := 0; ; pages++ {
				page := list(f)
				paged = append(paged, page...)
				if len(page) < 10 {
					break
				}
				last := getExport(t, b, "t1", page[len(page)-1])
				f.AfterCreatedAt, f.AfterID = &last.CreatedAt, last.ID
			}
			if !slices.Equal(paged, exportIDs(all)) {
				t.Fatalf("paged = %v, want %v", paged, exportIDs(all))
			}
			pick := func(keep func(audit.Export) bool) []string {
				var out []string
				for _, e := range all {
					if keep(e) {
						out = append(out, e.ID)
					}
				}
				return out
			}
			cases := []struct {
				name string
				f    audit.ExportListFilter
				want []string
			}{
				{"Status", audit.ExportListFilter{Status: []audit.ExportStatus{audit.StatusCompleted}},
					pick(func(e audit.Export) bool { return e.Status == audit.StatusCompleted })},
				{"StatusOr", audit.ExportListFilter{Status: []audit.ExportStatus{audit.StatusCompleted, audit.StatusQueued}}, exportIDs(all)},
				{"FileType", audit.ExportListFilter{FileType: audit.FilePDF},
					pick(func(e audit.Export) bool { return e.Params.FileType == audit.FilePDF })},
				{"Schedule", audit.ExportListFilter{ScheduleID: "sch1"},
					pick(func(e audit.Export) bool { return e.ScheduleID == "sch1" })},
				{"RequesterKey", audit.ExportListFilter{RequesterKeyID: "key1"},
					pick(func(e audit.Export) bool { return e.RequesterKeyID == "key1" })},
				{"CreatedInclusive", audit.ExportListFilter{CreatedFrom: ptr(base.Add(2 * time.Second)), CreatedTo: ptr(base.Add(3 * time.Second))},
					[]string{"x11", "x10", "x09", "x08", "x07", "x06"}},
				{"AndLimit", audit.ExportListFilter{Status: []audit.ExportStatus{audit.StatusQueued}, FileType: audit.FileCSV, Limit: 3},
					pick(func(e audit.Export) bool { return e.Status == audit.StatusQueued && e.Params.FileType == audit.FileCSV })[:3]},
			}
			for _, c := range cases {
				if got := list(c.f); !slices.Equal(got, c.want) || len(c.want) == 0 {
					t.Errorf("%s: %v, want %v", c.name, got, c.want)
				}
			}
			_, err = b.store.ListExports(b.ctx, audit.ExportListFilter{})
			requireInvalid(t, err)
		})
	})
}
