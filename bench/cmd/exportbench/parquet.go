package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// Targets of the Parquet export (issue 13): its rows/s ÷ the CSV export's
// of the same events in the same run, and the worker's peak RSS.
const (
	targetParquetRatio  = 0.5
	targetParquetRSSMiB = 128.0
)

// countParquet counts the rows of the Parquet file f and those the
// service's own records (system_source), reading the system_source column
// page by page, and checks the count against the footer's.
func countParquet(f *os.File) (rows, self int64, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return 0, 0, fmt.Errorf("parquet: %w", err)
	}
	col, ok := pf.Schema().Lookup("system_source")
	if !ok {
		return 0, 0, errors.New("parquet: no system_source column")
	}
	buf := make([]parquet.Value, 4096)
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[col.ColumnIndex].Pages()
		for {
			p, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				pages.Close()
				return 0, 0, fmt.Errorf("parquet: read page: %w", err)
			}
			vals := p.Values()
			for {
				n, err := vals.ReadValues(buf)
				for _, v := range buf[:n] {
					rows++
					if string(v.ByteArray()) == audit.SelfAuditSource {
						self++
					}
				}
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					pages.Close()
					return 0, 0, fmt.Errorf("parquet: read values: %w", err)
				}
			}
			parquet.Release(p)
		}
		pages.Close()
	}
	if rows != pf.NumRows() {
		return 0, 0, fmt.Errorf("parquet: %d system_source values in a file of %d rows", rows, pf.NumRows())
	}
	return rows, self, nil
}

// parquetRows reports the Parquet export of tenant big (exports and rss
// parquet-big) against the CSV export's rows/s.
func parquetRows(w io.Writer, exports map[string][]line, rss map[string][]float64, csvRate float64) {
	formatRows(w, "Parquet", "parquet-big", exports, rss, csvRate, targetParquetRatio, targetParquetRSSMiB, nil)
}
