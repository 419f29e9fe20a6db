package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/objstore"
)

// SweepStore is what the sweeper needs from the SQL store.
type SweepStore interface {
	ExportsDue(ctx context.Context, q audit.DueQuery) ([]audit.Export, error)
	FailExport(ctx context.Context, tenantID, id, code, message string, at time.Time) error
	ExpireExport(ctx context.Context, tenantID, id string, at time.Time) error
	DeferExpiry(ctx context.Context, tenantID, id string, until time.Time) error
	ObjectKeysExist(ctx context.Context, keys []string) (map[string]bool, error)
}

// SweepBucket is what the sweeper needs from storage.
type SweepBucket interface {
	objstore.Writer
	objstore.Lister
	objstore.UploadJanitor
}

// Sweeper is the periodic maintenance: it expires exports past their
// retention (object first, then record) unless a legal hold covers them,
// re-enqueues exports whose task was lost, aborts uploads abandoned by
// crashed writers, deletes objects that no export owns and purges events
// past their tenant's retention.
type Sweeper struct {
	Store  SweepStore
	Bucket SweepBucket
	Queue  Queue // re-enqueues exports whose task may have been lost
	Logger *slog.Logger
	Now    func() time.Time
	// StaleQueued is how long an export may sit queued before its task is
	// enqueued again (default DefaultStaleQueued). Enqueueing is harmless
	// when the task is still there (the queue deduplicates by export id).
	StaleQueued time.Duration
	// SilentRunning is how long a running export may go without a
	// heartbeat before it is failed (default 15 min: a live run beats every
	// 30 s, and the queue retries a crashed one within minutes, which
	// refreshes it).
	SilentRunning time.Duration
	// AbandonedUpload is the age after which an incomplete upload is
	// aborted (default 24 h: longer than any export may run).
	AbandonedUpload time.Duration
	// OrphanAge protects objects whose export is being completed right now
	// (default 1 h).
	OrphanAge time.Duration
	// OnFailed, when set, is told about exports the sweeper failed, so
	// their webhooks go out like those of any other failure.
	OnFailed func(ctx context.Context, tenantID, exportID string)
	// OrphanScanEvery spaces the full listing of the bucket (default
	// DefaultOrphanScanEvery): it is the one step whose cost grows with
	// the bucket.
	OrphanScanEvery time.Duration
	// UploadScanEvery spaces the listing of incomplete uploads (default
	// DefaultUploadScanEvery), so that sweeping often for lost tasks does
	// not list the bucket's uploads every few seconds.
	UploadScanEvery time.Duration
	// Leases, when set, spaces those two listings and the purge for the
	// whole cluster: whichever worker's pass first finds a step due takes
	// its lease for the step's period and holds it while the step runs,
	// and the others skip the step until the lease lapses. Nil spaces them
	// per Sweeper, which is the same for a single worker but, with N
	// workers each keeping its own clock, lists the bucket N times per
	// period and multiplies the purge's share of the database (PurgeDuty)
	// by N.
	Leases Leases
	// Metrics counts passes and actions; nil: none.
	Metrics *Metrics
	// BatchSize bounds one pass (default 500).
	BatchSize int
	// Retention, when set, purges events past their tenant's retention
	// and re-checks legal holds before an archive expires (retention.go).
	Retention RetentionStore
	// Audit records each purge into the tenant's stream; nil: none.
	Audit Recorder
	// PurgeEvery spaces the purge passes (default DefaultPurgeEvery).
	PurgeEvery time.Duration
	// PurgeBatch is how many events one purge transaction deletes at most
	// (default DefaultPurgeBatch); PurgeBatches bounds the transactions of
	// one tenant per pass (default DefaultPurgeBatches), so a large backlog
	// drains over several passes instead of holding one.
	PurgeBatch   int
	PurgeBatches int
	// PurgeDuty is the share of time purge batches may keep the database
	// busy, in (0, 1] (default DefaultPurgeDuty; 1: back to back).
	PurgeDuty float64

	mu      sync.Mutex
	lastRun map[string]time.Time // without Leases: when each step last ran
}

