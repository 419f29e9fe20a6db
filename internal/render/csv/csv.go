// Package csvrender writes audit events as CSV.
//
// Format: RFC 4180 as written by encoding/csv: comma-separated, fields
// quoted when they hold a comma, a double quote, CR or LF (quotes doubled
// inside), and every record ends with CRLF as RFC 4180 prescribes (newlines
// inside a quoted description stay as they were). The text is UTF-8 without
// a byte order mark; WithBOM adds one for spreadsheet programs that guess
// the encoding otherwise (older Excel on Windows).
//
// Columns, in order: event id, occurred at, event type, sub type, system
// source, auditee id, description, one column per audit.MetadataKeys key in
// that order, then the remaining metadata as compact JSON with sorted keys
// (an empty cell when there is none). The header row names the columns in
// the report's locale.
//
// Occurred at is RFC 3339 in the report's time zone, with the offset of
// that zone at that instant (2026-04-10T08:00:00-04:00; "Z" when the offset
// is zero). Fractional seconds appear only when non-zero, up to the stored
// microseconds, without trailing zeros (08:00:00.5-04:00, as RFC3339Nano
// and PostgreSQL do).
//
// CSV injection: following OWASP's CSV Injection guidance, and stronger
// than it, a single quote (') is put before every place where a spreadsheet
// may start a cell that it would then evaluate:
//   - at the start of a cell, before =, +, -, @, TAB (0x09), CR (0x0D) or
//     LF (0x0A; written as CRLF inside a quoted cell, so the cell would
//     start with CR);
//   - after every comma, semicolon, TAB and line break inside a value,
//     before =, +, -, @. A program that guesses another separator than our
//     comma (spreadsheets in locales whose list separator is ";" split a
//     double-clicked .csv on ";") or that ignores the quoting starts a cell
//     there; so does each line of a multi-line value for one that does not
//     honour quoted line breaks.
//
// The rule applies to every cell of free text: ids, types, sources,
// description and metadata values. The "other metadata" cell is JSON and
// starts with "{"; inside it, a character of =, +, -, @ that follows a comma
// or semicolon is written as its JSON escape (\u003d, \u002b, \u002d,
// \u0040), which keeps the JSON's meaning and starts no formula. Values
// holding a comma, a quote or a line break are also enclosed in double
// quotes, with their quotes doubled, as RFC 4180 requires. The rule is
// checked against a real spreadsheet engine (LibreOffice, in both separator
// modes) by TestSpreadsheetEvaluatesNothing.
//
// Line breaks inside a value are written as CRLF too (encoding/csv does so
// with UseCRLF), and read back as LF by encoding/csv and spreadsheets. A bare
// CR in a value is taken as a line break: encoding/csv would drop it.
package csvrender

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/render"
)

// bufferSize is the size of the write buffer: big enough that an export
// makes few, large writes to the upload pipe.
const bufferSize = 64 << 10

// The fixed columns before the metadata columns.
var fixedColumns = []string{
	"event_id", "occurred_at", "event_type", "sub_type", "system_source", "auditee_id", "description",
}

// Renderer writes one CSV file. It holds no events: each row goes to the
// buffer as it comes, so memory does not grow with the export.
type Renderer struct {
	bw *bufio.Writer
	tf *render.TimeFormatter

	line    []byte            // reused encoded record
	extra   map[string]string // reused for metadata that needs re-encoding
	jsonBuf []byte            // reused for other metadata
	keys    []string          // reused for sorting other metadata keys
	rows    int64
	closed  bool

	// custom is set when a delimiter other than comma or a choice of
	// columns was asked for: rows then take writeCustom's path (options.go).
	custom bool
	delim  byte
	cols   []int
	cells  []string
}

var (
	_ render.Renderer  = (*Renderer)(nil)
	_ render.RowWriter = (*Renderer)(nil)
)

// Option configures a Renderer.
type Option func(*config)

type config struct {
	bom   bool
	delim byte  // 0: comma
	cols  []int // nil: every column; else indexes into audit.ColumnNames
}

// WithBOM makes the file start with a UTF-8 byte order mark.
func WithBOM() Option { return func(c *config) { c.bom = true } }

