package export_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/render/formats"
	"github.com/auditsentinel/sentinel/internal/selfaudit"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
)

// TestRetentionPurge purges a tenant's events while events are ingested
// and an export runs, on both backend pairs. The rule under test: a purge
// never passes the earliest range start of an unfinished export, so the
// export's file holds exactly the events of its snapshot; once it is done
// the purge catches up, and every purge is in the tenant's own stream.
func TestRetentionPurge(t *testing.T) { onBackendPairs(t, testRetentionPurge) }

func testRetentionPurge(t *testing.T, db *sqlstore.DB, be backend) {
	ctx := t.Context()
	t0 := time.Now().UTC().Truncate(time.Second)
	clk := &clock{t: t0}
	logger := slog.New(slog.DiscardHandler)
	day := 24 * time.Hour
	batch := func(prefix string, n int, at time.Time) []audit.Event {
		out := make([]audit.Event, n)
		for i := range out {
			out[i] = audit.Event{ID: fmt.Sprintf("%s-%04d", prefix, i), OccurredAt: at.Add(time.Duration(i) * time.Second),
				EventType: "task", SubType: "created", SystemSource: "tests"}
		}
		return out
	}
	insert := func(evs []audit.Event) {
		t.Helper()
		if _, err := db.InsertEvents(ctx, "acme", evs); err != nil {
			t.Error(err)
		}
	}
	// 500 events past the retention and outside the export's range, 500
	// past the retention inside it, 200 recent ones.
	insert(batch("old", 500, t0.Add(-50*day)))
	insert(batch("mid", 500, t0.Add(-40*day)))
	insert(batch("new", 200, t0.Add(-day)))
	if err := db.PutRetention(ctx, audit.RetentionPolicy{TenantID: "acme", EventDays: 30, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}

	// The export reads from 45 days back, at the snapshot taken now.
	snap, err := db.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	from := t0.Add(-45 * day)
	p := audit.ExportParams{Filter: audit.Filter{TenantID: "acme", RangeStart: &from}, FileType: audit.FileCSV, Locale: "en", Timezone: "UTC"}
	x := audit.Export{ID: "x1", TenantID: "acme", Params: p, RequestHash: p.Hash(), Status: audit.StatusQueued, RowsTotal: -1,
		CreatedAt: t0, AsOf: &audit.AsOf{At: t0, Snapshot: snap}}
	if err := db.CreateExport(ctx, x); err != nil {
		t.Fatal(err)
	}

	rec := selfaudit.NewRecorder(db, logger)
	sw := &export.Sweeper{Store: db, Bucket: be.bucket, Queue: &requeues{}, Logger: logger, Now: clk.Now,
		Retention: db, Audit: rec, PurgeEvery: time.Nanosecond, PurgeBatch: 100, PurgeBatches: 3}
	count := func(prefix string) int {
		t.Helper()
		n := 0
		err := db.StreamEvents(ctx, audit.Filter{TenantID: "acme"}, func(e *audit.Event) error {
			if len(e.ID) > len(prefix) && e.ID[:len(prefix)+1] == prefix+"-" {
				n++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	sweepUntilQuiet := func() {
		t.Helper()
		// PurgeBatches bounds one pass at 300 rows: the backlog drains
		// over several passes, until one purges nothing. Not a fixed
		// count: how large the backlog is depends on how long step 2's
		// export ran beside its ingest loop (on a loaded CI machine, long
		// enough for 40 passes to fall short of it).
		// Each count reads every purge record so far: one count per pass,
		// carried to the next, not two.
		purged := purgedCount(t, db)
		for range 2000 {
			clk.Set(clk.Now().Add(time.Second))
			if err := sw.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			before := purged
			if purged = purgedCount(t, db); purged == before {
				return
			}
		}
		t.Fatal("2000 sweeper passes and the purge still found events to delete")
	}

	// 1. With the export queued: the events before its range go, those in
	// it stay although they are past the retention.
	sweepUntilQuiet()
	if o, m, n := count("old"), count("mid"), count("new"); o != 0 || m != 500 || n != 200 {
		t.Fatalf("after a purge with the export queued: old %d mid %d new %d; want 0, 500, 200", o, m, n)
	}

	// 2. The export runs while events are ingested (ancient ones, which
	// the purge takes at once, and ones in the export's range, after its
	// snapshot) and the sweeper purges in small batches.
	runner := &export.Runner{Store: db, Bucket: be.bucket, Renderers: formats.Registry(100), Logger: logger, Now: clk.Now,
		Retention: 7 * day}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ancient, late atomic.Int64
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			insert(batch(fmt.Sprintf("ancient%d", i), 50, t0.Add(-60*day)))
			ancient.Add(50)
			insert(batch(fmt.Sprintf("late%d", i), 10, t0.Add(-40*day)))
			late.Add(10)
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			clk.Set(clk.Now().Add(time.Millisecond)) // a purge on every pass
			if err := sw.Sweep(ctx); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	// Let both loops get going before the export starts.
	for ancient.Load() < 200 {
		time.Sleep(time.Millisecond)
	}
	runErr := runner.Run(ctx, "acme", "x1")
	close(stop)
	wg.Wait()
	if runErr != nil {
		t.Fatal(runErr)
	}
	got, err := db.GetExport(ctx, "acme", "x1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != audit.StatusCompleted || got.RowsWritten != 700 {
		t.Fatalf("export: %s with %d rows; want completed with the 700 events of its snapshot", got.Status, got.RowsWritten)
	}
	if lines := fileLines(t, be, got.ObjectKey); lines != 701 {
		t.Fatalf("the file has %d lines, want a header and 700 rows", lines)
	}
	// (The mid events may go from here on: the sweeper loop's last passes
	// can run after the export completed.)
	if n := purgedCount(t, db); n <= 500 {
		t.Fatalf("%d events purged by the end of the export: the purge did not run beside it", n)
	}

	// 3. The export done, the purge catches up.
	sweepUntilQuiet()
	remaining := 0
	if err := db.StreamEvents(ctx, audit.Filter{TenantID: "acme", SystemSources: []string{"tests"}}, func(e *audit.Event) error {
		if e.OccurredAt.Before(t0.Add(-30 * day)) {
			t.Errorf("event %s at %s outlived the retention", e.ID, e.OccurredAt)
		}
		remaining++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if remaining != 200 {
		t.Fatalf("%d events remain, want the 200 recent ones", remaining)
	}
	// Every purge is in the tenant's stream, and together they count
	// every event that went.
	purged := purgedCount(t, db)
	if want := 1000 + ancient.Load() + late.Load(); purged != want {
		t.Fatalf("purge events count %d purged events, want %d", purged, want)
	}

	// 4. A hold on part of the export's range keeps its archive past its
	// expiry (seven days); released, the next sweep expires it.
	hold := audit.LegalHold{ID: "h1", TenantID: "acme", Name: "case", CreatedAt: clk.Now(),
		RangeStart: ptrTime(t0.Add(-42 * day)), RangeEnd: ptrTime(t0.Add(-41 * day))}
	if err := db.CreateHold(ctx, hold); err != nil {
		t.Fatal(err)
	}
	clk.Set(t0.Add(10 * day))
	if err := sw.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if e, _ := db.GetExport(ctx, "acme", "x1"); e.Status != audit.StatusCompleted {
		t.Fatalf("a held archive was expired: %s", e.Status)
	}
	if _, err := db.ReleaseHold(ctx, "acme", "h1", clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.Set(clk.Now().Add(time.Second))
	if err := sw.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if e, _ := db.GetExport(ctx, "acme", "x1"); e.Status != audit.StatusExpired {
		t.Fatalf("after the hold's release the archive is %s, want expired", e.Status)
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

// purgedCount adds up the counts of acme's purge events.
func purgedCount(t *testing.T, db *sqlstore.DB) int64 {
	t.Helper()
	var purged int64
	err := db.StreamEvents(t.Context(), audit.Filter{TenantID: "acme", SystemSources: []string{audit.SelfAuditSource},
		EventTypes: []string{audit.SelfAuditRetentionType}, SubTypes: []string{"purged"}}, func(e *audit.Event) error {
		n, err := strconv.ParseInt(e.Metadata["count"], 10, 64)
		if err != nil || e.Metadata["oldest"] == "" || e.Metadata["newest"] == "" {
			return fmt.Errorf("purge event %s: metadata %v", e.ID, e.Metadata)
		}
		purged += n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return purged
}

func fileLines(t *testing.T, be backend, key string) int {
	t.Helper()
	r, err := be.bucket.GetRange(context.Background(), key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}
