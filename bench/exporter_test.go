// Package bench holds Audit Sentinel's benchmarks: run.sh (make bench) is
// the end-to-end one with the real binaries; the Go benchmarks here take the
// export pipeline apart in-process so a profile shows where its time goes:
//
//	TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//	  go test ./bench -run '^$' -bench . -benchtime 3x -cpuprofile cpu.out
//
// BENCH_EVENTS sets the tenant's size (default 100,000). Without
// TEST_DATABASE_URL only the database-free benchmarks run. To profile
// against an already seeded database instead (e.g. one run.sh kept with
// BENCH_KEEP=1, or `sentinelctl seed`), set BENCH_STORE_URL to it and
// BENCH_TENANT to the tenant (BENCH_EVENTS must then be its event count).
package bench_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/demo"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/objstore"
	"github.com/auditsentinel/sentinel/internal/render"
	csvrender "github.com/auditsentinel/sentinel/internal/render/csv"
	"github.com/auditsentinel/sentinel/internal/render/formats"
	"github.com/auditsentinel/sentinel/internal/render/rendertest"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

var tenant = func() string {
	if t := os.Getenv("BENCH_TENANT"); t != "" {
		return t
	}
	return "bench"
}()

func benchEvents(b *testing.B) int {
	if s := os.Getenv("BENCH_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("BENCH_EVENTS=%q: want a positive integer", s)
		}
		return n
	}
	return 100_000
}

func generator(n int) *demo.Generator {
	return demo.New(demo.Config{Seed: 1, TenantID: tenant, Now: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), Events: n})
}

// seededStore is a fresh PostgreSQL database holding n demo events of
// tenant (what `sentinelctl seed` loads), analysed like run.sh does.
func seededStore(b *testing.B, n int) *sqlstore.DB {
	b.Helper()
	if url := os.Getenv("BENCH_STORE_URL"); url != "" {
		s, err := postgres.Open(b.Context(), url, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	if os.Getenv("TEST_DATABASE_URL") == "" {
		b.Skip("TEST_DATABASE_URL is not set")
	}
	url := testenv.PostgresURL(b)
	s, err := postgres.Open(b.Context(), url, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	g := generator(n)
	if got, err := s.BulkInsertEvents(b.Context(), tenant, g.Next); err != nil || got != int64(n) {
		b.Fatalf("seeded %d of %d: %v", got, n, err)
	}
	return s
}

// discardBucket is object storage that keeps nothing: the pipeline up to
// the upload, without the upload.
type discardBucket struct{}

var _ export.Bucket = discardBucket{}

func (discardBucket) Upload(_ context.Context, key string, r io.Reader, ct string) (objstore.ObjectInfo, error) {
	n, err := io.Copy(io.Discard, r)
	return objstore.ObjectInfo{Key: key, Size: n, ContentType: ct, LastModified: time.Now()}, err
}
func (discardBucket) Delete(context.Context, string) error { return nil }
func (discardBucket) ListIncompleteUploads(context.Context, string) ([]objstore.IncompleteUpload, error) {
	return nil, nil
}
func (discardBucket) AbortIncompleteUpload(context.Context, objstore.IncompleteUpload) error {
	return nil
}

// renderers is the CSV entry of the workers' registry.
var renderers = render.Registry{audit.FileCSV: formats.CSV}

// BenchmarkExportCSV is export.Runner.Run for a whole tenant: count,
// stream from PostgreSQL, render CSV, hash, pipe to a bucket that discards.
func BenchmarkExportCSV(b *testing.B) {
	n := benchEvents(b)
	s := seededStore(b, n)
	r := &export.Runner{
		Store: s, Bucket: discardBucket{}, Renderers: renderers,
		Logger: slog.New(slog.DiscardHandler), Now: time.Now, Retention: time.Hour, PDFMaxEvents: 5000,
	}
	p, err := export.Validate(audit.ExportParams{FileType: audit.FileCSV})
	if err != nil {
		b.Fatal(err)
	}
	p.Filter.TenantID = tenant
	var rows int64
	start := time.Now()
	for b.Loop() {
		b.StopTimer()
		e := audit.Export{ID: uuid.NewString(), TenantID: tenant, Params: p, RequestHash: uuid.NewString(),
			Status: audit.StatusQueued, RowsTotal: -1, CreatedAt: time.Now().UTC().Truncate(audit.TimePrecision)}
		if err := s.CreateExport(b.Context(), e); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := r.Run(b.Context(), tenant, e.ID); err != nil {
			b.Fatal(err)
		}
		got, err := s.GetExport(b.Context(), tenant, e.ID)
		if err != nil || got.Status != audit.StatusCompleted || got.RowsWritten != int64(n) {
			b.Fatalf("export: %+v, %v", got, err)
		}
		rows += int64(n)
	}
	b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkStreamEvents is the store's part alone: the export query and
// the scan into audit.Events.
func BenchmarkStreamEvents(b *testing.B) {
	n := benchEvents(b)
	s := seededStore(b, n)
	var rows int64
	start := time.Now()
	for b.Loop() {
		var got int
		err := s.StreamEvents(b.Context(), audit.Filter{TenantID: tenant}, func(*audit.Event) error {
			got++
			return nil
		})
		if err != nil || got != n {
			b.Fatalf("streamed %d of %d: %v", got, n, err)
		}
		rows += int64(got)
	}
	b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkRenderCSV is the renderer's part alone: demo events already in
// memory, written as CSV to io.Discard.
func BenchmarkRenderCSV(b *testing.B) {
	const n = 100_000
	events := make([]audit.Event, 0, n)
	g := generator(n)
	for e, ok := g.Next(); ok; e, ok = g.Next() {
		c := *e
		events = append(events, c)
	}
	p, _ := export.Validate(audit.ExportParams{FileType: audit.FileCSV})
	rep := render.Report{ExportID: "x", TenantID: tenant, Params: p, Location: time.UTC, GeneratedAt: time.Now()}
	var rows int64
	var bytes int64
	start := time.Now()
	for b.Loop() {
		cw := &render.Counter{}
		r, err := csvrender.New(cw, rep)
		if err != nil {
			b.Fatal(err)
		}
		rendertest.Render(b, r, events)
		rows += n
		bytes += cw.N
	}
	el := time.Since(start).Seconds()
	b.ReportMetric(float64(rows)/el, "rows/s")
	b.ReportMetric(float64(bytes)/el/1e6, "MB/s")
}
