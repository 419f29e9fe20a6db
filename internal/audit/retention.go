package audit

import (
	"context"
	"fmt"
	"time"
)

// RetentionPolicy is how long a tenant keeps its events and its archives.
// The zero value keeps events forever and lets archives be deleted at any
// time.
type RetentionPolicy struct {
	TenantID string
	// EventDays is how many days events are kept, counted back from now
	// by occurred_at; 0 keeps them forever. The sweeper purges older ones
	// in bounded batches (RetentionStore.PurgeEvents).
	EventDays int
	// ArchiveMinDays is how many days after completion an archive (a
	// completed export) cannot be deleted; 0: none. A schedule may ask for
	// longer for its own runs (Export.MinRetentionDays).
	ArchiveMinDays int
	UpdatedAt      time.Time
}

// MaxRetentionDays bounds both retention settings (ten years).
const MaxRetentionDays = 3650

// Validate checks p's day counts.
func (p RetentionPolicy) Validate() error {
	if p.EventDays < 0 || p.EventDays > MaxRetentionDays {
		return Invalid("event_days", "event_days must be from 0 (keep forever) to %d, got %d", MaxRetentionDays, p.EventDays)
	}
	if p.ArchiveMinDays < 0 || p.ArchiveMinDays > MaxRetentionDays {
		return Invalid("archive_min_days", "archive_min_days must be from 0 (none) to %d, got %d", MaxRetentionDays, p.ArchiveMinDays)
	}
	return nil
}

// EventCutoff is the occurred_at before which events fall out of the
// retention at now; ok is false when events are kept forever.
func (p RetentionPolicy) EventCutoff(now time.Time) (cutoff time.Time, ok bool) {
	if p.EventDays <= 0 {
		return time.Time{}, false
	}
	return now.UTC().Add(-time.Duration(p.EventDays) * 24 * time.Hour).Truncate(TimePrecision), true
}

// LockedUntil is when archive e may first be deleted under p: its
// completion plus the longer of the tenant's and its schedule's minimum
// retention. ok is false when no minimum applies (or e is not completed).
func (p RetentionPolicy) LockedUntil(e Export) (until time.Time, ok bool) {
	days := max(p.ArchiveMinDays, e.MinRetentionDays)
	if days <= 0 || e.CompletedAt == nil {
		return time.Time{}, false
	}
	return e.CompletedAt.Add(time.Duration(days) * 24 * time.Hour), true
}

// LegalHold stops the purge of the events it covers and the deletion of
// archives that hold them, until it is released. Without a range it covers
// the whole tenant; RangeStart and RangeEnd bound occurred_at inclusively
// (nil: unbounded on that side), as an export's range does.
type LegalHold struct {
	ID         string
	TenantID   string
	Name       string
	RangeStart *time.Time
	RangeEnd   *time.Time
	CreatedAt  time.Time
	// CreatedByKeyID names the key that placed it ("" when placed by
	// sentinelctl on the database directly).
	CreatedByKeyID string
	ReleasedAt     *time.Time
}

// Active reports whether h is still in force.
func (h LegalHold) Active() bool { return h.ReleasedAt == nil }

// Overlaps reports whether h covers any instant of the inclusive range
// [start, end] (nil: unbounded).
func (h LegalHold) Overlaps(start, end *time.Time) bool {
	if h.RangeEnd != nil && start != nil && start.After(*h.RangeEnd) {
		return false
	}
	if h.RangeStart != nil && end != nil && end.Before(*h.RangeStart) {
		return false
	}
	return true
}

