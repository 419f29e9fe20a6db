// Package pdfrender writes audit events as a PDF report a compliance
// officer can sign: a title block that says what the report is (the
// schedule's name when a schedule made it, the tenant, the filters in
// words, the requested range and the first and last event actually
// included, the snapshot it reflects, the zone, when it was generated, how
// many events, the export id and where its signed manifest is), then a
// dense table of the events in chronological order, and an "End of report
// — N events" marker after the last row, so a printout that lost pages
// cannot pass for a complete one. The header row is repeated on every
// page and every page's footer names the report and export and says "page
// X of Y". A row never splits across pages unless it is taller than a
// page.
//
// Pages are landscape A4, or Letter when the export asks (Params.Paper).
// The table holds about 30 of the demo's events a page: most rows are two
// lines (date over time, event id over auditee, type over source,
// description over metadata); the metadata holds only the keys an event
// has, as label–value pairs flowing across the column; a field the filter
// pins to one value is left out of the rows and named in the title block.
// Identifiers are never broken: a column is as wide as its widest id (up
// to a limit beyond which ids are set smaller), and metadata pairs are
// never split, so pdftotext gives every id back whole.
//
// Text uses the Go fonts (golang.org/x/image/font/gofont) for Latin, Greek
// and Cyrillic, and WenQuanYi Micro Hei (embedded, see fonts/README.md)
// for Chinese, Japanese and Korean; both are embedded as subsets of the
// characters a report uses, so no font is needed on the host. A character
// neither can draw (Arabic, Hebrew, Devanagari and other scripts that need
// shaping or right-to-left layout, emoji) is shown as U+FFFD and counted in
// the title block; the CSV export carries the exact text.
//
// Every word comes from the i18n catalogue of the report's locale; times are
// in the report's time zone in the catalogue's human format with the zone
// abbreviation (i18n.Catalog.FormatTime).
//
// A PDF is laid out once all events are known, so the renderer keeps them
// in memory, bounded by Options.MaxEvents; the whole file is written in
// Close. With the default cap of 5,000 events that stays far below 100 MiB.
package pdfrender

import (
	"fmt"
	"io"
	"maps"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/i18n"
	"github.com/auditsentinel/sentinel/internal/render"
)

// DefaultMaxEvents is the documented cap of a PDF export.
const DefaultMaxEvents = 5000

// Options configures a Renderer.
type Options struct {
	// MaxEvents is the most events one report holds; WriteEvent fails with
	// an EINVALID error beyond it. Zero or less means DefaultMaxEvents.
	MaxEvents int
}

// Renderer collects events and writes the report in Close.
type Renderer struct {
	w      io.Writer
	rep    render.Report
	cat    *i18n.Catalog
	paper  string // "A4" or "Letter"
	loc    *time.Location
	max    int
	events []audit.Event
	closed bool
}

var _ render.Renderer = (*Renderer)(nil)

// New returns a Renderer that writes the report to w on Close. The report's
// locale must be supported; a nil Location means UTC.
func New(w io.Writer, r render.Report, opts Options) (*Renderer, error) {
	cat, err := r.Catalog()
	if err != nil {
		return nil, err
	}
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	max := opts.MaxEvents
	if max <= 0 {
		max = DefaultMaxEvents
	}
	capHint := max
	if r.EventCount >= 0 && r.EventCount < int64(max) {
		capHint = int(r.EventCount)
	}
	paper := "A4"
	if r.Params.Canonical().Paper == audit.PaperLetter {
		paper = "Letter"
	}
	return &Renderer{w: w, rep: r, cat: cat, paper: paper, loc: loc, max: max,
		events: make([]audit.Event, 0, capHint)}, nil
}

// WriteEvent adds e to the report. Beyond the cap it returns an EINVALID
// error and the report cannot be completed.
func (r *Renderer) WriteEvent(e *audit.Event) error {
	if r.closed {
		return audit.Errorf(audit.EINTERNAL, "pdfrender: write after close")
	}
	if len(r.events) >= r.max {
		return audit.Invalid("file_type", "a PDF export holds at most %d events and this one has more; "+
			"use file_type=csv or narrow the filters", r.max)
	}
	ev := *e
	// The caller may reuse *e and its map for the next event.
	ev.Metadata = maps.Clone(e.Metadata)
	r.events = append(r.events, ev)
	return nil
}

// Close lays out the report and writes it to w. It does not close w.
func (r *Renderer) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	defer holdTightGC()()
	doc, err := r.layout()
	r.events = nil
	if err != nil {
		return fmt.Errorf("pdfrender: layout: %w", err)
	}
	if err := doc.Output(r.w); err != nil {
		return fmt.Errorf("pdfrender: write: %w", err)
	}
	return nil
}
