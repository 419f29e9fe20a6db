package sqlstore

import (
	"context"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// MarkExportCorrupt fails a completed export whose stored file was found
// not to match its recorded digest. A failed export is never served nor
// reused, so the next identical request renders a new file. The record lets
// go of its object, which the sweeper's orphan scan then deletes. Marking it
// again succeeds; any state but completed or failed is audit.ErrConflict.
func (db *DB) MarkExportCorrupt(ctx context.Context, tenantID, id, message string, at time.Time) error {
	return db.transition(ctx, "mark export corrupt", tenantID, id, `status = 'completed'`,
		[]audit.ExportStatus{audit.StatusFailed},
		`status = 'failed', error_code = $3, error_message = $4, completed_at = $5, object_key = NULL`,
		audit.EINTERNAL, message, micros(at))
}
