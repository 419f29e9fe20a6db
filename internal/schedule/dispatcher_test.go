package schedule_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/jobs"
	"github.com/auditsentinel/sentinel/internal/schedule"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// bundle is a real store and a real Redis queue for one test.
type bundle struct {
	store *sqlstore.DB
	redis asynq.RedisConnOpt
	queue *jobs.Client
	ctx   context.Context
}

func setup(t *testing.T, database string) *bundle {
	t.Helper()
	ctx := t.Context()
	var (
		store *sqlstore.DB
		err   error
	)
	switch database {
	case "postgres":
		store, err = postgres.Open(ctx, testenv.PostgresURL(t), nil)
	default:
		store, err = sqlite.Open(ctx, testenv.SQLitePath(t), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	opt, err := asynq.ParseRedisURI(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := jobs.NewClient(opt)
	t.Cleanup(func() { q.Close() })
	return &bundle{store: store, redis: opt, queue: q, ctx: ctx}
}

func forEachDatabase(t *testing.T, fn func(t *testing.T, b *bundle)) {
	for _, db := range []string{"postgres", "sqlite"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			fn(t, setup(t, db))
		})
	}
}

func (b *bundle) dispatcher(now time.Time) *schedule.Dispatcher {
	return &schedule.Dispatcher{Store: b.store, Queue: b.queue, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return now }}
}