// Describe names h for messages: its id, name and range.
func (h LegalHold) Describe() string {
	s := fmt.Sprintf("legal hold %s", h.ID)
	if h.Name != "" {
		s += fmt.Sprintf(" (%q)", h.Name)
	}
	if h.RangeStart == nil && h.RangeEnd == nil {
		return s + " on the whole tenant"
	}
	f := func(t *time.Time) string {
		if t == nil {
			return "…"
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return s + " on events from " + f(h.RangeStart) + " to " + f(h.RangeEnd)
}

// HoldOn returns the first active hold of holds that covers archive e's
// range, if any.
func HoldOn(holds []LegalHold, e Export) (LegalHold, bool) {
	for _, h := range holds {
		if h.Active() && h.Overlaps(e.Params.Filter.RangeStart, e.Params.Filter.RangeEnd) {
			return h, true
		}
	}
	return LegalHold{}, false
}

// PurgeBatch is what one purge batch did.
type PurgeBatch struct {
	// Deleted is how many events it removed; Oldest and Newest bound their
	// occurred_at (zero when none).
	Deleted        int64
	Oldest, Newest time.Time
	// Cutoff is the bound the batch used: the requested one, or earlier
	// when an unfinished export needs events before it (see PurgeEvents).
	Cutoff time.Time
	// HeldBack says why Cutoff is earlier than asked ("" when it is not).
	HeldBack string
}

// RetentionStore keeps retention policies and legal holds and purges
// events. Holds and policies of another tenant are absent (ErrNotFound).
type RetentionStore interface {
	// GetRetention returns tenantID's policy; the zero policy (keep
	// forever) when none was set.
	GetRetention(ctx context.Context, tenantID string) (RetentionPolicy, error)
	// PutRetention creates or replaces p.TenantID's policy.
	PutRetention(ctx context.Context, p RetentionPolicy) error
	// RetentionPolicies lists the policies that purge events (EventDays >
	// 0), of every tenant, by tenant.
	RetentionPolicies(ctx context.Context) ([]RetentionPolicy, error)
	// CreateHold stores h. It serialises with PurgeEvents: once it returns,
	// no purge batch removes an event h covers.
	CreateHold(ctx context.Context, h LegalHold) error
	// ListHolds lists tenantID's holds, oldest first; released ones too
	// when withReleased.
	ListHolds(ctx context.Context, tenantID string, withReleased bool) ([]LegalHold, error)
	// ReleaseHold marks hold id of tenantID released at at and returns it;
	// releasing twice keeps the first time.
	ReleaseHold(ctx context.Context, tenantID, id string, at time.Time) (LegalHold, error)
	// PurgeEvents deletes, in one short transaction, at most limit events
	// of tenantID that occurred before cutoff, sparing every event an
	// active hold covers and every event an unfinished (queued or running)
	// export of the tenant may read: the cutoff is moved back to the
	// earliest range start of those exports (to nothing for an export
	// without one). Creating an export serialises with it, so an export
	// recorded before a batch never loses events to it.
	PurgeEvents(ctx context.Context, tenantID string, cutoff time.Time, limit int) (PurgeBatch, error)
	// RetireArchive ends archive id of tenantID in one transaction that no
	// legal hold of the tenant can be placed during (CreateHold waits for
	// it): guard sees the export, the tenant's active holds and its policy
	// as they are then; remove deletes the stored file; then the record is
	// deleted (expireAt nil: DELETE /exports/{id}) or marked expired at
	// *expireAt (the sweeper). An error from guard or remove leaves the
	// record as it was. A hold placed at the same moment is thus either
	// seen by guard or placed after the archive is gone, never beside a
	// deletion it should have stopped.
	RetireArchive(ctx context.Context, tenantID, id string, expireAt *time.Time, guard ArchiveGuard, remove func(Export) error) (Export, error)
}

// ArchiveGuard says whether archive e may be deleted now, given its
// tenant's active legal holds and retention policy: nil allows it.
type ArchiveGuard func(e Export, holds []LegalHold, p RetentionPolicy) error

// HeldBy is the ArchiveGuard of expiry: only a legal hold stops it (the
// minimum retention is already in the archive's expiry date).
func HeldBy(e Export, holds []LegalHold, _ RetentionPolicy) error {
	if h, held := HoldOn(holds, e); held {
		return &Error{Code: ECONFLICT, Details: map[string]string{"legal_hold_id": h.ID},
			Message: fmt.Sprintf("export %s holds events under %s; it cannot be deleted until the hold is released", e.ID, h.Describe())}
	}
	return nil
}

// DeletionRefused is the ArchiveGuard of DELETE /exports/{id} at now: a
// legal hold covering the archive, or its minimum retention, refuses it
// (ECONFLICT, naming the hold or the date).
func DeletionRefused(now time.Time) ArchiveGuard {
	return func(e Export, holds []LegalHold, p RetentionPolicy) error {
		if err := HeldBy(e, holds, p); err != nil {
			return err
		}
		if until, ok := p.LockedUntil(e); ok && now.Before(until) {
			return &Error{Code: ECONFLICT, Details: map[string]string{"retained_until": until.UTC().Format(time.RFC3339)},
				Message: fmt.Sprintf("export %s is within its minimum retention until %s; it cannot be deleted before then",
					e.ID, until.UTC().Format(time.RFC3339))}
		}
		return nil
	}
}
