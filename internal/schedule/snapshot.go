package schedule

import (
	"context"
	"fmt"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// snapshotter takes snapshots of the ingested events (audit.EventStore).
type snapshotter interface {
	Snapshot(ctx context.Context) (audit.Snapshot, error)
}

// takeSnapshot records on e the snapshot it holds, taken when the run is
// fired: every attempt of the run then exports the same events, however
// many arrive while it waits for a worker or is retried.
func takeSnapshot(ctx context.Context, s snapshotter, e *audit.Export, at time.Time) error {
	snap, err := s.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("schedule: snapshot: %w", err)
	}
	e.AsOf = &audit.AsOf{At: at.UTC().Truncate(audit.TimePrecision), Snapshot: snap}
	return nil
}
