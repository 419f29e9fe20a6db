// Package ndjson writes audit events as newline-delimited JSON (JSON
// Lines): one object per event, UTF-8, each line ending in "\n", in the
// export's (occurred_at, id) order. Media type application/x-ndjson.
//
// A line is what a machine loading the file needs without a second look at
// the docs: every field of the event under the names the ingest API uses
// (id, occurred_at, event_type, sub_type, system_source, auditee_id,
// description), metadata as one JSON object of strings (nothing flattened,
// a key present with an empty value stays present), occurred_at as RFC 3339
// with the offset of the export's time zone at that instant, and
// schema_version first. Field names never depend on the locale: a machine
// format has one vocabulary. The JSON Schema of a line is Schema (served at
// SchemaPath and in the OpenAPI document).
//
// columns= narrows a line to the chosen fields: event_id is the id field,
// metadata.KEY keeps that key in the metadata object, metadata keeps the
// rest of it; a line without any metadata column has no metadata member.
package ndjson

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/render"
)

// SchemaVersion is the version of a line's shape, written in every line.
// It changes only when a consumer would need to change: a field renamed,
// removed or retyped.
const SchemaVersion = 1

// SchemaPath is where the API serves Schema, without authentication: a
// pipeline validating files needs it before it has a key.
const SchemaPath = "/v5/audit-sentinel/schemas/event.ndjson.json"

// Schema is the JSON Schema (draft 2020-12) of one line.
//
//go:embed event.ndjson.json
var Schema []byte

// MediaType is the file's media type.
const MediaType = "application/x-ndjson"

const bufferSize = 64 << 10

// fieldNames are the JSON names of audit.ColumnNames' first seven columns.
var fieldNames = [7]string{"id", "occurred_at", "event_type", "sub_type", "system_source", "auditee_id", "description"}

// sortedMeta is the order of the filterable metadata keys inside the
// metadata object: by name, as an encoder of maps writes them.
var sortedMeta = func() []int {
	idx := make([]int, audit.NumMetadataKeys)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch ka, kb := audit.MetadataKeys[a], audit.MetadataKeys[b]; {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	return idx
}()

// Renderer writes one NDJSON file, a line per event as it comes.
type Renderer struct {
	bw     *bufio.Writer
	tf     *render.TimeFormatter
	fields []int // columns 0..6 chosen, in order
	meta   uint16
	extra  bool // the rest of the metadata is wanted
	anyMD  bool // some metadata column is wanted
	line   []byte
	closed bool
}

var (
	_ render.Renderer  = (*Renderer)(nil)
	_ render.RowWriter = (*Renderer)(nil)
)

// New returns a Renderer writing to w with rep's time zone and columns.
func New(w io.Writer, rep render.Report) (*Renderer, error) {
	r := &Renderer{bw: bufio.NewWriterSize(w, bufferSize), tf: render.NewTimeFormatter(rep.Location), line: make([]byte, 0, 1024)}
	for _, c := range rep.Params.SelectedColumns() {
		switch {
		case c < len(fieldNames):
			r.fields = append(r.fields, c)
		case c < len(fieldNames)+audit.NumMetadataKeys:
			r.meta |= 1 << (c - len(fieldNames))
			r.anyMD = true
		default:
			r.extra, r.anyMD = true, true
		}
	}
	return r, nil
}

// WriteEvent writes e as one line.
func (r *Renderer) WriteEvent(e *audit.Event) error {
	return render.WriteEvent(r, e)
}

// WriteRow writes e as one line; it implements render.RowWriter.
func (r *Renderer) WriteRow(e *audit.EventRow) error {
	if r.closed {
		return audit.Errorf(audit.EINTERNAL, "ndjson: write after close")
	}
	b := r.line[:0]
	b = append(b, `{"schema_version":`...)
	b = strconv.AppendInt(b, SchemaVersion, 10)
	for _, c := range r.fields {
		b = append(b, ',', '"')
		b = append(b, fieldNames[c]...)
		b = append(b, '"', ':')
		switch c {
		case 0:
			b = render.AppendJSONString(b, e.ID)
		case 1:
			b = append(b, '"')
			b = r.tf.Append(b, e.OccurredAt)
			b = append(b, '"')
		case 2:
			b = render.AppendJSONString(b, e.EventType)
		case 3:
			b = render.AppendJSONString(b, e.SubType)
		case 4:
			b = render.AppendJSONString(b, e.SystemSource)
		case 5:
			b = render.AppendJSONString(b, e.AuditeeID)
		case 6:
			b = render.AppendJSONString(b, e.Description)
		}
	}
	if r.anyMD {
		b = append(b, `,"metadata":{`...)
		n := 0
		for _, i := range sortedMeta {
			if e.HasMeta&r.meta&(1<<i) == 0 {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = render.AppendJSONString(b, audit.MetadataKeys[i])
			b = append(b, ':')
			b = render.AppendJSONString(b, e.Meta[i])
		}
		if r.extra {
			// The store keeps the rest as a JSON object: its members are
			// spliced in as they are (they never repeat a filterable key).
			if inner := innerObject(e.Extra); inner != "" {
				if n > 0 {
					b = append(b, ',')
				}
				b = append(b, inner...)
			}
		}
		b = append(b, '}')
	}
	b = append(b, '}', '\n')
	r.line = b
	if _, err := r.bw.Write(b); err != nil {
		return fmt.Errorf("ndjson: write: %w", err)
	}
	return nil
}

// innerObject returns the members of the JSON object s ("" for none).
func innerObject(s string) string {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return ""
	}
	inner := s[1 : len(s)-1]
	for _, c := range []byte(inner) {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return inner
		}
	}
	return ""
}

// Close flushes what is buffered. It does not close the writer.
func (r *Renderer) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if err := r.bw.Flush(); err != nil {
		return fmt.Errorf("ndjson: flush: %w", err)
	}
	return nil
}
