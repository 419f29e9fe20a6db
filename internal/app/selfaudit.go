package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/selfaudit"
)

// exportGetter reads an export record.
type exportGetter interface {
	GetExport(ctx context.Context, tenantID, id string) (audit.Export, error)
}

// auditExportDone records "export completed" or "export failed" into the
// tenant's stream, then calls next. The hook runs again for duplicate
// deliveries of a done export; the event's id derives from the export and
// its finishing time, so it is stored once.
func auditExportDone(store exportGetter, rec *selfaudit.Recorder, logger *slog.Logger,
	next func(ctx context.Context, tenantID, exportID string)) func(ctx context.Context, tenantID, exportID string) {
	return func(ctx context.Context, tenantID, exportID string) {
		if e, err := store.GetExport(ctx, tenantID, exportID); err != nil {
			logger.WarnContext(ctx, "self-audit: read the finished export", "tenant", tenantID, "export_id", exportID, "err", err)
		} else if ev, ok := exportDoneEvent(e); ok {
			rec.Record(ctx, ev)
		}
		if next != nil {
			next(ctx, tenantID, exportID)
		}
	}
}

func exportDoneEvent(e audit.Export) (audit.Event, bool) {
	if e.Status != audit.StatusCompleted && e.Status != audit.StatusFailed {
		return audit.Event{}, false
	}
	at := e.CreatedAt
	if e.CompletedAt != nil {
		at = *e.CompletedAt
	}
	meta := map[string]string{"export_id": e.ID, "file_type": string(e.Params.FileType)}
	if r := e.Requester(); r != nil {
		meta["requested_by_key_id"], meta["requested_by_key_name"], meta["requested_by_schedule_id"] = r.KeyID, r.KeyName, r.ScheduleID
	}
	desc := fmt.Sprintf("export %s completed: %d rows, %d bytes", e.ID, e.RowsWritten, e.SizeBytes)
	if e.Status == audit.StatusCompleted {
		meta["rows"], meta["size_bytes"], meta["sha256"] = strconv.FormatInt(e.RowsWritten, 10), strconv.FormatInt(e.SizeBytes, 10), e.SHA256
	} else {
		meta["error_code"] = e.ErrorCode
		desc = fmt.Sprintf("export %s failed: %s", e.ID, e.ErrorMessage)
	}
	// The worker acts for the service: no actor.
	return selfaudit.Event(e.TenantID, audit.SelfAuditExportType, string(e.Status), e.ID, selfaudit.Actor{}, at, desc, meta), true
}

// auditLoop runs a recorder's retries for a process's lifetime.
type auditLoop struct {
	rec    *selfaudit.Recorder
	cancel context.CancelFunc
	done   chan struct{}
}

func (l *auditLoop) start() {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	go func() { defer close(l.done); l.rec.Run(ctx, 5*time.Second) }()
}

// stop ends the loop after one last attempt at what is pending.
func (l *auditLoop) stop() {
	if l.cancel != nil {
		l.cancel()
		<-l.done
	}
}