// DefaultStaleQueued and DefaultSweepEvery bound how long a queued export whose
// task was lost (Redis flushed or failed over after the 202) waits to be
// enqueued again: at most DefaultStaleQueued + DefaultSweepEvery, 45 s
// (SWEEP_EVERY changes the second term). Each sweep
// costs the database one query whose branches are range scans of small
// partial indexes (exports_queued_created, exports_running_heartbeat,
// exports_status_expires), run once per period for the whole cluster, not
// per export or per replica (the sweep task is unique per period).
const (
	DefaultStaleQueued = 30 * time.Second
	DefaultSweepEvery  = 15 * time.Second
)

// Defaults of the steps a pass runs only now and then. Listing a bucket
// costs one request per 1,000 objects, so the full listing (orphans) is
// hourly; incomplete uploads are few and listed by prefix.
const (
	DefaultOrphanScanEvery = time.Hour
	DefaultUploadScanEvery = 10 * time.Minute
)

// Leases hands out, across every worker, one holder of a named step per
// period (package lease implements it on Redis).
type Leases interface {
	// Acquire takes name for ttl; false when another holder has it.
	Acquire(ctx context.Context, name string, ttl time.Duration) (bool, error)
	// Extend gives this holder's lease ttl more from now; false when it
	// is no longer this holder's.
	Extend(ctx context.Context, name string, ttl time.Duration) (bool, error)
}

// RetainedRetry is how far the sweeper defers the expiry of an export
// whose object storage refuses to delete without saying until when (a
// legal hold set in the bucket, a bucket's default retention): it asks
// again an hour later, not every pass.
const RetainedRetry = time.Hour

// Prefix under which every export object lives.
const Prefix = "tenants/"

