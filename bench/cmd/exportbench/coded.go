package main

import (
	"fmt"
	"io"
)

// targetCodedCopyRatio: a content-coded CSV export's rows/s (decoded and
// checked by the client before its clock stops) ÷ psql \copy's, of the same
// events in the same run (issue 13). The other target: faster than the
// identity export (a).
const targetCodedCopyRatio = 0.8

// codedRows reports the 600,000-event CSV export fetched with
// Accept-Encoding zstd and gzip (exports csv-600k-zstd, csv-600k-gzip)
// beside (a), the identity export, and (b), psql \copy; then the stored
// compression=zstd export (csv-zstd-big), the proxy for "stored
// compressed, relayed as is".
func codedRows(w io.Writer, exports map[string][]line, aRate, bRate float64) {
	for _, ce := range []string{"zstd", "gzip"} {
		ls := exports["csv-600k-"+ce]
		if len(ls) == 0 {
			continue
		}
		m := medianBy(ls, func(l line) float64 { return l.Seconds })
		fmt.Fprintf(w, "| CSV export, %s events, `Accept-Encoding: %s`, GET → decoded and SHA-256 checked (median of %d) | "+
			"%.2f s · %s rows/s · %.1f MB on the wire (%.1f%% of %.1f MB) | > (a), ≥ %.1f× (b) | see ratios |\n",
			thousands(m.Rows-m.SelfAuditRows), ce, len(ls), m.Seconds, thousands(int64(m.RowsPerSec)),
			float64(m.WireBytes)/1e6, 100*float64(m.WireBytes)/float64(max(m.Bytes, 1)), float64(m.Bytes)/1e6, targetCodedCopyRatio)
		if aRate > 0 {
			fmt.Fprintf(w, "| %s-coded ÷ (a) identity export, rows/s | %.2f× | > 1.00× | %s |\n", ce, m.RowsPerSec/aRate,
				verdict(m.RowsPerSec > aRate))
		} else {
			fmt.Fprintf(w, "| %s-coded ÷ (a) identity export, rows/s | no identity export in this run | > 1.00× | MISSED (not run) |\n", ce)
		}
		if bRate > 0 {
			fmt.Fprintf(w, "| %s-coded ÷ (b) `psql \\copy`, rows/s | %.2f× | ≥ %.2f× | %s |\n", ce, m.RowsPerSec/bRate,
				targetCodedCopyRatio, verdict(m.RowsPerSec >= targetCodedCopyRatio*bRate))
		} else {
			fmt.Fprintf(w, "| %s-coded ÷ (b) `psql \\copy`, rows/s | no `psql \\copy` in this run | ≥ %.2f× | MISSED (not run) |\n",
				ce, targetCodedCopyRatio)
		}
	}
	if ls := exports["csv-zstd-big"]; len(ls) > 0 && aRate > 0 {
		m := medianBy(ls, func(l line) float64 { return l.Seconds })
		fmt.Fprintf(w, "| what-if: stored `compression=zstd` CSV relayed as is (rows/s ÷ (a); %d run) | %.2f× · %s rows/s · %.1f MB | — | info |\n",
			len(ls), m.RowsPerSec/aRate, thousands(int64(m.RowsPerSec)), float64(m.Bytes)/1e6)
	}
}
