package export_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/objstore"
	"github.com/auditsentinel/sentinel/internal/objstore/filesystem"
	s3store "github.com/auditsentinel/sentinel/internal/objstore/s3"
	"github.com/auditsentinel/sentinel/internal/render/formats"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// clock is the injected time; tests move it instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// requeues records what the sweeper re-enqueues.
type requeues struct {
	mu  sync.Mutex
	ids []string
}

func (r *requeues) EnqueueExport(_ context.Context, _, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
	return nil
}

// backend is one storage under test with a way to leave an upload
// unfinished, as a crashed writer would.
type backend struct {
	bucket  objstore.Bucket
	abandon func(t *testing.T, key string)
}

func s3Backend(t *testing.T) backend {
	srv := testenv.VersityGW(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	b, err := s3store.New(t.Context(), s3store.Config{Bucket: srv.Bucket, Endpoint: srv.Endpoint, ForcePathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	client := awss3.New(awss3.Options{
		BaseEndpoint: aws.String(srv.Endpoint), Region: srv.Region, UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}, nil
		}),
	})
	return backend{bucket: b, abandon: func(t *testing.T, key string) {
		out, err := client.CreateMultipartUpload(t.Context(), &awss3.CreateMultipartUploadInput{Bucket: &srv.Bucket, Key: &key})
		if err != nil {
			t.Fatal(err)
		}
		_, err = client.UploadPart(t.Context(), &awss3.UploadPartInput{Bucket: &srv.Bucket, Key: &key, UploadId: out.UploadId,
			PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("half an export"))})
		if err != nil {
			t.Fatal(err)
		}
	}}
}

