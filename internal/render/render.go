// Package render turns a stream of audit events into an export file. Each
// format lives in its own subpackage (render/csv, render/pdf); this package
// holds what they share: the Renderer contract, the report description, and
// the text both CSV and NDJSON write (JSON strings, RFC 3339 instants).
package render

import (
	"fmt"
	"io"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/i18n"
)

// Renderer writes one export file. WriteEvent is called once per event in
// ascending (OccurredAt, ID) order; Close finishes the file (PDF writes its
// whole body then; CSV flushes). A renderer never closes the io.Writer it was
// given.
type Renderer interface {
	WriteEvent(e *audit.Event) error
	Close() error
}

// Func opens a renderer for report rep, writing to w.
type Func func(rep Report, w io.Writer) (Renderer, error)

// Registry is the renderers a worker can make, by file type. A file type
// missing from it is one the worker cannot render (ENOTIMPLEMENTED).
// render/formats builds the one every binary uses.
type Registry map[audit.FileType]Func

// Open opens the renderer of rep's file type.
func (g Registry) Open(rep Report, w io.Writer) (Renderer, error) {
	f := g[rep.Params.FileType]
	if f == nil {
		return nil, audit.Errorf(audit.ENOTIMPLEMENTED, "file_type %s is not supported by this worker", rep.Params.FileType)
	}
	return f(rep, w)
}

// RowWriter is implemented by renderers that write the rows of an export
// as the store streams them, which spares building a domain event (and its
// metadata map) per row; export.Runner uses it when it is there. A renderer
// that implements it writes the same bytes through either method.
type RowWriter interface {
	WriteRow(r *audit.EventRow) error
}

// WriteEvent writes e through w's row path: the WriteEvent of a renderer
// whose rows are its real path, so that both methods write the same bytes.
func WriteEvent(w RowWriter, e *audit.Event) error {
	row, err := audit.RowOf(e)
	if err != nil {
		return err
	}
	return w.WriteRow(&row)
}

// Report describes the export being rendered: what a title block shows and
// how times and words are localised.
type Report struct {
	ExportID    string
	TenantID    string
	Params      audit.ExportParams // canonical; Params.Filter is what was applied
	Location    *time.Location     // display time zone (from Params.Timezone)
	GeneratedAt time.Time
	// EventCount is the number of events that will be written, or -1 when
	// unknown. PDF needs it for the title block.
	EventCount int64
	// Name is the schedule's name for an export a schedule fired (with
	// ScheduleID), or a report's own name; "" when it has none.
	Name       string
	ScheduleID string
	// AsOf and AsOfPosition say which snapshot of the events the export
	// reflects, when the export record carries one: the time and the
	// store's position (an opaque cursor) it was taken at. Zero and "" when
	// there is none.
	AsOf         time.Time
	AsOfPosition string
}

// Catalog is the message catalogue of the report's locale ("en" when it
// has none); an unsupported locale is an EINVALID error naming the
// parameter and the supported ones.
func (r Report) Catalog() (*i18n.Catalog, error) {
	locale := r.Params.Locale
	if locale == "" {
		locale = "en"
	}
	cat, ok := i18n.Lookup(locale)
	if !ok {
		return nil, &audit.Error{Code: audit.EINVALID, Param: "locale", Allowed: i18n.Supported(),
			Message: fmt.Sprintf("locale %q is not supported", locale)}
	}
	return cat, nil
}

// Counter counts the bytes of a file on their way to W (nil: it discards
// them), such as what a worker stores or a benchmark renders.
type Counter struct {
	W io.Writer
	N int64
}

func (c *Counter) Write(p []byte) (int, error) {
	if c.W == nil {
		c.N += int64(len(p))
		return len(p), nil
	}
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}
