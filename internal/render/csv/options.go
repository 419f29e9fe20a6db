package csvrender

import (
	"fmt"
	"strings"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/i18n"
)

// The spreadsheet options (delimiter=, columns=) take a path of their own
// beside WriteRow's: it builds the row's cells and writes them with the
// chosen separator. The default file (comma, every column) keeps the fast
// path, and every cell goes through the same Neutralize as there.
//
// With a separator other than comma a cell is quoted when it holds that
// separator as well as when it holds a comma, a quote, CR or LF: quoting a
// comma is harmless to an RFC 4180 reader, and keeps a file safe for a
// reader that splits on comma whatever the file says.

// WithDelimiter makes d (',', ';' or '\t') the separator of cells.
func WithDelimiter(d byte) Option { return func(c *config) { c.delim = d } }

// WithColumns writes only the columns cols (indexes into
// audit.ColumnNames), in that order; nil or empty is every column.
func WithColumns(cols []int) Option {
	return func(c *config) {
		if len(cols) > 0 {
			c.cols = cols
		}
	}
}

// startCustom sets r up for writeCustom and writes the header row.
func (r *Renderer) startCustom(cfg config, cat *i18n.Catalog) error {
	r.custom, r.delim, r.cols = true, cfg.delim, cfg.cols
	if r.delim == 0 {
		r.delim = ','
	}
	if r.cols == nil {
		r.cols = make([]int, len(audit.ColumnNames))
		for i := range r.cols {
			r.cols[i] = i
		}
	}
	header := make([]string, len(r.cols))
	for i, c := range r.cols {
		header[i] = Neutralize(cat.T(headerKey(audit.ColumnNames[c])))
	}
	r.line = r.appendCustomRecord(r.line[:0], header)
	if _, err := r.bw.Write(r.line); err != nil {
		return fmt.Errorf("csvrender: write header: %w", err)
	}
	return nil
}

// headerKey is the catalogue key of a column's header.
func headerKey(col string) string {
	if col == "metadata" {
		return "field.other_metadata"
	}
	return "field." + col // event_id, …, metadata.KEY
}

func (r *Renderer) writeCustom(e *audit.EventRow) error {
	cells := r.cells[:0]
	for _, c := range r.cols {
		var v string
		switch {
		case c == 0:
			v = e.ID
		case c == 1:
			v = string(r.tf.Append(nil, e.OccurredAt))
		case c == 2:
			v = e.EventType
		case c == 3:
			v = e.SubType
		case c == 4:
			v = e.SystemSource
		case c == 5:
			v = e.AuditeeID
		case c == 6:
			v = e.Description
		case c < 7+audit.NumMetadataKeys:
			v = e.Meta[c-7]
		default:
			extra, err := r.extraCell(e)
			if err != nil {
				return err
			}
			v = extra
		}
		cells = append(cells, Neutralize(v))
	}
	r.cells = cells
	r.line = r.appendCustomRecord(r.line[:0], cells)
	r.rows++
	if _, err := r.bw.Write(r.line); err != nil {
		return fmt.Errorf("csvrender: write: %w", err)
	}
	return nil
}

// extraCell is the "other metadata" cell: compact JSON with sorted keys,
// "" when there is none (as WriteRow writes it).
func (r *Renderer) extraCell(e *audit.EventRow) (string, error) {
	if e.Extra == "" {
		return "", nil
	}
	extra := e.Extra
	if !audit.ExtraIsVerbatim(extra) {
		clear(r.extra)
		if err := audit.DecodeExtraMetadata(extra, r.extra); err != nil {
			return "", fmt.Errorf("csvrender: metadata of event %s: %w", e.ID, err)
		}
		extra = r.otherMetadata(r.extra)
	}
	if extra == "{}" {
		return "", nil
	}
	return extra, nil
}

// appendCustomRecord appends cells as one record separated by r.delim and
// ending in CRLF, quoting as appendField does plus for the separator.
func (r *Renderer) appendCustomRecord(b []byte, cells []string) []byte {
	for i, f := range cells {
		if i > 0 {
			b = append(b, r.delim)
		}
		if r.delim != ',' && strings.IndexByte(f, r.delim) >= 0 && !fieldNeedsQuotes(f) {
			b = append(b, '"')
			b = append(b, f...) // holds no quote, CR or LF: nothing to escape
			b = append(b, '"')
			continue
		}
		b = appendField(b, f)
	}
	return append(b, '\r', '\n')
}
