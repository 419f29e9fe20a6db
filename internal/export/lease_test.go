package export_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/lease"
	"github.com/auditsentinel/sentinel/internal/objstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// listings is a real bucket that counts its listings. With hold set, the
// first listing of objects waits until hold is closed.
type listings struct {
	objstore.Bucket
	objects, uploads atomic.Int32
	hold             chan struct{}
}

func (l *listings) List(ctx context.Context, prefix string, fn func(objstore.ObjectInfo) error) error {
	if l.objects.Add(1) == 1 && l.hold != nil {
		<-l.hold
	}
	return l.Bucket.List(ctx, prefix, fn)
}

func (l *listings) ListIncompleteUploads(ctx context.Context, prefix string) ([]objstore.IncompleteUpload, error) {
	l.uploads.Add(1)
	return l.Bucket.ListIncompleteUploads(ctx, prefix)
}

// sqliteStore is a fresh SQLite store, closed with the test.
func sqliteStore(t *testing.T) *sqlstore.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), testenv.SQLitePath(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestSweeperLeasesSpaceStepsAcrossWorkers: with leases on a real Redis,
// two workers' sweepers list the bucket once per period between them;
// each with its own clock (no leases), every worker lists it.
func TestSweeperLeasesSpaceStepsAcrossWorkers(t *testing.T) {
	db := sqliteStore(t)
	bucket := &listings{Bucket: fileBackend(t).bucket}
	redisURL := testenv.RedisURL(t)
	sweeper := func(leases export.Leases) *export.Sweeper {
		return &export.Sweeper{
			Store: db, Bucket: bucket, Queue: &requeues{}, Logger: slog.New(slog.DiscardHandler), Now: time.Now,
			OrphanScanEvery: time.Second, UploadScanEvery: time.Second, Leases: leases,
		}
	}
	sweep := func(s *export.Sweeper) {
		t.Helper()
		if err := s.Sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	want := func(step string, objects, uploads int32) {
		t.Helper()
		if o, u := bucket.objects.Load(), bucket.uploads.Load(); o != objects || u != uploads {
			t.Fatalf("%s: %d object and %d upload listings, want %d and %d", step, o, u, objects, uploads)
		}
	}

	// Each worker on its own clock: two workers, two listings of each.
	sweep(sweeper(nil))
	sweep(sweeper(nil))
	want("two workers without leases", 2, 2)

	c := testenv.RedisClient(t, redisURL)
	a := sweeper(&lease.Redis{Client: c, Owner: "worker-a"})
	b := sweeper(&lease.Redis{Client: c, Owner: "worker-b"})
	sweep(a)
	want("worker a's first pass", 3, 3)
	sweep(b)
	sweep(a)
	want("both again within the period", 3, 3)
	// The period is measured from the holder's start: once the leases
	// lapse (Redis expires them), the next pass anywhere lists again.
	deadline := time.Now().Add(10 * time.Second)
	for bucket.objects.Load() == 3 {
		if time.Now().After(deadline) {
			t.Fatal("no listing 10 s after a 1 s lease")
		}
		time.Sleep(50 * time.Millisecond)
		sweep(b)
	}
	want("worker b after the period", 4, 4)
}

// TestSweeperLeaseErrorSkipsTheStep: when Redis cannot be asked, the
// costly steps are skipped and the pass reports why; the rest of the pass
// still runs.
func TestSweeperLeaseErrorSkipsTheStep(t *testing.T) {
	db := sqliteStore(t)
	bucket := &listings{Bucket: fileBackend(t).bucket}
	down := testenv.RedisClient(t, fmt.Sprintf("redis://127.0.0.1:%d/0?max_retries=-1", testenv.FreePort(t)))
	s := &export.Sweeper{
		Store: db, Bucket: bucket, Queue: &requeues{}, Logger: slog.New(slog.DiscardHandler), Now: time.Now,
		Leases: &lease.Redis{Client: down, Owner: "w"},
	}
	if err := s.Sweep(t.Context()); err == nil {
		t.Fatal("a pass whose leases could not be taken reported no error")
	}
	if o, u := bucket.objects.Load(), bucket.uploads.Load(); o != 0 || u != 0 {
		t.Fatalf("%d object and %d upload listings without a lease; want none", o, u)
	}
}

// TestSweeperHoldsTheLeaseWhileAStepRuns: a step that outlasts its period
// keeps its lease, so no other worker runs it beside it; once it ends, the
// lease lapses within a period and the step runs again elsewhere.
func TestSweeperHoldsTheLeaseWhileAStepRuns(t *testing.T) {
	db := sqliteStore(t)
	bucket := &listings{Bucket: fileBackend(t).bucket, hold: make(chan struct{})}
	c := testenv.RedisClient(t, testenv.RedisURL(t))
	const period = 400 * time.Millisecond
	sweeper := func(owner string) *export.Sweeper {
		return &export.Sweeper{
			Store: db, Bucket: bucket, Queue: &requeues{}, Logger: slog.New(slog.DiscardHandler), Now: time.Now,
			OrphanScanEvery: period, Leases: &lease.Redis{Client: c, Owner: owner},
		}
	}
	a, b := sweeper("worker-a"), sweeper("worker-b")
	aDone := make(chan error, 1)
	go func() { aDone <- a.Sweep(t.Context()) }()
	for bucket.objects.Load() == 0 {
		time.Sleep(10 * time.Millisecond) // until a's listing has started
	}
	// Five periods pass while a lists; b sweeps all along and must not.
	for end := time.Now().Add(5 * period); time.Now().Before(end); time.Sleep(period / 4) {
		if err := b.Sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := bucket.objects.Load(); n != 1 {
		t.Fatalf("%d listings while the first one ran for five periods; want it alone", n)
	}
	close(bucket.hold)
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for bucket.objects.Load() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("the lease never lapsed after the step ended")
		}
		time.Sleep(period / 4)
		if err := b.Sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}
