package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// newSchedule is a valid schedule as the API builds it.
func newSchedule(tenantID, id string, created time.Time) audit.Schedule {
	return audit.Schedule{
		ID: id, TenantID: tenantID, Name: "weekly " + id, Cron: "0 6 * * 1", Timezone: "Europe/Berlin",
		Window: audit.Window{Kind: audit.PreviousWeek},
		Params: audit.ExportParams{
			Filter: audit.Filter{TenantID: tenantID, EventTypes: []string{"user"},
				Metadata: map[string][]string{"entity_id": {"e1"}}},
			FileType: audit.FileCSV, Locale: "de", Timezone: "Europe/Berlin",
		},
		RetentionDays: 30, Enabled: true, WebhookURL: "https://hooks.example.com/x", WebhookSecret: "whsec_" + id,
		CreatedAt: created, UpdatedAt: created,
	}
}

func scheduleIDs(ss []audit.Schedule) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

func runSchedules(t *testing.T, open Open) {
	t.Run("Schedules", func(t *testing.T) {
		t.Run("CRUD", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			ss := b.store
			s := newSchedule("t1", "s1", base)
			if err := ss.CreateSchedule(b.ctx, s); err != nil {
				t.Fatal(err)
			}
			requireCode(t, ss.CreateSchedule(b.ctx, s), audit.ErrConflict)
			got, err := ss.GetSchedule(b.ctx, "t1", "s1")
			if err != nil || !reflect.DeepEqual(got, s) {
				t.Fatalf("read back = %+v, %v\nwant %+v", got, err, s)
			}
			_, err = ss.GetSchedule(b.ctx, "t2", "s1")
			requireCode(t, err, audit.ErrNotFound)

			// Update replaces the editable fields and leaves LastFiredAt and
			// CreatedAt alone.
			fired := base.Add(time.Hour)
			if ok, err := ss.MarkScheduleFired(b.ctx, "t1", "s1", nil, fired); err != nil || !ok {
				t.Fatalf("MarkScheduleFired = %v, %v", ok, err)
			}
			u := s
			u.Name, u.Cron, u.Timezone = "daily", "30 5 * * *", "UTC"
			u.Window = audit.Window{Kind: audit.LastHours, Hours: 24}
			u.Params.Filter.EventTypes, u.Params.FileType, u.Params.Filter.Metadata = []string{"task"}, audit.FilePDF, nil
			u.RetentionDays, u.Enabled, u.WebhookURL, u.WebhookSecret = 7, false, "", "whsec_new"
			u.UpdatedAt = base.Add(2 * time.Hour)
			u.CreatedAt = base.Add(time.Minute) // ignored
			u.LastFiredAt = nil                 // ignored
			if err := ss.UpdateSchedule(b.ctx, u); err != nil {
				t.Fatal(err)
			}
			want := u
			want.CreatedAt, want.LastFiredAt = s.CreatedAt, &fired
			if got, err := ss.GetSchedule(b.ctx, "t1", "s1"); err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("after update = %+v, %v\nwant %+v", got, err, want)
			}
			other := u
			other.TenantID = "t2"
			requireCode(t, ss.UpdateSchedule(b.ctx, other), audit.ErrNotFound)

			requireCode(t, ss.DeleteSchedule(b.ctx, "t2", "s1"), audit.ErrNotFound)
			if err := ss.DeleteSchedule(b.ctx, "t1", "s1"); err != nil {
				t.Fatal(err)
			}
			_, err = ss.GetSchedule(b.ctx, "t1", "s1")
			requireCode(t, err, audit.ErrNotFound)
			requireCode(t, ss.DeleteSchedule(b.ctx, "t1", "s1"), audit.ErrNotFound)
		})

		t.Run("ListPaginated", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			ss := b.store
			// s2 and s3 share a creation time: the id breaks the tie.
			for _, s := range []audit.Schedule{
				newSchedule("t1", "s1", base), newSchedule("t1", "s2", base.Add(time.Second)),
				newSchedule("t1", "s3", base.Add(time.Second)), newSchedule("t1", "s4", base.Add(time.Minute)),
				newSchedule("t2", "s5", base.Add(time.Hour)),
			} {
				if err := ss.CreateSchedule(b.ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			all, err := ss.ListSchedules(b.ctx, audit.ScheduleListFilter{TenantID: "t1"})
			if err != nil || !reflect.DeepEqual(scheduleIDs(all), []string{"s4", "s3", "s2", "s1"}) {
				t.Fatalf("list = %v, %v", scheduleIDs(all), err)
			}
			var pages [][]string
			f := audit.ScheduleListFilter{TenantID: "t1", Limit: 2}
			for {
				page, err := ss.ListSchedules(b.ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				pages = append(pages, scheduleIDs(page))
				last := page[len(page)-1]
				f.AfterCreatedAt, f.AfterID = &last.CreatedAt, last.ID
			}
			if want := [][]string{{"s4", "s3"}, {"s2", "s1"}}; !reflect.DeepEqual(pages, want) {
				t.Fatalf("pages = %v, want %v", pages, want)
			}
			f = audit.ScheduleListFilter{TenantID: "t1", AfterCreatedAt: ptr(base.Add(time.Second)), AfterID: "s3"}
			if page, err := ss.ListSchedules(b.ctx, f); err != nil || !reflect.DeepEqual(scheduleIDs(page), []string{"s2", "s1"}) {
				t.Fatalf("after s3 = %v, %v", scheduleIDs(page), err)
			}
			if page, err := ss.ListSchedules(b.ctx, audit.ScheduleListFilter{TenantID: "t3"}); err != nil || len(page) != 0 {
				t.Fatalf("other tenant = %v, %v", scheduleIDs(page), err)
			}
			_, err = ss.ListSchedules(b.ctx, audit.ScheduleListFilter{})
			requireInvalid(t, err)
		})

		t.Run("EnabledAcrossTenants", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			ss := b.store
			for i, id := range []string{"a", "b", "c", "d", "e"} {
				s := newSchedule(fmt.Sprintf("t%d", i%2), id, base)
				s.Enabled = id != "c"
				if err := ss.CreateSchedule(b.ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			after := ""
			for {
				page, err := ss.EnabledSchedules(b.ctx, after, 2)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, scheduleIDs(page)...)
				if len(page) < 2 {
					break
				}
				after = page[len(page)-1].ID
			}
			if want := []string{"a", "b", "d", "e"}; !reflect.DeepEqual(got, want) {
				t.Fatalf("enabled = %v, want %v", got, want)
			}
		})

		t.Run("MarkFiredIsCompareAndSet", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			ss := b.store
			if err := ss.CreateSchedule(b.ctx, newSchedule("t1", "s1", base)); err != nil {
				t.Fatal(err)
			}
			occ1, occ2 := base.Add(time.Hour), base.Add(2*time.Hour)
			mark := func(prev *time.Time, occ time.Time) bool {
				t.Helper()
				ok, err := ss.MarkScheduleFired(b.ctx, "t1", "s1", prev, occ)
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			// Concurrent dispatchers that read the same prev: exactly one wins.
			var wins sync.WaitGroup
			results := make(chan bool, 8)
			for range 8 {
				wins.Go(func() {
					ok, err := ss.MarkScheduleFired(b.ctx, "t1", "s1", nil, occ1)
					if err != nil {
						t.Error(err)
					}
					results <- ok
				})
			}
			wins.Wait()
			close(results)
			n := 0
			for ok := range results {
				if ok {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%d of 8 concurrent compare-and-sets won, want 1", n)
			}
			if mark(nil, occ2) || mark(&occ2, occ2) {
				t.Fatal("a stale prev must not win")
			}
			if !mark(&occ1, occ2) {
				t.Fatal("the current prev must win")
			}
			if got, _ := ss.GetSchedule(b.ctx, "t1", "s1"); got.LastFiredAt == nil || !got.LastFiredAt.Equal(occ2) {
				t.Fatalf("LastFiredAt = %v, want %v", got.LastFiredAt, occ2)
			}
			_, err := ss.MarkScheduleFired(b.ctx, "t2", "s1", &occ2, occ2.Add(time.Hour))
			requireCode(t, err, audit.ErrNotFound)
		})

		t.Run("OneExportPerOccurrence", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			occ := base.Truncate(time.Minute)
			scheduled := func(tenant, id, scheduleID string, occ time.Time) audit.Export {
				e := newExport(tenant, id, "h-"+id, base)
				e.ScheduleID, e.Occurrence, e.WebhookURL, e.RetentionDays = scheduleID, &occ, "https://h.example.com", 3
				return e
			}
			if err := b.store.CreateExport(b.ctx, scheduled("t1", "x1", "s1", occ)); err != nil {
				t.Fatal(err)
			}
			requireCode(t, b.store.CreateExport(b.ctx, scheduled("t1", "x2", "s1", occ)), audit.ErrConflict)
			for _, e := range []audit.Export{
				scheduled("t1", "x3", "s1", occ.Add(time.Minute)), // next occurrence
				scheduled("t1", "x4", "s2", occ),                  // another schedule
				scheduled("t2", "x5", "s1", occ),                  // another tenant
				newExport("t1", "x6", "h", base),                  // on demand
				newExport("t1", "x7", "h2", base),
			} {
				if err := b.store.CreateExport(b.ctx, e); err != nil {
					t.Fatalf("create %s: %v", e.ID, err)
				}
			}
			if got := getExport(t, b, "t1", "x1"); got.ScheduleID != "s1" || !got.Occurrence.Equal(occ) || got.RetentionDays != 3 {
				t.Fatalf("scheduled export = %+v", got)
			}
		})

		t.Run("Deliveries", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			ss := b.store
			if err := ss.CreateSchedule(b.ctx, newSchedule("t1", "s1", base)); err != nil {
				t.Fatal(err)
			}
			d := audit.WebhookDelivery{ID: "d1", TenantID: "t1", ScheduleID: "s1", ExportID: "x1",
				ExportStatus: audit.StatusCompleted, URL: "https://h.example.com", CreatedAt: base}
			got, created, err := ss.CreateDelivery(b.ctx, d)
			want := d
			want.State = audit.DeliveryPending
			if err != nil || !created || !reflect.DeepEqual(got, want) {
				t.Fatalf("CreateDelivery = %+v, %v, %v", got, created, err)
			}
			again := d
			again.ID = "d2"
			if got, created, err := ss.CreateDelivery(b.ctx, again); err != nil || created || got.ID != "d1" {
				t.Fatalf("second delivery for one outcome = %+v, %v, %v", got, created, err)
			}
			failed := d
			failed.ID, failed.ExportStatus = "d3", audit.StatusFailed
			if _, created, err := ss.CreateDelivery(b.ctx, failed); err != nil || !created {
				t.Fatalf("delivery for another outcome: %v, %v", created, err)
			}
			if got, err := ss.GetDelivery(b.ctx, "t1", "d1"); err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("GetDelivery = %+v, %v", got, err)
			}
			_, err = ss.GetDelivery(b.ctx, "t2", "d1")
			requireCode(t, err, audit.ErrNotFound)

			done := base.Add(time.Minute)
			if err := ss.FinishDelivery(b.ctx, "t1", "d1", audit.DeliveryDelivered, done); err != nil {
				t.Fatal(err)
			}
			if err := ss.FinishDelivery(b.ctx, "t1", "d1", audit.DeliveryFailed, done.Add(time.Hour)); err != nil {
				t.Fatalf("finish twice: %v", err)
			}
			if got, _ := ss.GetDelivery(b.ctx, "t1", "d1"); got.State != audit.DeliveryDelivered || !got.FinishedAt.Equal(done) {
				t.Fatalf("finished delivery = %+v, want the first outcome kept", got)
			}
			requireCode(t, ss.FinishDelivery(b.ctx, "t2", "d1", audit.DeliveryFailed, done), audit.ErrNotFound)
			requireInvalid(t, ss.FinishDelivery(b.ctx, "t1", "d3", audit.DeliveryPending, done))

			// Attempts, listed newest first and paginated.
			var attempts []audit.WebhookAttempt
			for i := range 5 {
				a := audit.WebhookAttempt{DeliveryID: "d1", ExportID: "x1", ScheduleID: "s1", URL: d.URL, AttemptNo: i + 1,
					At: base.Add(time.Duration(i) * time.Second), StatusCode: 500, Error: "receiver answered 500",
					Duration: 1500 * time.Microsecond}
				if i == 4 {
					a.StatusCode, a.Error = 204, ""
				}
				if i >= 3 { // same instant: delivery id and attempt number break the tie
					a.At = base.Add(3 * time.Second)
				}
				attempts = append(attempts, a)
				if err := ss.RecordAttempt(b.ctx, "t1", a); err != nil {
					t.Fatal(err)
				}
			}
			if err := ss.RecordAttempt(b.ctx, "t1", attempts[0]); err != nil {
				t.Fatalf("record twice: %v", err)
			}
			other := attempts[0] // same delivery id in another tenant: kept apart
			other.ScheduleID = "s2"
			if err := ss.RecordAttempt(b.ctx, "t2", other); err != nil {
				t.Fatal(err)
			}
			wantOrder := []audit.WebhookAttempt{attempts[4], attempts[3], attempts[2], attempts[1], attempts[0]}
			all, err := ss.ListAttempts(b.ctx, audit.WebhookAttemptFilter{TenantID: "t1", ScheduleID: "s1"})
			if err != nil || !reflect.DeepEqual(all, wantOrder) {
				t.Fatalf("ListAttempts =\n%+v, %v\nwant\n%+v", all, err, wantOrder)
			}
			var paged []audit.WebhookAttempt
			f := audit.WebhookAttemptFilter{TenantID: "t1", ScheduleID: "s1", Limit: 2}
			for {
				page, err := ss.ListAttempts(b.ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				paged = append(paged, page...)
				last := page[len(page)-1]
				f.AfterAt, f.AfterDeliveryID, f.AfterAttemptNo = &last.At, last.DeliveryID, last.AttemptNo
			}
			if !reflect.DeepEqual(paged, wantOrder) {
				t.Fatalf("paged attempts =\n%+v\nwant\n%+v", paged, wantOrder)
			}
			if got, err := ss.ListAttempts(b.ctx, audit.WebhookAttemptFilter{TenantID: "t2", ScheduleID: "s1"}); err != nil || len(got) != 0 {
				t.Fatalf("another tenant's attempts = %+v, %v", got, err)
			}

			// Deleting the schedule deletes its delivery records.
			if err := ss.DeleteSchedule(b.ctx, "t1", "s1"); err != nil {
				t.Fatal(err)
			}
			if got, err := ss.ListAttempts(b.ctx, audit.WebhookAttemptFilter{TenantID: "t1", ScheduleID: "s1"}); err != nil || len(got) != 0 {
				t.Fatalf("attempts after delete = %+v, %v", got, err)
			}
			if _, err := ss.GetDelivery(b.ctx, "t1", "d1"); !errors.Is(err, audit.ErrNotFound) {
				t.Fatalf("delivery after delete: %v", err)
			}
			if got, err := ss.ListAttempts(b.ctx, audit.WebhookAttemptFilter{TenantID: "t2", ScheduleID: "s2"}); err != nil || len(got) != 1 {
				t.Fatalf("another tenant's attempts after delete = %+v, %v", got, err)
			}
		})
	})
}
