package audit

import "time"

// Event is one recorded audit event. TenantID always comes from the API key
// that wrote it, never from a request body.
type Event struct {
	ID           string            `json:"id"`
	TenantID     string            `json:"-"`
	OccurredAt   time.Time         `json:"occurred_at"` // UTC, microsecond precision
	EventType    string            `json:"event_type"`
	SubType      string            `json:"sub_type"`
	SystemSource string            `json:"system_source"`
	AuditeeID    string            `json:"auditee_id,omitempty"` // empty for system actions
	Description  string            `json:"description,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

// SelfAuditSource is the system_source of the events the service records
// about its own use (package selfaudit); ingest refuses it from clients.
const SelfAuditSource = "audit_sentinel"

// SelfAuditExportType is the event_type of the self-audit events about
// exports (requested, downloaded, link issued, completed, failed, deleted).
const SelfAuditExportType = "export"

// SelfAuditRetentionType and SelfAuditHoldType are the event_types of the
// self-audit events about retention (changed, purged) and legal holds
// (created, released).
const (
	SelfAuditRetentionType = "retention"
	SelfAuditHoldType      = "legal_hold"
)

// MetadataKeys are the filterable metadata keys, in the order of the
// reference document. The order is also the CSV column order. Other keys are
// stored and exported but cannot be filtered on.
var MetadataKeys = []string{
	"entity_id",
	"assessment_id",
	"task_id",
	"workflow_instance_id",
	"screening_application_id",
	"screening_config_id",
	"match_id",
	"inquiry_id",
	"tag",
	"cache_id",
	"workflow_step",
}

// IsMetadataKey reports whether key is one of MetadataKeys.
func IsMetadataKey(key string) bool {
	for _, k := range MetadataKeys {
		if k == key {
			return true
		}
	}
	return false
}

// TimePrecision is the precision events are stored with; times are truncated
// to it on ingest so that what is read back equals what was written.
const TimePrecision = time.Microsecond
