package export_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/objstore"
	"github.com/auditsentinel/sentinel/internal/objstore/filesystem"
	"github.com/auditsentinel/sentinel/internal/render/formats"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite/sqlitetest"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// gatedBucket holds every upload until release is closed, so a run stays
// running for as long as a test needs.
type gatedBucket struct {
	*filesystem.Bucket
	release chan struct{}
}

func (g gatedBucket) Upload(ctx context.Context, key string, r io.Reader, contentType string) (objstore.ObjectInfo, error) {
	select {
	case <-g.release:
	case <-ctx.Done():
		return objstore.ObjectInfo{}, ctx.Err()
	}
	return g.Bucket.Upload(ctx, key, r, contentType)
}

// A CSV is counted beside its run, for progress, once it has run for
// CountAfter; the count is recorded while the run is still going, and the
// run's own figure is what remains. Not on PostgreSQL, whose planner
// estimates the total instead (the status document's rows_estimate).
func TestCountBeside(t *testing.T) {
	sqlite := func(t *testing.T) *sqlstore.DB { return sqlitetest.Open(t) }
	for name, c := range map[string]struct {
		open      func(t *testing.T) *sqlstore.DB
		after     time.Duration
		wantTotal int64 // while running
	}{
		"AtOnce":    {open: sqlite, after: -1, wantTotal: 25},
		"NotBefore": {open: sqlite, after: time.Hour, wantTotal: -1},
		"PostgreSQLEstimates": {open: func(t *testing.T) *sqlstore.DB {
			db, err := postgres.Open(t.Context(), testenv.PostgresURL(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}, after: -1, wantTotal: -1},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			logger := slog.New(slog.DiscardHandler)
			db := c.open(t)
			fs, err := filesystem.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { fs.Close() })
			var events []audit.Event
			for i := range 25 {
				events = append(events, audit.Event{ID: fmt.Sprintf("e%02d", i), OccurredAt: time.Unix(int64(1e9+i), 0).UTC(),
					EventType: "task", SubType: "created", SystemSource: "tests"})
			}
			if _, err := db.InsertEvents(ctx, "acme", events); err != nil {
				t.Fatal(err)
			}
			e := audit.Export{ID: "x1", TenantID: "acme", RequestHash: "h", Status: audit.StatusQueued, RowsTotal: -1,
				CreatedAt: time.Now().UTC(),
				Params:    audit.ExportParams{Filter: audit.Filter{TenantID: "acme"}, FileType: audit.FileCSV, Locale: "en", Timezone: "UTC"}}
			if err := db.CreateExport(ctx, e); err != nil {
				t.Fatal(err)
			}
			gate := gatedBucket{Bucket: fs, release: make(chan struct{})}
			runner := &export.Runner{Store: db, Bucket: gate, Renderers: formats.Registry(100), Logger: logger, Now: time.Now,
				Retention: time.Hour, CountAfter: c.after}
			done := make(chan error, 1)
			go func() { done <- runner.Run(ctx, "acme", "x1") }()

			// While the upload is held the export is running; wait for
			// the count (or give it time not to come).
			deadline := time.Now().Add(10 * time.Second)
			var got audit.Export
			for {
				if got, err = db.GetExport(ctx, "acme", "x1"); err != nil {
					t.Fatal(err)
				}
				if got.Status == audit.StatusRunning && (c.wantTotal < 0 || got.RowsTotal == c.wantTotal) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("while running: %+v; want rows_total %d", got, c.wantTotal)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if c.wantTotal < 0 {
				time.Sleep(200 * time.Millisecond)
				if got, _ = db.GetExport(ctx, "acme", "x1"); got.RowsTotal != -1 {
					t.Fatalf("counted (CountAfter %s): rows_total %d", c.after, got.RowsTotal)
				}
			}
			close(gate.release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got, _ = db.GetExport(ctx, "acme", "x1"); got.Status != audit.StatusCompleted || got.RowsTotal != 25 {
				t.Fatalf("completed: status %s rows_total %d; want completed with 25", got.Status, got.RowsTotal)
			}
		})
	}
}
