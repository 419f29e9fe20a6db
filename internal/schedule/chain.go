package schedule

import (
	"context"
	"errors"
	"fmt"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// chainStore finds the run a new one links to.
type chainStore interface {
	LatestScheduleRun(ctx context.Context, tenantID, scheduleID string) (audit.Export, error)
}

// errEmptyWindow says an occurrence has nothing of its own to cover: its
// window ends at or before the previous run's (several occurrences a day
// of a previous_day window, or a window shortened by an edit).
var errEmptyWindow = errors.New("schedule: the window ends before the previous run's")

// link makes e, a new run of its schedule, the next link of the schedule's
// chain. The first run keeps the window its occurrence computes. Every
// later one starts one audit.TimePrecision after the previous run's range
// end (inclusive) and ends where its own window ends, so the windows are
// contiguous by construction: a run that catches up after downtime or a
// pause covers everything since the previous run, and a run of a schedule
// whose window kind was edited neither overlaps nor leaves a gap. It also
// records what the late-event rule needs (audit.LateRule): the first
// window's start and the previous run's snapshot.
func link(ctx context.Context, st chainStore, e *audit.Export) error {
	prev, err := st.LatestScheduleRun(ctx, e.TenantID, e.ScheduleID)
	if errors.Is(err, audit.ErrNotFound) {
		e.Chain = &audit.ChainLink{Seq: 1, Start: *e.Params.Filter.RangeStart}
		return nil
	}
	if err != nil {
		return fmt.Errorf("schedule: latest run of %s: %w", e.ScheduleID, err)
	}
	if prev.Chain == nil || prev.AsOf == nil || prev.Params.Filter.RangeEnd == nil {
		return fmt.Errorf("schedule: run %s of %s has no chain, snapshot or window end", prev.ID, e.ScheduleID)
	}
	start := prev.Params.Filter.RangeEnd.Add(audit.TimePrecision)
	if e.Params.Filter.RangeEnd.Before(start) {
		return errEmptyWindow
	}
	e.Params.Filter.RangeStart = &start
	e.RequestHash = e.Params.Hash()
	snap := prev.AsOf.Snapshot
	e.Chain = &audit.ChainLink{
		Seq:          prev.Chain.Seq + 1,
		PrevExportID: prev.ID,
		Start:        prev.Chain.Start,
		PrevSnapshot: &snap,
	}
	return nil
}