// New returns a Renderer writing to w and writes the header row. The
// report's locale must be supported; a nil Location means UTC.
func New(w io.Writer, r render.Report, opts ...Option) (*Renderer, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	cat, err := r.Catalog()
	if err != nil {
		return nil, err
	}
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	bw := bufio.NewWriterSize(w, bufferSize)
	rd := &Renderer{
		bw:    bw,
		tf:    render.NewTimeFormatter(loc),
		line:  make([]byte, 0, 1024),
		extra: make(map[string]string),
	}
	if cfg.bom {
		if _, err := bw.WriteString("\uFEFF"); err != nil {
			return nil, fmt.Errorf("csvrender: write bom: %w", err)
		}
	}
	if cfg.delim != 0 && cfg.delim != ',' || cfg.cols != nil {
		return rd, rd.startCustom(cfg, cat)
	}
	header := make([]string, 0, len(fixedColumns)+len(audit.MetadataKeys)+1)
	for _, c := range fixedColumns {
		header = append(header, cat.T("field."+c))
	}
	for _, k := range audit.MetadataKeys {
		header = append(header, cat.T("field.metadata."+k))
	}
	header = append(header, cat.T("field.other_metadata"))
	for i := range header {
		header[i] = Neutralize(header[i])
	}
	rd.line = appendRecord(rd.line[:0], header)
	if _, err := bw.Write(rd.line); err != nil {
		return nil, fmt.Errorf("csvrender: write header: %w", err)
	}
	return rd, nil
}

// WriteEvent writes e as one row.
func (r *Renderer) WriteEvent(e *audit.Event) error {
	return render.WriteEvent(r, e)
}

// WriteRow writes e as one row; it implements render.RowWriter, the path
// an export takes, which neither builds nor reads a metadata map.
func (r *Renderer) WriteRow(e *audit.EventRow) error {
	if r.closed {
		return audit.Errorf(audit.EINTERNAL, "csvrender: write after close")
	}
	if r.custom {
		return r.writeCustom(e)
	}
	// Occurred at goes straight into the line: RFC 3339 text never needs
	// quoting, nor neutralising (it starts with the year).
	b := appendCell(r.line[:0], e.ID)
	b = append(b, ',')
	b = r.tf.Append(b, e.OccurredAt)
	b = append(b, ',')
	b = appendCell(b, e.EventType)
	b = append(b, ',')
	b = appendCell(b, e.SubType)
	b = append(b, ',')
	b = appendCell(b, e.SystemSource)
	b = append(b, ',')
	b = appendCell(b, e.AuditeeID)
	b = append(b, ',')
	b = appendCell(b, e.Description)
	for i := range e.Meta {
		b = append(b, ',')
		b = appendCell(b, e.Meta[i])
	}
	b = append(b, ',')
	if e.Extra != "" {
		// The stored object is already the cell's JSON unless it holds an
		// escape, whose form may differ from ours: then decode and encode.
		extra := e.Extra
		if !audit.ExtraIsVerbatim(extra) {
			clear(r.extra)
			if err := audit.DecodeExtraMetadata(extra, r.extra); err != nil {
				return fmt.Errorf("csvrender: metadata of event %s: %w", e.ID, err)
			}
			extra = r.otherMetadata(r.extra)
		}
		if extra != "{}" {
			b = appendField(b, guardJSON(extra)) // starts with '{'
		}
	}
	b = append(b, '\r', '\n')
	r.line = b
	r.rows++
	if _, err := r.bw.Write(b); err != nil {
		return fmt.Errorf("csvrender: write: %w", err)
	}
	return nil
}

// appendCell appends the free-text cell s, neutralised and quoted as
// needed. Most cells need neither, which one pass over s tells.
func appendCell(b []byte, s string) []byte {
	if s == "" {
		return b
	}
	if asIs(s) {
		return append(b, s...)
	}
	return appendField(b, Neutralize(s))
}

// special marks the bytes that make a cell need quoting (or, for CR,
// rewriting).
var special = [256]bool{',': true, '"': true, '\r': true, '\n': true}

// asIs reports whether the non-empty s is its own cell: Neutralize leaves
// it alone and appendField would not quote it.
func asIs(s string) bool {
	switch c := s[0]; {
	case c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r':
		return false
	case c < utf8.RuneSelf:
		if unicode.IsSpace(rune(c)) {
			return false
		}
	default:
		if r, _ := utf8.DecodeRuneInString(s); unicode.IsSpace(r) {
			return false
		}
	}
	if s == `\.` {
		return false
	}
	return !hasSpecial(s) && !triggerAfter(s, ';') && !triggerAfter(s, '\t')
}

// isTrigger reports whether c starts a formula when a spreadsheet starts a
// cell at it (inside a value: TAB, CR and LF are separators themselves).
func isTrigger(c byte) bool { return c == '=' || c == '+' || c == '-' || c == '@' }

// isBoundary reports whether a spreadsheet may start a new cell after c.
func isBoundary(c byte) bool { return c == ',' || c == ';' || c == '\t' || c == '\n' || c == '\r' }

// triggerAfter reports whether some sep in s is followed by a trigger.
func triggerAfter(s string, sep byte) bool {
	for {
		i := strings.IndexByte(s, sep)
		if i < 0 || i+1 >= len(s) {
			return false
		}
		if isTrigger(s[i+1]) {
			return true
		}
		s = s[i+1:]
	}
}

