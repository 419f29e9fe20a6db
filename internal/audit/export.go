package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// FileType is the format of an export.
type FileType string

// File types of the export endpoint.
const (
	FileCSV     FileType = "csv"
	FilePDF     FileType = "pdf"
	FileNDJSON  FileType = "ndjson"
	FileParquet FileType = "parquet"
)

// FileTypes lists the accepted file types, for error messages.
var FileTypes = []string{string(FileCSV), string(FileNDJSON), string(FileParquet), string(FilePDF)}

// Compression is how an export's file itself is compressed.
type Compression string

// Compressions of a file; "" is none.
const (
	CompressNone Compression = ""
	CompressGzip Compression = "gzip"
	CompressZstd Compression = "zstd"
)

// Compressions lists the accepted compression values, for error messages.
var Compressions = []string{"none", string(CompressGzip), string(CompressZstd)}

// Delimiters of a CSV file by name; "" is comma.
var Delimiters = map[string]byte{"comma": ',', "semicolon": ';', "tab": '\t'}

// Paper is the page size of a PDF export.
type Paper string

// Paper sizes of a PDF export; A4 is the default.
const (
	PaperA4     Paper = "a4"
	PaperLetter Paper = "letter"
)

// Papers lists the accepted paper sizes, for error messages.
var Papers = []string{string(PaperA4), string(PaperLetter)}

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
	// Paper is the PDF's page size; "" means A4 (see Canonical). It is
	// omitted from the JSON when empty.
	Paper Paper `json:"paper,omitempty"`
	// The options below are omitted when unset, so that the canonical form
	// (and the hash) of a request without them is what it always was.

	// BOM starts a CSV with a UTF-8 byte order mark.
	BOM bool `json:"bom,omitempty"`
	// Delimiter names a CSV's separator (a Delimiters key); "" is comma.
	Delimiter string `json:"delimiter,omitempty"`
	// Columns are the columns written, in order (ColumnNames); empty is
	// all of them in their usual order.
	Columns []string `json:"columns,omitempty"`
	// Compression compresses the file itself.
	Compression Compression `json:"compression,omitempty"`
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
	// AsOf is the snapshot the export was created at: it holds exactly the
	// matching events visible in it, on every attempt. Nil for exports
	// made before snapshots were recorded (they read what was there).
	AsOf *AsOf
	// RequesterKeyID and RequesterKeyName name the API key that created
	// the export ("" for scheduled runs and exports made before this was
	// recorded). A request attached to an existing export does not change
	// it: the downloads are audited separately (package selfaudit).
	RequesterKeyID   string
	RequesterKeyName string
	// Chain places a scheduled run in its schedule's chain of archives;
	// nil for on-demand exports and for runs fired before chains existed.
	Chain *ChainLink
	// MinRetentionDays is the minimum retention its schedule asked for:
	// the archive cannot be deleted for that many days after completion
	// (RetentionPolicy.LockedUntil). 0 for on-demand exports, which take
	// the tenant's.
	MinRetentionDays int
}

// ChainLink is a scheduled run's place in its schedule's chain. Runs are
// numbered 1, 2, … and their windows are contiguous: run k's range starts
// one audit.TimePrecision after run k-1's range end, and it also carries the
// late arrivals (see LateRule) since the previous run's snapshot.
type ChainLink struct {
	// Seq is the run's number within the schedule, from 1.
	Seq int64
	// PrevExportID is run Seq-1 ("" for the first run).
	PrevExportID string
	// Start is the first run's window start, copied forward: the floor of
	// the late-event rule.
	Start time.Time
	// PrevSnapshot is run Seq-1's snapshot (nil for the first run).
	PrevSnapshot *Snapshot
}

// Late returns the late-event rule of a run in the chain, nil for the
// first run (nothing can be late before anything ran).
func (c *ChainLink) Late() *LateRule {
	if c == nil || c.PrevSnapshot == nil {
		return nil
	}
	return &LateRule{Floor: c.Start, Since: *c.PrevSnapshot}
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

// Canonical returns p in canonical form (see ExportParams). A PDF's paper
// is spelled in lower case, and A4, the default, is spelled as no paper at
// all: the parameters of a PDF that does not ask for Letter, and so their
// hash and the signed bytes of its manifest, are what they were before
// PDFs had a paper size. A CSV has no paper.
func (p ExportParams) Canonical() ExportParams {
	p.Filter = p.Filter.Canonical()
	p.Paper = Paper(strings.ToLower(string(p.Paper)))
	if p.FileType != FilePDF || p.Paper == PaperA4 {
		p.Paper = ""
	}
	if p.Delimiter == "comma" {
		p.Delimiter = ""
	}
	if p.Compression == "none" {
		p.Compression = CompressNone
	}
	// Asking for every column in the usual order is asking for nothing.
	if slices.Equal(p.Columns, ColumnNames) {
		p.Columns = nil
	}
	if len(p.Columns) == 0 {
		p.Columns = nil
	}
	return p
}

// ColumnNames are the columns an export may be narrowed to (columns=), in
// their usual order: the seven event fields, metadata.KEY for each of
// MetadataKeys, and metadata for the rest of the metadata.
var ColumnNames = func() []string {
	out := []string{"event_id", "occurred_at", "event_type", "sub_type", "system_source", "auditee_id", "description"}
	for _, k := range MetadataKeys {
		out = append(out, "metadata."+k)
	}
	return append(out, "metadata")
}()

// ColumnIndex returns the position of name in ColumnNames, or -1.
func ColumnIndex(name string) int { return slices.Index(ColumnNames, name) }

// SelectedColumns returns p's columns as indexes into ColumnNames: every
// column when p names none.
func (p ExportParams) SelectedColumns() []int {
	if len(p.Columns) == 0 {
		out := make([]int, len(ColumnNames))
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, 0, len(p.Columns))
	for _, c := range p.Columns {
		if i := ColumnIndex(c); i >= 0 {
			out = append(out, i)
		}
	}
	return out
}

// Hash identifies the canonical parameters within one tenant: identical
// requests attach to the same export by this value.
func (p ExportParams) Hash() string {
	b, err := json.Marshal(p.Canonical())
	if err != nil {
		// Plain strings, slices and maps, and times that export.Validate
		// keeps within years 1-9999 (the range JSON can write). Params that
		// skipped Validate and hold such a time are a bug, not user input.
		panic(fmt.Sprintf("audit: marshal export params: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
