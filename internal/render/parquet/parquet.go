// Package parquet writes audit events as an Apache Parquet file, for the
// pipelines that load exports into a data lake. Media type
// application/vnd.apache.parquet.
//
// The file has typed columns under names that never depend on the locale
// (a machine format has one vocabulary, the NDJSON one):
//
//	id, event_type, sub_type,        required STRING
//	system_source, auditee_id,
//	description
//	occurred_at                      required INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true)
//	metadata_<key>, one per          optional STRING: null when the event has no
//	filterable metadata key          such key, "" when it has it empty
//	metadata                         required MAP<STRING, STRING>: the other keys
//
// in audit.ColumnNames order, or in the order columns= names them (event_id
// is id, metadata.KEY is metadata_KEY). An instant is stored as such: the
// export's time zone, like its filters, schema version, export id and
// snapshot, is in the file's key-value metadata (Meta* keys).
//
// Pages are zstd-compressed inside the file (a compressed Parquet file gains
// nothing from compression=, which is refused). Rows are flushed as a row
// group every RowGroupRows rows, so what the writer holds is bounded by one
// row group whatever the export's size: a reader of the file gets the
// footer at the end, which is why a Parquet export is not relayed live.
package parquet

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	kzstd "github.com/klauspost/compress/zstd"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/render"
)

// MediaType is the file's media type (registered with IANA in 2024).
const MediaType = "application/vnd.apache.parquet"

// SchemaVersion is the version of the file's columns, in its key-value
// metadata. It changes only when a consumer would need to change: a column
// renamed, removed or retyped.
const SchemaVersion = 1

// Keys of the file's key-value metadata.
const (
	MetaSchemaVersion = "audit_sentinel.schema_version"
	MetaExportID      = "audit_sentinel.export_id"
	// MetaFilters is the export's canonical parameters as JSON, the
	// manifest's "filters" object.
	MetaFilters  = "audit_sentinel.filters"
	MetaTimezone = "audit_sentinel.timezone"
	// MetaAsOf and MetaAsOfPosition name the snapshot the export reflects
	// (absent when the export has none).
	MetaAsOf         = "audit_sentinel.as_of"
	MetaAsOfPosition = "audit_sentinel.as_of_position"
)

// A row group holds at most RowGroupRows rows and RowGroupBytes bytes of
// values before encoding (whichever comes first; long descriptions reach
// the second). The writer keeps a row group in memory until it is flushed:
// this is what bounds a worker's memory, while groups stay large enough for
// a reader to skip them by their statistics.
const (
	RowGroupRows  = 64 << 10
	RowGroupBytes = 16 << 20
)

// sizeEvery is how often (in rows) the buffered size is looked at.
const sizeEvery = 512

// pageCodec compresses pages with zstd's fastest level: faster than its
// default, for files a third larger; snappy writes files several times
// larger for a small gain in speed (README).
var pageCodec = &zstdCodec{}

// zstdCodec is parquet-go's zstd codec with a window the size of a page.
// Its encoder keeps the default 8 MiB window, whose history buffer was a
// quarter of a Parquet export's live heap, though a page (at most
// pq.DefaultPageBufferSize before compression) never reaches back further
// than itself. Decoding is parquet-go's: any window decodes.
type zstdCodec struct {
	zstd.Codec
	encoders sync.Pool
}

// pageWindow is the encoder's window: pq.DefaultPageBufferSize, a power of
// two as zstd requires.
const pageWindow = pq.DefaultPageBufferSize

func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	e, _ := c.encoders.Get().(*kzstd.Encoder)
	if e == nil {
		var err error
		e, err = kzstd.NewWriter(nil, kzstd.WithEncoderLevel(kzstd.SpeedFastest), kzstd.WithEncoderConcurrency(1),
			kzstd.WithWindowSize(pageWindow), kzstd.WithLowerEncoderMem(true),
			kzstd.WithZeroFrames(true), kzstd.WithEncoderCRC(false))
		if err != nil {
			return nil, fmt.Errorf("parquet: zstd encoder: %w", err)
		}
	}
	defer c.encoders.Put(e)
	return e.EncodeAll(src, dst[:0]), nil
}