// hasSpecial reports whether s holds a byte of special. It looks at eight
// bytes at a time (the "has a zero byte" bit trick on s XOR each special
// byte): cells are scanned once per row each, and a byte at a time was the
// renderer's largest cost.
func hasSpecial(s string) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		comma, quote, cr, lf := v^(ones*','), v^(ones*'"'), v^(ones*'\r'), v^(ones*'\n')
		if ((comma-ones)&^comma|(quote-ones)&^quote|(cr-ones)&^cr|(lf-ones)&^lf)&highs != 0 {
			return true
		}
	}
	for ; i < len(s); i++ {
		if special[s[i]] {
			return true
		}
	}
	return false
}

// appendRecord appends fields as one CSV record ending in CRLF.
func appendRecord(b []byte, fields []string) []byte {
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendField(b, f)
	}
	return append(b, '\r', '\n')
}

// appendField appends one field exactly as encoding/csv's Writer with
// UseCRLF writes it: quoted when it holds a comma, a double quote, CR or
// LF, starts with white space or is \. ; inside quotes a quote is doubled,
// LF becomes CRLF and CR is dropped. (Writing records ourselves instead of
// through csv.Writer saves a third of the renderer's time.)
func appendField(b []byte, f string) []byte {
	if !fieldNeedsQuotes(f) {
		return append(b, f...)
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case '"':
			b = append(b, f[start:i+1]...)
			b = append(b, '"')
			start = i + 1
		case '\n':
			b = append(b, f[start:i]...)
			b = append(b, '\r', '\n')
			start = i + 1
		case '\r':
			b = append(b, f[start:i]...)
			start = i + 1
		}
	}
	b = append(b, f[start:]...)
	return append(b, '"')
}

// fieldNeedsQuotes is encoding/csv's rule for a comma separator.
func fieldNeedsQuotes(f string) bool {
	if f == "" {
		return false
	}
	if f == `\.` {
		return true
	}
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	r, _ := utf8.DecodeRuneInString(f)
	return unicode.IsSpace(r)
}

// otherMetadata returns the metadata outside audit.MetadataKeys as compact
// JSON with sorted keys, the way encoding/json would marshal it (minus its
// HTML escaping, which a CSV reader does not need).
func (r *Renderer) otherMetadata(m map[string]string) string {
	keys := r.keys[:0]
	for k := range m {
		if !audit.IsMetadataKey(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	b := append(r.jsonBuf[:0], '{') //nolint:gocritic // reuses the renderer's buffer; stored back below
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = render.AppendJSONString(b, k)
		b = append(b, ':')
		b = render.AppendJSONString(b, m[k])
	}
	b = append(b, '}')
	r.keys, r.jsonBuf = keys, b
	return string(b)
}

// Close flushes what is buffered. It does not close the writer.
func (r *Renderer) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if err := r.bw.Flush(); err != nil {
		return fmt.Errorf("csvrender: flush: %w", err)
	}
	return nil
}

// Rows returns how many events were written.
func (r *Renderer) Rows() int64 { return r.rows }

// Neutralize applies the CSV injection rule (see the package comment) to
// one cell of free text: a single quote before a first character of =, +,
// -, @, TAB, CR or LF, and before every =, +, -, @ that follows a comma,
// semicolon, TAB or line break. It also turns a bare CR into LF (see cell).
func Neutralize(s string) string {
	if s == "" {
		return s
	}
	if strings.IndexByte(s, '\r') >= 0 {
		s = normalizeCR(s)
	}
	var b []byte // nil until a quote is needed
	start := 0
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\n':
		b = append(make([]byte, 0, len(s)+4), '\'')
	}
	for i := 1; i < len(s); i++ {
		if isTrigger(s[i]) && isBoundary(s[i-1]) {
			if b == nil {
				b = make([]byte, 0, len(s)+4)
			}
			b = append(b, s[start:i]...)
			b = append(b, '\'')
			start = i
		}
	}
	if b == nil {
		return s
	}
	return string(append(b, s[start:]...))
}

// guardJSON applies the rule to the JSON of the other-metadata cell: a
// trigger after a comma or semicolon is written as its \u escape. The JSON
// holds only string values, so such a character is always inside a string,
// where the escape means the same character.
func guardJSON(s string) string {
	if !triggerAfter(s, ',') && !triggerAfter(s, ';') {
		return s
	}
	b := make([]byte, 0, len(s)+12)
	for i := 0; i < len(s); i++ {
		if i > 0 && isTrigger(s[i]) && (s[i-1] == ',' || s[i-1] == ';') {
			b = append(b, '\\', 'u', '0', '0', hexDigits[s[i]>>4], hexDigits[s[i]&0xF])
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

const hexDigits = "0123456789abcdef"

// normalizeCR makes every line break of s an LF: CRLF becomes LF and a bare
// CR becomes LF. With UseCRLF, encoding/csv writes each LF inside a quoted
// value as CRLF, but silently drops a bare CR, which would glue the lines on
// either side together.
func normalizeCR(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}