// Sweep runs one pass. It is safe to run concurrently on several replicas:
// every step is idempotent.
func (s *Sweeper) Sweep(ctx context.Context) (err error) {
	defer func() { s.Metrics.sweepDone(err) }()
	now := s.Now().UTC()
	staleQ := orDefault(s.StaleQueued, DefaultStaleQueued)
	batch := s.BatchSize
	if batch <= 0 {
		batch = 500
	}
	var errs []error
	due, err := s.Store.ExportsDue(ctx, audit.DueQuery{
		Now: now, QueuedBefore: now.Add(-staleQ), SilentBefore: now.Add(-orDefault(s.SilentRunning, 15*time.Minute)), Limit: batch,
	})
	if err != nil {
		return fmt.Errorf("sweeper: exports due: %w", err)
	}
	for _, e := range due {
		log := s.Logger.With("export_id", e.ID, "tenant", e.TenantID)
		switch e.Status {
		case audit.StatusCompleted:
			// The query leaves held archives out; a hold placed since is
			// caught by expire, in the transaction that retires the record.
			h, held, err := s.expire(ctx, e, now)
			var retained *objstore.Retained
			if errors.As(err, &retained) {
				// Storage keeps the object (S3 Object Lock): retrying every
				// pass would only log, and enough such exports would fill
				// every batch (they are the oldest due), starving the
				// re-enqueueing of lost tasks behind them.
				next := retained.Until
				if !next.After(now) { // no date, or storage's clock behind ours
					next = now.Add(RetainedRetry)
				}
				if err := s.Store.DeferExpiry(ctx, e.TenantID, e.ID, next); err != nil {
					errs = append(errs, fmt.Errorf("sweeper: defer expiry of %s: %w", e.ID, err))
					continue
				}
				s.Metrics.sweptOne(sweptDeferred)
				log.InfoContext(ctx, "export not expired: storage retains its object; expiry deferred",
					"key", e.ObjectKey, "expires_at", next, "reason", retained.Error())
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if held {
				s.Metrics.sweptOne(sweptHeldBack)
				log.InfoContext(ctx, "export not expired: under legal hold", "hold_id", h.ID)
				continue
			}
			s.Metrics.sweptOne(sweptExpired)
			log.InfoContext(ctx, "export expired", "key", e.ObjectKey)
		case audit.StatusQueued:
			if err := s.Queue.EnqueueExport(ctx, e.TenantID, e.ID); err != nil {
				errs = append(errs, fmt.Errorf("sweeper: requeue %s: %w", e.ID, err))
				continue
			}
			s.Metrics.sweptOne(sweptRequeued)
			log.InfoContext(ctx, "stale queued export re-enqueued")
		case audit.StatusRunning:
			// The queue gave up on the task without telling us (its worker
			// died more often than the retry budget): fail it visibly.
			err := s.Store.FailExport(ctx, e.TenantID, e.ID, audit.EINTERNAL,
				"the worker running this export stopped responding; request it again", now)
			if err != nil && !errors.Is(err, audit.ErrConflict) {
				errs = append(errs, fmt.Errorf("sweeper: fail silent %s: %w", e.ID, err))
				continue
			}
			s.Metrics.sweptOne(sweptFailedSilent)
			log.WarnContext(ctx, "silent running export failed", "heartbeat_at", e.HeartbeatAt)
			if s.OnFailed != nil {
				s.OnFailed(ctx, e.TenantID, e.ID)
			}
		}
	}
	errs = append(errs, s.whenDue(ctx, "sweep-uploads", now,
		orDefault(s.UploadScanEvery, DefaultUploadScanEvery), func() error { return s.abortAbandoned(ctx, now) }))
	if s.Retention != nil {
		errs = append(errs, s.whenDue(ctx, "sweep-purge", now,
			orDefault(s.PurgeEvery, DefaultPurgeEvery), func() error { return s.purge(ctx, now) }))
	}
	errs = append(errs, s.whenDue(ctx, "sweep-orphans", now,
		orDefault(s.OrphanScanEvery, DefaultOrphanScanEvery), func() error { return s.deleteOrphans(ctx, now) }))
	return errors.Join(errs...)
}

func (s *Sweeper) abortAbandoned(ctx context.Context, now time.Time) error {
	ups, err := s.Bucket.ListIncompleteUploads(ctx, Prefix)
	if err != nil {
		return fmt.Errorf("sweeper: list incomplete uploads: %w", err)
	}
	cutoff := now.Add(-orDefault(s.AbandonedUpload, 24*time.Hour))
	var errs []error
	for _, u := range ups {
		if u.Initiated.After(cutoff) {
			continue
		}
		if err := s.Bucket.AbortIncompleteUpload(ctx, u); err != nil {
			errs = append(errs, fmt.Errorf("sweeper: abort upload %s: %w", u.Key, err))
			continue
		}
		s.Metrics.sweptOne(sweptAbortedUpload)
		s.Logger.InfoContext(ctx, "aborted abandoned upload", "key", u.Key, "upload_id", u.UploadID, "initiated", u.Initiated)
	}
	return errors.Join(errs...)
}

// expire deletes completed export e's object and marks it expired, unless
// a legal hold covers it (held, naming the hold). With a RetentionStore the
// check, the object's deletion and the record's change are one transaction
// that a hold being placed waits for (audit.RetentionStore.RetireArchive).
func (s *Sweeper) expire(ctx context.Context, e audit.Export, now time.Time) (h audit.LegalHold, held bool, err error) {
	remove := func(e audit.Export) error {
		if e.ObjectKey == "" {
			return nil
		}
		if err := s.Bucket.Delete(ctx, e.ObjectKey); err != nil && !errors.Is(err, audit.ErrNotFound) {
			return fmt.Errorf("sweeper: delete %s: %w", e.ObjectKey, err)
		}
		return nil
	}
	if s.Retention == nil {
		if err := remove(e); err != nil {
			return h, false, err
		}
		if err := s.Store.ExpireExport(ctx, e.TenantID, e.ID, now); err != nil {
			return h, false, fmt.Errorf("sweeper: expire %s: %w", e.ID, err)
		}
		return h, false, nil
	}
	errHeld := errors.New("held")
	guard := func(e audit.Export, holds []audit.LegalHold, _ audit.RetentionPolicy) error {
		if h, held = audit.HoldOn(holds, e); held {
			return errHeld
		}
		return nil
	}
	if _, err := s.Retention.RetireArchive(ctx, e.TenantID, e.ID, &now, guard, remove); errors.Is(err, errHeld) {
		return h, true, nil
	} else if err != nil {
		return h, false, fmt.Errorf("sweeper: expire %s: %w", e.ID, err)
	}
	return h, false, nil
}

// deleteOrphans removes export objects that no live record owns (a record
// deleted while its object's delete failed, or a crash between storing an
// object and recording it).
func (s *Sweeper) deleteOrphans(ctx context.Context, now time.Time) error {
	cutoff := now.Add(-orDefault(s.OrphanAge, time.Hour))
	var candidates []string
	err := s.Bucket.List(ctx, Prefix, func(o objstore.ObjectInfo) error {
		if strings.Contains(o.Key, "/exports/") && o.LastModified.Before(cutoff) {
			candidates = append(candidates, o.Key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sweeper: list objects: %w", err)
	}
	var errs []error
	for len(candidates) > 0 {
		n := min(len(candidates), 500)
		chunk := candidates[:n]
		candidates = candidates[n:]
		owned, err := s.Store.ObjectKeysExist(ctx, chunk)
		if err != nil {
			return fmt.Errorf("sweeper: object owners: %w", err)
		}
		for _, k := range chunk {
			if owned[k] {
				continue
			}
			if err := s.Bucket.Delete(ctx, k); err != nil && !errors.Is(err, audit.ErrNotFound) {
				errs = append(errs, fmt.Errorf("sweeper: delete orphan %s: %w", k, err))
				continue
			}
			s.Metrics.sweptOne(sweptDeletedOrphan)
			s.Logger.InfoContext(ctx, "deleted orphaned object", "key", k)
		}
	}
	return errors.Join(errs...)
}

// whenDue runs step if the step name should run in this pass: with
// Leases, when this worker takes the step's lease for every; without, when
// this Sweeper last ran it every or more before now (and then it records
// now). An error taking the lease skips the step this time.
func (s *Sweeper) whenDue(ctx context.Context, name string, now time.Time, every time.Duration, step func() error) error {
	if due, err := s.due(ctx, name, now, every); err != nil || !due {
		return err
	}
	if s.Leases != nil {
		defer s.holdLease(ctx, name, every)()
	}
	return step()
}

// holdLease extends the lease name by every, each half of every, until the
// returned stop is called: a step that outlasts its period (a purge with
// a backlog on many tenants) must not have a second run beside it, which
// for the purge would double its share of the database. The ticker runs
// on real time, as the lease does in Redis.
func (s *Sweeper) holdLease(ctx context.Context, name string, every time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every / 2)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if ok, err := s.Leases.Extend(ctx, name, every); err != nil || !ok {
					s.Logger.WarnContext(ctx, "sweeper: a step outlasting its period lost its lease; another worker may run it too",
						"step", name, "held", ok, "err", err)
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func (s *Sweeper) due(ctx context.Context, name string, now time.Time, every time.Duration) (bool, error) {
	if s.Leases != nil {
		ok, err := s.Leases.Acquire(ctx, name, every)
		if err != nil {
			return false, fmt.Errorf("sweeper: %w", err)
		}
		return ok, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.lastRun[name]; ok && now.Sub(last) < every {
		return false, nil
	}
	if s.lastRun == nil {
		s.lastRun = make(map[string]time.Time)
	}
	s.lastRun[name] = now
	return true, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
