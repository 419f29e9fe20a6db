// Package pdfrender writes audit events as a PDF report: a title block (what
// was exported, for whom, with which filters and time range, when, in which
// time zone, how many events) followed by a table of the events in
// chronological order. The header row is repeated on every page and each
// page has a "page X of Y" footer. Long descriptions and metadata wrap; a
// row never splits across pages unless it is taller than a page.
//
// Pages are landscape A4, or Letter when the locale's catalogue says so.
// Text uses the Go fonts (golang.org/x/image/font/gofont) embedded as
// subsetted UTF-8 TrueType, which cover Latin, Greek and Cyrillic. A
// character the fonts cannot draw (CJK, Arabic, emoji) is shown as U+FFFD;
// the CSV export carries the exact text.
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
	paper  string // "A4" or "Letter", from the catalogue
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
	return &Renderer{w: w, rep: r, cat: cat, paper: cat.Paper(), loc: loc, max: max,
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
