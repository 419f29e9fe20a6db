package export_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/jobs"
	"github.com/auditsentinel/sentinel/internal/objstore/filesystem"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite/sqlitetest"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// A queued export whose task was lost with Redis (FLUSHALL after the 202)
// is enqueued again by the first sweep after DefaultStaleQueued, and the
// sweeps come every DefaultSweepEvery: the loss is repaired within 60 s. The test
// runs on a real Redis and a real store, with the sweeper's clock injected.
func TestLostTaskRequeuedWithinAMinute(t *testing.T) {
	if worst := export.DefaultStaleQueued + export.DefaultSweepEvery; worst >= time.Minute {
		t.Fatalf("a lost task may wait %s to be enqueued again; the bound is under 60 s", worst)
	}
	ctx := t.Context()
	url := testenv.RedisURL(t)
	opt, err := asynq.ParseRedisURI(url)
	if err != nil {
		t.Fatal(err)
	}
	queue := jobs.NewClient(opt)
	t.Cleanup(func() { queue.Close() })
	ropt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ropt)
	t.Cleanup(func() { rdb.Close() })

	db := sqlitetest.Open(t)
	bucket, err := filesystem.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Truncate(time.Second)
	e := audit.Export{ID: "lost-1", TenantID: "acme", RequestHash: "h", Status: audit.StatusQueued, RowsTotal: -1, CreatedAt: t0,
		Params: audit.ExportParams{Filter: audit.Filter{TenantID: "acme"}, FileType: audit.FileCSV, Locale: "en", Timezone: "UTC"}}
	if err := db.CreateExport(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := queue.EnqueueExport(ctx, "acme", e.ID); err != nil {
		t.Fatal(err)
	}
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	// The task's own key, not the Inspector: asynq's client remembers the
	// queues it registered and does not register them again after a flush.
	hasTask := func() bool {
		t.Helper()
		n, err := rdb.Exists(ctx, "asynq:{"+jobs.QueueExports+"}:t:"+e.ID).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if hasTask() {
		t.Fatal("the task survived FLUSHALL")
	}
	clk := &clock{t: t0}
	sw := &export.Sweeper{Store: db, Bucket: bucket, Queue: queue, Logger: slog.New(slog.DiscardHandler), Now: clk.Now}

	// Not yet stale: a sweep leaves it to the queue.
	clk.Set(t0.Add(export.DefaultStaleQueued - time.Second))
	if err := sw.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if hasTask() {
		t.Fatal("an export younger than DefaultStaleQueued was enqueued again")
	}
	// The first sweep past it restores the task.
	clk.Set(t0.Add(export.DefaultStaleQueued + time.Second))
	if err := sw.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if !hasTask() {
		t.Fatal("the lost task was not enqueued again by the sweep after DefaultStaleQueued")
	}
}