func fileBackend(t *testing.T) backend {
	dir := t.TempDir()
	b, err := filesystem.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return backend{bucket: b, abandon: func(t *testing.T, key string) {
		// The bucket's own temporary-file naming: .incomplete-<random>-<name>.
		p := filepath.Join(dir, filepath.Dir(key), ".incomplete-0123abcd-"+filepath.Base(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("half an export"), 0o644); err != nil {
			t.Fatal(err)
		}
	}}
}

func TestSweeper(t *testing.T) { onBackendPairs(t, testSweeper) }

// onBackendPairs runs test on PostgreSQL with S3 (versitygw) and on SQLite
// with files, each with a store of its own.
func onBackendPairs(t *testing.T, test func(t *testing.T, db *sqlstore.DB, be backend)) {
	for _, tc := range []struct {
		name    string
		store   func(t *testing.T) *sqlstore.DB
		backend func(t *testing.T) backend
	}{
		{"postgres+s3", func(t *testing.T) *sqlstore.DB {
			db, err := postgres.Open(t.Context(), testenv.PostgresURL(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}, s3Backend},
		{"sqlite+file", func(t *testing.T) *sqlstore.DB {
			db, err := sqlite.Open(t.Context(), testenv.SQLitePath(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}, fileBackend},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.store(t)
			t.Cleanup(func() { db.Close() })
			test(t, db, tc.backend(t))
		})
	}
}

func testSweeper(t *testing.T, db *sqlstore.DB, be backend) {
	ctx := t.Context()
	// Real storage stamps objects and uploads with the real time, so the
	// clock starts there and only moves forward.
	t0 := time.Now().UTC().Truncate(time.Second)
	clk := &clock{t: t0}
	logger := slog.New(slog.DiscardHandler)
	var events []audit.Event
	for i := range 10 {
		events = append(events, audit.Event{ID: fmt.Sprintf("evt-%02d", i), OccurredAt: t0.Add(-time.Duration(i) * time.Hour),
			EventType: "task", SubType: "created", SystemSource: "tests"})
	}
	if _, err := db.InsertEvents(ctx, "acme", events); err != nil {
		t.Fatal(err)
	}
	runner := &export.Runner{Store: db, Bucket: be.bucket, Renderers: formats.Registry(100), Logger: logger, Now: clk.Now,
		Retention: 7 * 24 * time.Hour}
	// "sched" carries a schedule's own retention of one day; "adhoc" takes
	// the service default of seven.
	mk := func(id string, retentionDays int, status audit.ExportStatus) audit.Export {
		e := audit.Export{ID: id, TenantID: "acme", RequestHash: id, Status: status, RowsTotal: -1, CreatedAt: t0,
			Params:        audit.ExportParams{Filter: audit.Filter{TenantID: "acme"}, FileType: audit.FileCSV, Locale: "en", Timezone: "UTC"},
			RetentionDays: retentionDays}
		if err := db.CreateExport(ctx, e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	mk("sched", 1, audit.StatusQueued)
	mk("adhoc", 0, audit.StatusQueued)
	for _, id := range []string{"sched", "adhoc"} {
		if err := runner.Run(ctx, "acme", id); err != nil {
			t.Fatal(err)
		}
	}
	get := func(id string) audit.Export {
		t.Helper()
		e, err := db.GetExport(ctx, "acme", id)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	sched, adhoc := get("sched"), get("adhoc")
	if sched.Status != audit.StatusCompleted || sched.ExpiresAt == nil || !sched.ExpiresAt.Equal(sched.CompletedAt.Add(24*time.Hour)) {
		t.Fatalf("scheduled export: %s, completed %v, expires %v; want expiry one day after completion",
			sched.Status, sched.CompletedAt, sched.ExpiresAt)
	}
	if adhoc.ExpiresAt == nil || !adhoc.ExpiresAt.Equal(adhoc.CompletedAt.Add(7*24*time.Hour)) {
		t.Fatalf("ad-hoc export expires %v, want seven days after %v", adhoc.ExpiresAt, adhoc.CompletedAt)
	}

	// A crashed writer's upload, an object no record owns, and one outside
	// the exports' namespace, which the sweeper must never touch.
	be.abandon(t, "tenants/acme/exports/crashed.csv")
	if _, err := be.bucket.Upload(ctx, "tenants/acme/exports/orphan.csv", strings.NewReader("orphan"), "text/csv"); err != nil {
		t.Fatal(err)
	}
	if _, err := be.bucket.Upload(ctx, "tenants/acme/notes/keep.txt", strings.NewReader("keep"), "text/plain"); err != nil {
		t.Fatal(err)
	}
	// A queued export whose task was lost.
	mk("lost", 0, audit.StatusQueued)
	// Two running exports: one whose worker vanished (last heartbeat at t0)
	// and one that is slow but alive.
	for _, id := range []string{"silent", "alive"} {
		mk(id, 0, audit.StatusQueued)
		if _, err := db.StartExport(ctx, "acme", id, t0, -1); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.UpdateProgress(ctx, "acme", "alive", 10, t0.Add(29*time.Minute)); err != nil {
		t.Fatal(err)
	}

	q := &requeues{}
	var failed []string
	sw := &export.Sweeper{Store: db, Bucket: be.bucket, Queue: q, Logger: logger, Now: clk.Now,
		OnFailed: func(_ context.Context, _, id string) { failed = append(failed, id) }}
	exists := func(key string) bool {
		t.Helper()
		_, err := be.bucket.Stat(ctx, key)
		if err != nil && !errors.Is(err, audit.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	uploads := func() int {
		t.Helper()
		ups, err := be.bucket.ListIncompleteUploads(ctx, export.Prefix)
		if err != nil {
			t.Fatal(err)
		}
		return len(ups)
	}

	// 30 minutes on: everything is fresh. Only the lost task is re-enqueued.
	clk.Set(t0.Add(30 * time.Minute))
	if err := sw.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if !exists(sched.ObjectKey) || !exists(adhoc.ObjectKey) || !exists("tenants/acme/exports/orphan.csv") || uploads() != 1 {
		t.Fatalf("a fresh sweep removed something: sched %v adhoc %v orphan %v uploads %d", exists(sched.ObjectKey),
			exists(adhoc.ObjectKey), exists("tenants/acme/exports/orphan.csv"), uploads())
	}
	if get("sched").Status != audit.StatusCompleted || len(q.ids) != 1 || q.ids[0] != "lost" {
		t.Fatalf("sched %s, requeued %v", get("sched").Status, q.ids)
	}
	// Silent for 30 minutes (over the 15-minute limit): failed, visibly,
	// and its webhook hook told. The live one is left alone.
	if s := get("silent"); s.Status != audit.StatusFailed || s.ErrorMessage == "" || len(failed) != 1 || failed[0] != "silent" {
		t.Fatalf("silent export: %s %q, hooks %v", s.Status, s.ErrorMessage, failed)
	}
	if get("alive").Status != audit.StatusRunning {
		t.Fatalf("a live running export was failed")
	}

	// 25 hours on: the scheduled export's day is over; the upload is
	// abandoned; the orphan is old enough to be sure of.
	clk.Set(t0.Add(25 * time.Hour))
	if err := sw.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if exists(sched.ObjectKey) || get("sched").Status != audit.StatusExpired {
		t.Fatalf("scheduled export after its retention: object %v, status %s", exists(sched.ObjectKey), get("sched").Status)
	}
	if !exists(adhoc.ObjectKey) || get("adhoc").Status != audit.StatusCompleted {
		t.Fatal("the ad-hoc export was expired before its seven days")
	}
	if uploads() != 0 {
		t.Fatal("the abandoned upload was not aborted")
	}
	if exists("tenants/acme/exports/orphan.csv") {
		t.Fatal("the orphaned object was not deleted")
	}
	if !exists("tenants/acme/notes/keep.txt") {
		t.Fatal("an object outside the exports was deleted")
	}

	// A sweep with nothing to do changes nothing and fails nothing.
	clk.Set(t0.Add(27 * time.Hour))
	if err := sw.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if !exists(adhoc.ObjectKey) {
		t.Fatal("a live export's object was deleted as an orphan")
	}

	// Eight days on, the ad-hoc export goes too.
	clk.Set(t0.Add(8 * 24 * time.Hour))
	if err := sw.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if exists(adhoc.ObjectKey) || get("adhoc").Status != audit.StatusExpired {
		t.Fatalf("ad-hoc export after retention: object %v, status %s", exists(adhoc.ObjectKey), get("adhoc").Status)
	}
}
