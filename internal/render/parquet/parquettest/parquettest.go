// Package parquettest reads a Parquet export back with Apache Arrow's Go
// implementation (arrow-go), a reader other than the library that wrote it,
// so that what the tests compare is what any lake loader would see. It is
// for tests only.
package parquettest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// File is a Parquet file as arrow-go reads it.
type File struct {
	// Schema is the Arrow schema pqarrow derives from the file's.
	Schema *arrow.Schema
	// Rows hold each row's values by column name: a string, nil for a
	// null, a time.Time (UTC) for a timestamp, a map[string]string for a
	// map.
	Rows      []map[string]any
	Meta      map[string]string // the key-value metadata
	RowGroups int
	CreatedBy string
}

// Columns returns the file's column names in order.
func (f *File) Columns() []string {
	out := make([]string, 0, f.Schema.NumFields())
	for _, fd := range f.Schema.Fields() {
		out = append(out, fd.Name)
	}
	return out
}

// Read reads b, failing tb on anything arrow-go cannot read or a column of
// a type the exports do not write.
func Read(tb testing.TB, b []byte) *File {
	tb.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("arrow-go: open parquet: %v", err)
	}
	defer pf.Close()
	out := &File{Meta: map[string]string{}, RowGroups: pf.NumRowGroups(), CreatedBy: pf.MetaData().GetCreatedBy()}
	kv := pf.MetaData().KeyValueMetadata()
	for i, k := range kv.Keys() {
		out.Meta[k] = kv.Values()[i]
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		tb.Fatalf("arrow-go: file reader: %v", err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		tb.Fatalf("arrow-go: read table: %v", err)
	}
	defer tbl.Release()
	out.Schema = tbl.Schema()
	out.Rows = make([]map[string]any, tbl.NumRows())
	for i := range out.Rows {
		out.Rows[i] = make(map[string]any, tbl.NumCols())
	}
	for c := 0; c < int(tbl.NumCols()); c++ {
		col := tbl.Column(c)
		name := col.Name()
		row := 0
		for _, chunk := range col.Data().Chunks() {
			for i := 0; i < chunk.Len(); i, row = i+1, row+1 {
				out.Rows[row][name] = value(tb, name, chunk, i)
			}
		}
	}
	return out
}

func value(tb testing.TB, name string, a arrow.Array, i int) any {
	tb.Helper()
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.String:
		return a.Value(i)
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		if unit != arrow.Microsecond {
			tb.Fatalf("column %s: timestamp unit %s, want microseconds", name, unit)
		}
		return time.UnixMicro(int64(a.Value(i))).UTC()
	case *array.Map:
		keys, items := a.Keys().(*array.String), a.Items().(*array.String)
		start, end := a.ValueOffsets(i)
		m := make(map[string]string, end-start)
		for j := start; j < end; j++ {
			m[keys.Value(int(j))] = items.Value(int(j))
		}
		return m
	}
	tb.Fatalf("column %s: unexpected arrow type %s", name, a.DataType())
	return nil
}