// ColumnName returns the Parquet column of audit.ColumnNames[c].
func ColumnName(c int) string {
	switch n := audit.ColumnNames[c]; {
	case c == 0:
		return "id"
	case strings.HasPrefix(n, "metadata."):
		return "metadata_" + strings.TrimPrefix(n, "metadata.")
	default:
		return n
	}
}

const (
	colOccurredAt = 1
	firstMeta     = 7
	colExtra      = firstMeta + audit.NumMetadataKeys
)

// Options tune a Renderer; the zero value is the service's.
type Options struct {
	// RowGroupRows and RowGroupBytes override the package's when > 0.
	RowGroupRows  int64
	RowGroupBytes int64
	// Codec overrides zstd (a benchmark compares codecs).
	Codec compress.Codec
}

// Renderer writes one Parquet file, buffering at most a row group.
type Renderer struct {
	w    *pq.GenericWriter[any]
	cols []int // audit.ColumnNames indexes, in the file's order
	opts Options
	// inGroup counts the rows of the row group being buffered; flushed is
	// the writer's Size when the previous one was flushed.
	inGroup int64
	flushed int64
	row     pq.Row
	rows    [1]pq.Row
	extra   map[string]string
	keys    []string
	closed  bool
}

var (
	_ render.Renderer  = (*Renderer)(nil)
	_ render.RowWriter = (*Renderer)(nil)
)

// New returns a Renderer writing to w the columns of rep.Params.
func New(w io.Writer, rep render.Report, o Options) (*Renderer, error) {
	cols := rep.Params.SelectedColumns()
	schema, err := Schema(cols)
	if err != nil {
		return nil, err
	}
	filters, err := json.Marshal(rep.Params.Canonical())
	if err != nil {
		return nil, fmt.Errorf("parquet: filters: %w", err)
	}
	tz := rep.Params.Timezone
	if tz == "" {
		tz = "UTC"
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = RowGroupRows
	}
	if o.RowGroupBytes <= 0 {
		o.RowGroupBytes = RowGroupBytes
	}
	codec := o.Codec
	if codec == nil {
		// zstd's fastest level: faster than its default, for files a
		// third larger; snappy writes files several times larger for a
		// small gain in speed (README).
		codec = pageCodec
	}
	opts := []pq.WriterOption{
		schema,
		pq.Compression(codec),
		pq.KeyValueMetadata(MetaSchemaVersion, strconv.Itoa(SchemaVersion)),
		pq.KeyValueMetadata(MetaFilters, string(filters)),
		pq.KeyValueMetadata(MetaTimezone, tz),
	}
	if rep.ExportID != "" {
		opts = append(opts, pq.KeyValueMetadata(MetaExportID, rep.ExportID))
	}
	if !rep.AsOf.IsZero() {
		opts = append(opts, pq.KeyValueMetadata(MetaAsOf, rep.AsOf.UTC().Format(time.RFC3339Nano)))
	}
	if rep.AsOfPosition != "" {
		opts = append(opts, pq.KeyValueMetadata(MetaAsOfPosition, rep.AsOfPosition))
	}
	return &Renderer{w: pq.NewGenericWriter[any](w, opts...), cols: cols, opts: o, extra: map[string]string{}}, nil
}

// Schema returns the file's schema for cols (audit.ColumnNames indexes):
// a struct type built in that order, because a parquet.Group orders its
// fields by name and a struct keeps its own.
func Schema(cols []int) (*pq.Schema, error) {
	fields := make([]reflect.StructField, 0, len(cols))
	for i, c := range cols {
		if c < 0 || c >= len(audit.ColumnNames) {
			return nil, audit.Errorf(audit.EINTERNAL, "parquet: no column %d", c)
		}
		f := reflect.StructField{Name: "F" + strconv.Itoa(i)}
		name := ColumnName(c)
		switch {
		case c == 0:
			// Ids are unique: a dictionary would only grow.
			f.Type, f.Tag = reflect.TypeFor[string](), tag(name, "")
		case c == colOccurredAt:
			f.Type, f.Tag = reflect.TypeFor[int64](), tag(name, "timestamp(microsecond:utc),delta")
		case c < firstMeta:
			f.Type, f.Tag = reflect.TypeFor[string](), tag(name, "")
		case c < colExtra:
			f.Type, f.Tag = reflect.TypeFor[*string](), tag(name, "optional")
		default:
			f.Type = reflect.TypeFor[map[string]string]()
			f.Tag = reflect.StructTag(`parquet:"` + name + `"`)
		}
		fields = append(fields, f)
	}
	return pq.NewSchema("audit_event", pq.SchemaOf(reflect.New(reflect.StructOf(fields)).Interface())), nil
}

