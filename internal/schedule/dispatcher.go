package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
)

// DispatchStore is what the dispatcher needs from the SQL store.
type DispatchStore interface {
	EnabledSchedules(ctx context.Context, afterID string, limit int) ([]audit.Schedule, error)
	MarkScheduleFired(ctx context.Context, tenantID, id string, prev *time.Time, occurrence time.Time) (bool, error)
	CreateExport(ctx context.Context, e audit.Export) error
	snapshotter
	chainStore
}

// Queue hands an export to the workers; enqueueing an export twice is
// harmless (jobs.Client deduplicates by export id).
type Queue interface {
	EnqueueExport(ctx context.Context, tenantID, exportID string) error
}

// Dispatcher fires due schedule occurrences. Every worker runs one.
//
// Exactly once, however many run: an occurrence becomes an export row
// whose (tenant, schedule, occurrence) is unique in the database, so of
// dispatchers racing for it one inserts and the others get a conflict,
// which means "already fired". LastFiredAt advances (compare-and-set) only
// after the export exists, so a crash between the two makes the next tick
// see the same occurrence due again, conflict, and advance: an occurrence
// is never lost nor doubled. The export is enqueued by whoever inserted it;
// if that process died first, the sweeper re-enqueues queued exports whose
// task went missing.
//
// Each run is also the next link of its schedule's chain (chain.go): its
// number is unique per schedule too, so of two dispatchers firing different
// occurrences at once one run gets the number and the other conflicts; the
// next run's window starts where the winner's ended, so nothing is lost.
type Dispatcher struct {
	Store  DispatchStore
	Queue  Queue
	Logger *slog.Logger
	// Now is the clock occurrences are judged by.
	Now func() time.Time
	// BatchSize is how many schedules one query reads (default 500).
	BatchSize int
}

// Tick evaluates every enabled schedule at d.Now() and fires the due ones.
// It reads schedules afresh, so an edit takes effect at the next tick. It
// returns how many exports it created; a failure with one schedule does not
// stop the others and is returned joined with the rest.
func (d *Dispatcher) Tick(ctx context.Context) (fired int, err error) {
	now := d.Now().UTC()
	batch := d.BatchSize
	if batch <= 0 {
		batch = 500
	}
	var errs []error
	after := ""
	for {
		list, err := d.Store.EnabledSchedules(ctx, after, batch)
		if err != nil {
			return fired, fmt.Errorf("schedule: enabled schedules: %w", err)
		}
		for _, s := range list {
			occ, ok := Due(s, now)
			if !ok {
				continue
			}
			created, err := d.fire(ctx, s, occ, now)
			if err != nil {
				errs = append(errs, err)
			}
			if created {
				fired++
			}
		}
		if len(list) < batch {
			d.logger().DebugContext(ctx, "scheduler tick", "now", now, "fired", fired, "failed", len(errs))
			return fired, errors.Join(errs...)
		}
		after = list[len(list)-1].ID
	}
}

func (d *Dispatcher) fire(ctx context.Context, s audit.Schedule, occ, now time.Time) (created bool, err error) {
	log := d.logger().With("tenant", s.TenantID, "schedule_id", s.ID, "occurrence", occ)
	e, err := NewExport(s, occ, now)
	switch {
	case audit.ErrorCode(err) == audit.EINVALID:
		// The stored schedule no longer validates (rules changed since it
		// was saved): this occurrence can never fire. Skip it rather than
		// fail every minute; the schedule's owner has to fix it.
		log.ErrorContext(ctx, "scheduled export skipped: the schedule does not validate", "err", err)
	case err != nil:
		return false, fmt.Errorf("schedule: schedule %s: %w", s.ID, err)
	default:
		if err := link(ctx, d.Store, &e); errors.Is(err, errEmptyWindow) {
			// Nothing of its own to export: the next run with a window
			// carries whatever arrives late meanwhile.
			log.InfoContext(ctx, "scheduled run skipped: its window ends before the previous run's",
				"window_end", e.Params.Filter.RangeEnd)
			break
		} else if err != nil {
			return false, err
		}
		if err := takeSnapshot(ctx, d.Store, &e, now); err != nil {
			return false, err
		}
		err = d.Store.CreateExport(ctx, e)
		switch {
		case errors.Is(err, audit.ErrConflict):
			// Another dispatcher fired this occurrence, or another one of
			// this schedule under the same chain number: either way the
			// chain has that run, and the next one links to it.
			log.DebugContext(ctx, "occurrence already fired by another dispatcher")
		case err != nil:
			return false, fmt.Errorf("schedule: schedule %s: create export: %w", s.ID, err)
		default:
			created = true
			if err := d.Queue.EnqueueExport(ctx, s.TenantID, e.ID); err != nil {
				// The export exists: the sweeper enqueues it again later.
				log.WarnContext(ctx, "enqueue scheduled export", "export_id", e.ID, "err", err)
			}
			log.InfoContext(ctx, "scheduled export fired", "export_id", e.ID)
		}
	}
	if _, err := d.Store.MarkScheduleFired(ctx, s.TenantID, s.ID, s.LastFiredAt, occ); err != nil &&
		!errors.Is(err, audit.ErrNotFound) {
		return created, fmt.Errorf("schedule: schedule %s: mark fired: %w", s.ID, err)
	}
	return created, nil
}

// Run ticks at once (catching up what was missed while no worker ran),
// then a second after every minute boundary, until ctx ends. Occurrences
// are whole minutes, so each fires within about a second.
func (d *Dispatcher) Run(ctx context.Context) {
	for {
		if _, err := d.Tick(ctx); err != nil && ctx.Err() == nil {
			d.logger().ErrorContext(ctx, "scheduler tick", "err", err)
		}
		wait := time.Until(time.Now().Truncate(time.Minute).Add(time.Minute + time.Second))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (d *Dispatcher) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

// NewExport returns the export record of occurrence occ of s, created at
// now: the schedule's params with the occurrence's window, validated with
// the export endpoint's rules, tagged with the schedule, the occurrence,
// the schedule's retention and webhook.
func NewExport(s audit.Schedule, occ, now time.Time) (audit.Export, error) {
	p, err := ExportParams(s, occ)
	if err != nil {
		return audit.Export{}, err
	}
	if p, err = export.Validate(p); err != nil {
		return audit.Export{}, err
	}
	p.Filter.TenantID = s.TenantID
	occ = occ.UTC().Truncate(audit.TimePrecision)
	return audit.Export{
		ID:            uuid.Must(uuid.NewV7()).String(),
		TenantID:      s.TenantID,
		Params:        p,
		RequestHash:   p.Hash(),
		Status:        audit.StatusQueued,
		RowsTotal:     -1,
		CreatedAt:     now.UTC().Truncate(audit.TimePrecision),
		ScheduleID:    s.ID,
		Occurrence:    &occ,
		WebhookURL:    s.WebhookURL,
		RetentionDays: s.RetentionDays,
		// Kept on the export: deleting or changing the schedule later
		// does not shorten what its archives promised.
		MinRetentionDays: s.MinRetentionDays,
	}, nil
}