func (b *bundle) create(t *testing.T, s audit.Schedule) {
	t.Helper()
	if err := b.store.CreateSchedule(b.ctx, s); err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) exports(t *testing.T, tenant, scheduleID string) []audit.Export {
	t.Helper()
	list, err := b.store.ListExports(b.ctx, audit.ExportListFilter{TenantID: tenant, ScheduleID: scheduleID})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// pending returns the ids of export tasks waiting in Redis.
func (b *bundle) pending(t *testing.T) []string {
	t.Helper()
	in := asynq.NewInspector(b.redis)
	defer in.Close()
	tasks, err := in.ListPendingTasks(jobs.QueueExports)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, task := range tasks {
		ids = append(ids, task.ID)
	}
	return ids
}

func (b *bundle) tick(t *testing.T, now time.Time) int {
	t.Helper()
	n, err := b.dispatcher(now).Tick(b.ctx)
	if err != nil {
		t.Fatalf("tick at %s: %v", now, err)
	}
	return n
}

func (b *bundle) lastFired(t *testing.T, tenant, id string) *time.Time {
	t.Helper()
	s, err := b.store.GetSchedule(b.ctx, tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	return s.LastFiredAt
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func newSchedule(tenant, id, cron, zone string, window audit.Window, created time.Time) audit.Schedule {
	return audit.Schedule{
		ID: id, TenantID: tenant, Name: id, Cron: cron, Timezone: zone, Window: window,
		Params: audit.ExportParams{Filter: audit.Filter{EventTypes: []string{"user"}}, FileType: audit.FileCSV,
			Locale: "de", Timezone: zone},
		RetentionDays: 90, Enabled: true, WebhookSecret: "whsec_x", CreatedAt: created, UpdatedAt: created,
	}
}

func TestConcurrentDispatchersFireOnce(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, b *bundle) {
		created := utc("2026-01-01T00:00:00Z")
		for _, id := range []string{"s1", "s2", "s3"} {
			b.create(t, newSchedule("t1", id, "*/5 * * * *", "UTC", audit.Window{Kind: audit.LastHours, Hours: 1}, created))
		}
		// Eight dispatchers (as on eight workers) evaluate the same ticks at
		// once, several occurrences in a row.
		for i, now := range []time.Time{
			utc("2026-01-01T00:05:01Z"), utc("2026-01-01T00:10:00Z"), utc("2026-01-01T00:10:30Z"), utc("2026-01-01T00:15:59Z"),
		} {
			var wg sync.WaitGroup
			total := make(chan int, 8)
			start := make(chan struct{})
			for range 8 {
				wg.Go(func() {
					<-start
					n, err := b.dispatcher(now).Tick(b.ctx)
					if err != nil {
						t.Error(err)
					}
					total <- n
				})
			}
			close(start)
			wg.Wait()
			close(total)
			sum := 0
			for n := range total {
				sum += n
			}
			want := 3
			if i == 2 { // 00:10:30 has no new occurrence
				want = 0
			}
			if sum != want {
				t.Fatalf("tick %s: %d exports created by 8 dispatchers, want %d", now, sum, want)
			}
		}
		for _, id := range []string{"s1", "s2", "s3"} {
			list := b.exports(t, "t1", id)
			if len(list) != 3 {
				t.Fatalf("%s: %d exports, want 3 (00:05, 00:10, 00:15)", id, len(list))
			}
			for _, e := range list {
				if e.ScheduleID != id || e.Occurrence == nil || e.RetentionDays != 90 || e.Status != audit.StatusQueued {
					t.Fatalf("export %+v", e)
				}
			}
			if got := b.lastFired(t, "t1", id); got == nil || !got.Equal(utc("2026-01-01T00:15:00Z")) {
				t.Fatalf("%s LastFiredAt = %v", id, got)
			}
		}
		if got := b.pending(t); len(got) != 9 {
			t.Fatalf("%d export tasks queued, want 9: %v", len(got), got)
		}
	})
}

func TestCatchUpFiresOnceAndTagsTheOccurrence(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, b *bundle) {
		created := utc("2026-03-01T00:00:00Z")
		b.create(t, newSchedule("t1", "daily", "0 6 * * *", "Europe/Berlin",
			audit.Window{Kind: audit.PreviousDay}, created))
		if n := b.tick(t, utc("2026-03-02T05:00:30Z")); n != 1 { // 06:00:30 CET
			t.Fatalf("first tick fired %d", n)
		}
		// The workers are down for ten days; when they return, the missed
		// days fire once, as the latest occurrence.
		back := utc("2026-03-12T09:17:00Z")
		if n := b.tick(t, back); n != 1 {
			t.Fatalf("catch-up fired %d, want 1", n)
		}
		for _, later := range []time.Time{back, back.Add(time.Minute), back.Add(time.Hour)} {
			if n := b.tick(t, later); n != 0 {
				t.Fatalf("tick at %s after catch-up fired %d", later, n)
			}
		}
		list := b.exports(t, "t1", "daily")
		if len(list) != 2 {
			t.Fatalf("%d exports, want 2", len(list))
		}
		occ := utc("2026-03-12T05:00:00Z") // 06:00 CET on the day workers returned
		caught := list[0]
		if caught.Occurrence == nil || !caught.Occurrence.Equal(occ) {
			t.Fatalf("caught-up export occurrence = %v, want %v", caught.Occurrence, occ)
		}
		// Its window ends with the day before that occurrence, in Berlin,
		// and starts where the previous run's ended (1 March ended at
		// 23:00 UTC): the chain covers the downtime, no day is lost.
		if s, e := caught.Params.Filter.RangeStart, caught.Params.Filter.RangeEnd; !s.Equal(utc("2026-03-01T23:00:00Z")) ||
			!e.Equal(utc("2026-03-11T23:00:00Z").Add(-time.Microsecond)) {
			t.Fatalf("caught-up range = %v .. %v", s, e)
		}
		if got := b.lastFired(t, "t1", "daily"); !got.Equal(occ) {
			t.Fatalf("LastFiredAt = %v", got)
		}
	})
}

