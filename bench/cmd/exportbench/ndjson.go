package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// targetNDJSONRatio: the NDJSON export's rows/s ÷ the CSV export's, of the
// same events in the same run (issue 13).
const targetNDJSONRatio = 0.9

// ndjsonRows reports the NDJSON export of tenant big (exports ndjson-big,
// rss ndjson-big) against the CSV export's rows/s, and the stored bytes per
// event of each format and compression measured (csv-600k, csv-gzip-big,
// csv-zstd-big, ndjson-big, parquet-big).
func ndjsonRows(w io.Writer, exports map[string][]line, rss map[string][]float64, csvRate float64) {
	if !formatRows(w, "NDJSON", "ndjson-big", exports, rss, csvRate, targetNDJSONRatio, targetRSSMiB) {
		return
	}
	var parts []string
	for _, f := range []struct{ name, label string }{
		{"csv-600k", "csv"}, {"csv-gzip-big", "csv gzip"}, {"csv-zstd-big", "csv zstd"}, {"ndjson-big", "ndjson"},
		{"parquet-big", "parquet"},
	} {
		if ls := exports[f.name]; len(ls) > 0 && ls[0].Rows > 0 {
			parts = append(parts, fmt.Sprintf("%s %.1f", f.label, float64(ls[0].Bytes)/float64(ls[0].Rows)))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "| stored bytes per event (stored object ÷ rows, tenant big) | %s | — | info |\n", strings.Join(parts, " · "))
	}
}

// formatRows reports export name (a file type of tenant big's 600k query,
// as label) against the CSV export's rows/s: its median run, the ratio with
// its target, and the worker's peak RSS against rssMiB. False when the run
// has no such export.
func formatRows(w io.Writer, label, name string, exports map[string][]line, rss map[string][]float64, csvRate, ratio, rssMiB float64) bool {
	ls := exports[name]
	if len(ls) == 0 {
		return false
	}
	m := medianBy(ls, func(l line) float64 { return l.Seconds })
	fmt.Fprintf(w, "| %s export, %s events, GET → last byte (median of %d) | %.2f s · %s rows/s · %.1f MB/s (%.1f MB) | "+
		"≥ %.1f× CSV | see ratio |\n", label, thousands(m.Rows-m.SelfAuditRows), len(ls), m.Seconds, thousands(int64(m.RowsPerSec)), m.MBPerSec,
		float64(m.Bytes)/1e6, ratio)
	if csvRate > 0 {
		fmt.Fprintf(w, "| %s ÷ CSV export, rows/s | %.2f× | ≥ %.2f× | %s |\n", label, m.RowsPerSec/csvRate, ratio,
			verdict(m.RowsPerSec >= ratio*csvRate))
	} else {
		fmt.Fprintf(w, "| %s ÷ CSV export, rows/s | no CSV export in this run | ≥ %.2f× | MISSED (not run) |\n", label, ratio)
	}
	if v := rss[name]; len(v) > 0 {
		fmt.Fprintf(w, "| worker peak RSS, %s-event %s export (max of %d) | %.1f MiB | ≤ %.0f MiB | %s |\n",
			thousands(m.Rows-m.SelfAuditRows), label, len(v), slices.Max(v), rssMiB, verdict(slices.Max(v) <= rssMiB))
	}
	return true
}
