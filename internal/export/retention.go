package export

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/selfaudit"
)

// RetentionStore is what the sweeper needs to apply retention and holds.
type RetentionStore interface {
	RetentionPolicies(ctx context.Context) ([]audit.RetentionPolicy, error)
	PurgeEvents(ctx context.Context, tenantID string, cutoff time.Time, limit int) (audit.PurgeBatch, error)
	RetireArchive(ctx context.Context, tenantID, id string, expireAt *time.Time, guard audit.ArchiveGuard,
		remove func(audit.Export) error) (audit.Export, error)
}

// Recorder records self-audit events (selfaudit.Recorder).
type Recorder interface {
	Record(ctx context.Context, ev audit.Event)
}

// Retention purge defaults. A batch of 1000 rows deletes in milliseconds
// on either backend, so neither ingest (which never waits for it: it adds
// rows, a purge removes old ones) nor an export (which reads a snapshot
// and whose range the purge never enters) notices; 50 batches bound one
// tenant's share of a pass.
const (
	DefaultPurgeEvery   = time.Minute
	DefaultPurgeBatch   = 1000
	DefaultPurgeBatches = 50
	// DefaultPurgeDuty is the share of its time the purge keeps the
	// database busy: after a batch that took d it waits 9d. Back to back,
	// a large backlog kept a core of the database busy and slowed a
	// concurrent export 1.86× in make bench; at a quarter (3d) still 1.44×
	// once ingest had become faster. At a tenth the backlog drains at some
	// 3,000 events a second, over more passes: ten million an hour, enough
	// for a daily retention cut.
	DefaultPurgeDuty = 0.1
)

// purge applies every tenant's event retention: bounded batches, each its
// own short transaction, until a batch comes back short or the tenant's
// share of the pass is spent. Each tenant's purge is recorded into its
// stream with its count and range (event_type retention, sub_type purged).
func (s *Sweeper) purge(ctx context.Context, now time.Time) error {
	policies, err := s.Retention.RetentionPolicies(ctx)
	if err != nil {
		return fmt.Errorf("sweeper: retention policies: %w", err)
	}
	limit := s.PurgeBatch
	if limit <= 0 {
		limit = DefaultPurgeBatch
	}
	batches := s.PurgeBatches
	if batches <= 0 {
		batches = DefaultPurgeBatches
	}
	duty := s.PurgeDuty
	if duty <= 0 || duty > 1 {
		duty = DefaultPurgeDuty
	}
	var errs []error
	for _, p := range policies {
		cutoff, ok := p.EventCutoff(now)
		if !ok {
			continue
		}
		var total audit.PurgeBatch
		var heldBack string
		var took time.Duration
		for i := range batches {
			if i > 0 && !pace(ctx, took, duty) {
				break
			}
			start := time.Now()
			b, err := s.Retention.PurgeEvents(ctx, p.TenantID, cutoff, limit)
			took = time.Since(start)
			if err != nil {
				errs = append(errs, fmt.Errorf("sweeper: purge %s: %w", p.TenantID, err))
				break
			}
			heldBack = b.HeldBack
			total.Cutoff = b.Cutoff
			if b.Deleted > 0 {
				if total.Deleted == 0 || b.Oldest.Before(total.Oldest) {
					total.Oldest = b.Oldest
				}
				if b.Newest.After(total.Newest) {
					total.Newest = b.Newest
				}
				total.Deleted += b.Deleted
			}
			if b.Deleted < int64(limit) || ctx.Err() != nil {
				break
			}
		}
		log := s.Logger.With("tenant", p.TenantID)
		if heldBack != "" {
			log.InfoContext(ctx, "retention purge held back", "cutoff", cutoff, "held_at", total.Cutoff, "reason", heldBack)
		}
		if total.Deleted == 0 {
			continue
		}
		s.Metrics.sweptMany(sweptPurgedEvent, total.Deleted)
		log.InfoContext(ctx, "events purged", "count", total.Deleted, "oldest", total.Oldest, "newest", total.Newest,
			"retention_days", p.EventDays)
		if s.Audit != nil {
			s.Audit.Record(ctx, PurgeEvent(p, total, heldBack, now))
		}
	}
	return errors.Join(errs...)
}

// pace waits, after a purge batch that took took, long enough that batches
// keep the database busy for at most duty of the time (real time: the
// batch's own duration is what matters, not the sweeper's clock). It
// reports false when ctx ends first.
func pace(ctx context.Context, took time.Duration, duty float64) bool {
	if duty >= 1 || took <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(time.Duration(float64(took) * (1 - duty) / duty))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// PurgeEvent is the self-audit record of one tenant's purge: how many
// events, the occurred_at range they spanned and the retention applied.
func PurgeEvent(p audit.RetentionPolicy, b audit.PurgeBatch, heldBack string, at time.Time) audit.Event {
	f := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	meta := map[string]string{
		"count":          strconv.FormatInt(b.Deleted, 10),
		"oldest":         f(b.Oldest),
		"newest":         f(b.Newest),
		"cutoff":         f(b.Cutoff),
		"retention_days": strconv.Itoa(p.EventDays),
		"held_back":      heldBack,
	}
	desc := fmt.Sprintf("retention purged %d events that occurred from %s to %s (retention %d days)",
		b.Deleted, f(b.Oldest), f(b.Newest), p.EventDays)
	return selfaudit.Event(p.TenantID, audit.SelfAuditRetentionType, "purged", f(b.Cutoff), selfaudit.Actor{}, at, desc, meta)
}
