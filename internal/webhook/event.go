// Package webhook tells receivers that an export completed or failed, for
// scheduled and on-demand exports alike: the Notifier records one delivery
// per export outcome and queues it, and delivers it as a signed JSON POST
// (Sign, Verify), retried with backoff and recorded attempt by attempt
// (Deliverer), to URLs that cannot point into our own network (CheckURL,
// NewClient). The records it keeps (audit.WebhookDelivery,
// audit.WebhookAttempt, audit.TenantWebhookSecret) belong to the domain.
package webhook

import (
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// Event types.
const (
	TypeExportCompleted = "export.completed"
	TypeExportFailed    = "export.failed"
)

// Event is the JSON body of a delivery.
type Event struct {
	// ID identifies the event; it is also sent as the Sentinel-Event-Id
	// header and is the same on every attempt.
	ID         string             `json:"id"`
	Type       string             `json:"type"`
	ExportID   string             `json:"export_id"`
	ScheduleID string             `json:"schedule_id,omitempty"`
	Occurrence *time.Time         `json:"occurrence,omitempty"` // the scheduled occurrence, for scheduled exports
	Status     audit.ExportStatus `json:"status"`
	RowCount   int64              `json:"row_count"`
	SizeBytes  int64              `json:"size_bytes"`
	SHA256     string             `json:"sha256,omitempty"`
	// FileURL downloads the file; it may expire (FileExpiresAt).
	FileURL       string     `json:"file_url,omitempty"`
	FileExpiresAt *time.Time `json:"file_expires_at,omitempty"`
	// OccurredAt is when the export completed or failed.
	OccurredAt time.Time   `json:"occurred_at"`
	Error      *EventError `json:"error,omitempty"`
}

// EventError says why an export failed, in caller-safe words.
type EventError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// EventFor builds the event for a finished export. fileURL (a download
// link, possibly expiring at fileExpiresAt) is only set when it completed.
func EventFor(eventID string, e audit.Export, fileURL string, fileExpiresAt *time.Time) Event {
	ev := Event{
		ID:         eventID,
		Type:       TypeExportCompleted,
		ExportID:   e.ID,
		ScheduleID: e.ScheduleID,
		Occurrence: utcPtr(e.Occurrence),
		Status:     e.Status,
		RowCount:   e.RowsWritten,
		SizeBytes:  e.SizeBytes,
		SHA256:     e.SHA256,
	}
	if e.CompletedAt != nil {
		ev.OccurredAt = e.CompletedAt.UTC()
	}
	if e.Status == audit.StatusFailed {
		ev.Type = TypeExportFailed
		ev.Error = &EventError{Code: e.ErrorCode, Message: e.ErrorMessage}
		ev.RowCount, ev.SizeBytes, ev.SHA256 = 0, 0, ""
		return ev
	}
	ev.FileURL = fileURL
	ev.FileExpiresAt = utcPtr(fileExpiresAt)
	return ev
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
