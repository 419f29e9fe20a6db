package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/jobs"
	"github.com/auditsentinel/sentinel/internal/redisconn"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// setup returns the asynq option of a real Redis for one test, flushed
// first, as asynq's own rdb tests start from an empty database.
func setup(tb testing.TB) asynq.RedisConnOpt {
	tb.Helper()
	cfg, err := redisconn.ParseURL(testenv.RedisURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	c := cfg.NewClient(0)
	defer c.Close()
	if err := c.FlushAll(tb.Context()).Err(); err != nil {
		tb.Fatal(err)
	}
	return cfg.ConnOpt()
}

// runner fails with errs[n] on its n-th call (nil past the end) and
// reports every call's retry count.
type runner struct {
	errs  []error
	mu    sync.Mutex
	calls []int
}

func (r *runner) Run(ctx context.Context, _, _ string) error {
	retried, _ := asynq.GetRetryCount(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.calls)
	r.calls = append(r.calls, retried)
	if n < len(r.errs) {
		return r.errs[n]
	}
	return nil
}

func (r *runner) retries() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.calls...)
}

type failure struct{ id, code, message string }

// bundle is a running server with fakes that record what it did.
type bundle struct {
	opt    asynq.RedisConnOpt
	queue  *jobs.Client
	runner *runner
	failed chan failure
	done   chan string
}

var errPermanent = audit.Errorf(audit.EINVALID, "the filter matches a retired event type")

func start(t *testing.T, errs ...error) *bundle {
	t.Helper()
	b := &bundle{opt: setup(t), runner: &runner{errs: errs}, failed: make(chan failure, 4), done: make(chan string, 4)}
	b.queue = jobs.NewClient(b.opt)
	t.Cleanup(func() { b.queue.Close() })
	srv := jobs.NewServer(jobs.ServerConfig{
		Redis: b.opt, Concurrency: 1, Runner: b.runner,
		Failer: failerFunc(func(_ context.Context, _, id, code, message string, _ time.Time) error {
			b.failed <- failure{id, code, message}
			return nil
		}),
		IsPermanent:  func(err error) bool { return errors.Is(err, errPermanent) },
		Logger:       slog.New(slog.DiscardHandler),
		OnExportDone: func(_ context.Context, _, id string) { b.done <- id },
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return b
}

type failerFunc func(ctx context.Context, tenantID, id, code, message string, at time.Time) error

func (f failerFunc) FailExport(ctx context.Context, tenantID, id, code, message string, at time.Time) error {
	return f(ctx, tenantID, id, code, message, at)
}

func (b *bundle) waitDone(t *testing.T, id string) {
	t.Helper()
	select {
	case got := <-b.done:
		if got != id {
			t.Fatalf("done: %s, want %s", got, id)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("export %s never done; runner calls %v", id, b.runner.retries())
	}
}

func (b *bundle) waitFailed(t *testing.T) failure {
	t.Helper()
	select {
	case f := <-b.failed:
		return f
	case <-time.After(30 * time.Second):
		t.Fatalf("no failure recorded; runner calls %v", b.runner.retries())
	}
	return failure{}
}

// archived waits until the export's task is archived: given up on, and
// never run again.
func (b *bundle) archived(t *testing.T, id string) {
	t.Helper()
	insp := asynq.NewInspector(b.opt)
	defer insp.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := insp.GetTaskInfo(jobs.QueueExports, id)
		if err == nil && info.State == asynq.TaskStateArchived {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s: %+v, %v; want it archived", id, info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A transient error is retried, and the export then completes without
// being recorded as failed.
func TestTransientErrorRetried(t *testing.T) {
	b := start(t, errors.New("connection reset"))
	if err := b.queue.EnqueueExport(t.Context(), "t1", "e1"); err != nil {
		t.Fatal(err)
	}
	b.waitDone(t, "e1")
	if got := b.runner.retries(); len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Fatalf("runner calls (retry counts) = %v, want [0 1]", got)
	}
	select {
	case f := <-b.failed:
		t.Fatalf("recorded a failure for a retried export: %+v", f)
	default:
	}
}

// A permanent error is recorded on the export at once, with its own code
// and message, and the task is not retried (SkipRetry) though retries
// remain.
func TestPermanentErrorSkipsRetry(t *testing.T) {
	b := start(t, errPermanent)
	if err := b.queue.EnqueueExport(t.Context(), "t1", "e1"); err != nil {
		t.Fatal(err)
	}
	f := b.waitFailed(t)
	if f.id != "e1" || f.code != audit.EINVALID || f.message != audit.ErrorMessage(errPermanent) {
		t.Fatalf("recorded %+v, want e1 with %s: %s", f, audit.EINVALID, audit.ErrorMessage(errPermanent))
	}
	b.waitDone(t, "e1")
	b.archived(t, "e1")
	if got := b.runner.retries(); len(got) != 1 {
		t.Fatalf("runner calls = %v, want one", got)
	}
}

// When the retries are spent, a transient error ends the export visibly
// failed with a generic message, never stuck.
func TestRetriesExhausted(t *testing.T) {
	b := start(t, errors.New("connection reset"))
	b.queue.MaxRetry = 0
	if err := b.queue.EnqueueExport(t.Context(), "t1", "e1"); err != nil {
		t.Fatal(err)
	}
	f := b.waitFailed(t)
	if f.id != "e1" || f.code != audit.EINTERNAL || !strings.Contains(f.message, "after 1 attempts") ||
		strings.Contains(f.message, "connection reset") {
		t.Fatalf("recorded %+v; want EINTERNAL that counts the attempts and hides the cause", f)
	}
	b.waitDone(t, "e1")
	b.archived(t, "e1")
	if got := b.runner.retries(); len(got) != 1 {
		t.Fatalf("runner calls = %v, want one", got)
	}
}

// Enqueueing a task again while it waits is a no-op: its id is the
// export's (or the delivery's), so one export never runs twice at once.
func TestEnqueueIsUnique(t *testing.T) {
	opt := setup(t)
	q := jobs.NewClient(opt)
	defer q.Close()
	for range 2 {
		if err := q.EnqueueExport(t.Context(), "t1", "e1"); err != nil {
			t.Fatal(err)
		}
		if err := q.EnqueueWebhook(t.Context(), "t1", "d1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.EnqueueExport(t.Context(), "t1", "e2"); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	for queue, want := range map[string][]string{jobs.QueueExports: {"e1", "e2"}, jobs.QueueWebhooks: {"webhook:d1"}} {
		tasks, err := insp.ListPendingTasks(queue)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, ti := range tasks {
			ids = append(ids, ti.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, want) {
			t.Errorf("queue %s: pending %v, want %v", queue, ids, want)
		}
	}
}