func tag(name, opts string) reflect.StructTag {
	if opts != "" {
		name += "," + opts
	}
	return reflect.StructTag(`parquet:"` + name + `"`)
}

// WriteEvent writes e as one row.
func (r *Renderer) WriteEvent(e *audit.Event) error {
	return render.WriteEvent(r, e)
}

// WriteRow writes e as one row; it implements render.RowWriter. The
// writer copies the values into its pages before WriteRows returns.
func (r *Renderer) WriteRow(e *audit.EventRow) error {
	if r.closed {
		return audit.Errorf(audit.EINTERNAL, "parquet: write after close")
	}
	row := r.row[:0]
	leaf := 0
	for _, c := range r.cols {
		switch {
		case c == 0:
			row = append(row, stringValue(e.ID).Level(0, 0, leaf))
		case c == colOccurredAt:
			row = append(row, pq.Int64Value(e.OccurredAt).Level(0, 0, leaf))
		case c < firstMeta:
			row = append(row, stringValue(field(e, c)).Level(0, 0, leaf))
		case c < colExtra:
			if i := c - firstMeta; e.HasMeta&(1<<i) != 0 {
				row = append(row, stringValue(e.Meta[i]).Level(0, 1, leaf))
			} else {
				row = append(row, pq.NullValue().Level(0, 0, leaf))
			}
		default:
			var err error
			if row, err = r.appendExtra(row, e, leaf); err != nil {
				return err
			}
			leaf++ // the map is two columns: key and value
		}
		leaf++
	}
	r.row = row
	r.rows[0] = row
	if _, err := r.w.WriteRows(r.rows[:]); err != nil {
		return fmt.Errorf("parquet: write: %w", err)
	}
	r.inGroup++
	if r.inGroup >= r.opts.RowGroupRows ||
		r.inGroup%sizeEvery == 0 && r.w.Size()-r.flushed >= r.opts.RowGroupBytes {
		if err := r.w.Flush(); err != nil {
			return fmt.Errorf("parquet: flush row group: %w", err)
		}
		r.inGroup, r.flushed = 0, r.w.Size()
	}
	return nil
}

// stringValue is s as a BYTE_ARRAY value without a copy. pq.ValueOf does
// the same through reflection, after boxing s in an interface (an
// allocation per value); the writer copies the bytes into its page before
// WriteRows returns and never writes through them.
func stringValue(s string) pq.Value {
	return pq.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
}

func field(e *audit.EventRow, c int) string {
	switch c {
	case 2:
		return e.EventType
	case 3:
		return e.SubType
	case 4:
		return e.SystemSource
	case 5:
		return e.AuditeeID
	}
	return e.Description
}

// appendExtra appends the metadata map's key column then its value column
// (leaves leaf and leaf+1), the keys sorted as the store keeps them. An
// empty map is one null of each at definition level 0.
func (r *Renderer) appendExtra(row pq.Row, e *audit.EventRow, leaf int) (pq.Row, error) {
	clear(r.extra)
	if err := audit.DecodeExtraMetadata(e.Extra, r.extra); err != nil {
		return row, fmt.Errorf("parquet: metadata of event %s: %w", e.ID, err)
	}
	if len(r.extra) == 0 {
		return append(row, pq.NullValue().Level(0, 0, leaf), pq.NullValue().Level(0, 0, leaf+1)), nil
	}
	r.keys = slices.AppendSeq(r.keys[:0], maps.Keys(r.extra))
	slices.Sort(r.keys)
	for i, k := range r.keys {
		row = append(row, stringValue(k).Level(min(i, 1), 1, leaf))
	}
	for i, k := range r.keys {
		row = append(row, stringValue(r.extra[k]).Level(min(i, 1), 1, leaf+1))
	}
	return row, nil
}

// Close writes the last row group and the footer. It does not close the
// writer it was given.
func (r *Renderer) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if err := r.w.Close(); err != nil {
		return fmt.Errorf("parquet: close: %w", err)
	}
	return nil
}