func TestDSTBerlinFiresAtSixLocal(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, b *bundle) {
		berlin, _ := time.LoadLocation("Europe/Berlin")
		b.create(t, newSchedule("t1", "six", "0 6 * * *", "Europe/Berlin",
			audit.Window{Kind: audit.PreviousDay}, utc("2026-03-27T12:00:00Z")))
		// Spring forward on 29 March 2026, fall back on 25 October 2026.
		for _, day := range []string{"2026-03-28", "2026-03-29", "2026-03-30", "2026-10-24", "2026-10-25", "2026-10-26"} {
			local, _ := time.ParseInLocation("2006-01-02 15:04", day+" 06:00", berlin)
			if day == "2026-10-24" {
				// Skip the summer: move the schedule's base to just before.
				if _, err := b.store.MarkScheduleFired(b.ctx, "t1", "six", b.lastFired(t, "t1", "six"),
					local.Add(-24*time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			if n := b.tick(t, local.Add(-time.Minute)); n != 0 {
				t.Fatalf("%s: fired at 05:59 local", day)
			}
			if n := b.tick(t, local.Add(30*time.Second)); n != 1 {
				t.Fatalf("%s: did not fire at 06:00 local", day)
			}
			e := b.exports(t, "t1", "six")[0]
			if got := e.Occurrence.In(berlin); got.Hour() != 6 || got.Minute() != 0 || !e.Occurrence.Equal(local) {
				t.Fatalf("%s: occurrence %s, want 06:00 local", day, got)
			}
		}
	})
}

func TestPreviousMonthInMarchCoversFebruary(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, b *bundle) {
		b.create(t, newSchedule("t1", "monthly", "0 6 1 * *", "Europe/Berlin",
			audit.Window{Kind: audit.PreviousMonth}, utc("2026-02-15T00:00:00Z")))
		if n := b.tick(t, utc("2026-03-01T05:00:10Z")); n != 1 {
			t.Fatalf("fired %d", n)
		}
		e := b.exports(t, "t1", "monthly")[0]
		// 1 February 00:00 CET to the last microsecond of 28 February, CET.
		start, end := e.Params.Filter.RangeStart, e.Params.Filter.RangeEnd
		if !start.Equal(utc("2026-01-31T23:00:00Z")) || !end.Equal(utc("2026-02-28T23:00:00Z").Add(-time.Microsecond)) {
			t.Fatalf("range = %s .. %s", start, end)
		}
		if e.Params.Filter.TenantID != "t1" || e.Params.Locale != "de" || e.Params.FileType != audit.FileCSV {
			t.Fatalf("params = %+v", e.Params)
		}
	})
}

func TestEditTakesEffectAtNextTick(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, b *bundle) {
		s := newSchedule("t1", "s", "0 6 * * *", "UTC", audit.Window{Kind: audit.PreviousDay}, utc("2026-05-01T00:00:00Z"))
		b.create(t, s)
		s.Enabled = false
		s.UpdatedAt = utc("2026-05-01T01:00:00Z")
		if err := b.store.UpdateSchedule(b.ctx, s); err != nil {
			t.Fatal(err)
		}
		if n := b.tick(t, utc("2026-05-01T06:00:05Z")); n != 0 {
			t.Fatal("a paused schedule fired")
		}
		s.Enabled, s.Cron = true, "30 7 * * *"
		if err := b.store.UpdateSchedule(b.ctx, s); err != nil {
			t.Fatal(err)
		}
		// Re-enabled: the latest occurrence missed while paused (1 May
		// 07:30, on the new cron) fires once, as after downtime
		// (schedule.Due); nothing fires on the old cron.
		if n := b.tick(t, utc("2026-05-02T06:00:05Z")); n != 1 {
			t.Fatal("the missed occurrence did not fire")
		}
		if n := b.tick(t, utc("2026-05-02T07:29:59Z")); n != 0 {
			t.Fatal("fired early")
		}
		if n := b.tick(t, utc("2026-05-02T07:30:05Z")); n != 1 {
			t.Fatal("did not fire on the new cron")
		}
		var occs []time.Time
		for _, e := range b.exports(t, "t1", "s") {
			occs = append(occs, *e.Occurrence)
		}
		if len(occs) != 2 || !occs[0].Equal(utc("2026-05-02T07:30:00Z")) || !occs[1].Equal(utc("2026-05-01T07:30:00Z")) {
			t.Fatalf("occurrences = %v", occs)
		}
	})
}
