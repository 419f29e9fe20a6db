package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// FileType is the format of an export.
type FileType string

// File types of the export endpoint.
const (
	FileCSV FileType = "csv"
	FilePDF FileType = "pdf"
)

// FileTypes lists the accepted file types, for error messages.
var FileTypes = []string{string(FileCSV), string(FilePDF)}

// ExportStatus is where an export is in its life.
type ExportStatus string

// Export states. queued → running → completed | failed; completed → expired.
const (
	StatusQueued    ExportStatus = "queued"
	StatusRunning   ExportStatus = "running"
	StatusCompleted ExportStatus = "completed"
	StatusFailed    ExportStatus = "failed"
	StatusExpired   ExportStatus = "expired"
)

// Done reports whether the export will not change any more by itself.
func (s ExportStatus) Done() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusExpired
}

// ExportParams is everything that determines an export's content, in a
// canonical form (sorted, de-duplicated lists; UTC times). Two requests with
// equal ExportParams produce the same file, which is what lets identical
// requests share one export.
type ExportParams struct {
	Filter   Filter   `json:"filter"`
	FileType FileType `json:"file_type"`
	Locale   string   `json:"locale"`
	Timezone string   `json:"timezone"`
}

// Export is the durable record of one export job.
type Export struct {
	ID       string
	TenantID string
	Params   ExportParams
	// RequestHash identifies equal ExportParams of one tenant.
	RequestHash string
	Status      ExportStatus
	RowsWritten int64
	RowsTotal   int64 // -1 while unknown
	SizeBytes   int64
	SHA256      string // hex digest of the stored object
	ObjectKey   string
	ContentType string
	// FirstEventID and LastEventID bound the exported sequence (manifest).
	FirstEventID string
	LastEventID  string
	ErrorCode    string
	ErrorMessage string
	Attempts     int
	// ScheduleID and Occurrence are set for exports fired by a schedule.
	ScheduleID string
	Occurrence *time.Time
	WebhookURL string
	CreatedAt  time.Time
	StartedAt  *time.Time
	// HeartbeatAt is the last sign of life of the worker running it.
	HeartbeatAt *time.Time
	CompletedAt *time.Time
	ExpiresAt   *time.Time
	// RetentionDays overrides the service's default retention when > 0.
	RetentionDays int
	// ProducerVersion is the version of the worker that rendered the file
	// ("" before it was recorded).
	ProducerVersion string
	// RequesterKeyID and RequesterKeyName name the API key that created
	// the export ("" for scheduled runs and exports made before this was
	// recorded). A request attached to an existing export does not change
	// it: the downloads are audited separately (package selfaudit).
	RequesterKeyID   string
	RequesterKeyName string
}

// ExportResult is what a finished run records.
type ExportResult struct {
	ProducerVersion string
	Rows            int64
	SizeBytes       int64
	SHA256          string
	ObjectKey       string
	ContentType     string
	FirstEventID    string
	LastEventID     string
}

// Canonical returns p in canonical form (see ExportParams).
func (p ExportParams) Canonical() ExportParams {
	p.Filter = p.Filter.Canonical()
	return p
}

// Hash identifies the canonical parameters within one tenant: identical
// requests attach to the same export by this value.
func (p ExportParams) Hash() string {
	b, err := json.Marshal(p.Canonical())
	if err != nil {
		// Only plain strings, slices, maps and times: cannot fail.
		panic(fmt.Sprintf("audit: marshal export params: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
