package export

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// queueUnavailable is the answer when the record of an export is stored but
// the queue could not take it: the queue is a dependency that is down, so
// the caller hears 503 and when to retry, like for any other outage. The
// record stays: a retry of the same request attaches to it and enqueues
// again, and the sweeper re-enqueues queued exports that have no task.
func queueUnavailable(ctx context.Context, logger *slog.Logger, e audit.Export, err error) error {
	logger.WarnContext(ctx, "export recorded but not queued: the queue is unavailable", "export_id", e.ID,
		"tenant", e.TenantID, "err", err)
	return fmt.Errorf("export: enqueue %s: %w: %w", e.ID, &audit.Error{Code: audit.EUNAVAILABLE,
		Message: "the export queue is unavailable; the export is recorded and will run, retry the same request shortly",
		Details: map[string]string{"export_id": e.ID}}, err)
}
