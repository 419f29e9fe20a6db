package main

import (
	"fmt"
	"io"
)

// targetPurgeSlowdown: an export or an ingest while the sweeper purges may
// take at most this many times as long as without (issue 15, "not
// measurably").
const targetPurgeSlowdown = 1.25

// purgeRows reports the 100,000-event CSV export (exports purge-off-csv,
// purge-on-csv) and the 10,000-event NDJSON ingest (ingests
// purge-off-ingest, purge-on-ingest) without and during a purge, and how
// many events the sweeper purged during the window (kind "purge").
func purgeRows(w io.Writer, exports, ingests map[string][]line, purges []line) {
	if len(purges) == 0 && len(exports["purge-off-csv"]) == 0 {
		return
	}
	purged := int64(-1)
	var window float64
	for _, p := range purges {
		purged, window = p.Purged, p.WindowS
	}
	row := func(label string, off, on []line) {
		if len(off) == 0 || len(on) == 0 {
			fmt.Fprintf(w, "| %s, during a purge ÷ without | not measured | ≤ %.2f× | MISSED (not run) |\n", label, targetPurgeSlowdown)
			return
		}
		a := medianBy(off, func(l line) float64 { return l.Seconds })
		b := medianBy(on, func(l line) float64 { return l.Seconds })
		r := b.Seconds / a.Seconds
		fmt.Fprintf(w, "| %s (median of %d · %d): without · during a purge | %.3f s · %.3f s = %.2f× | ≤ %.2f× | %s |\n",
			label, len(off), len(on), a.Seconds, b.Seconds, r, targetPurgeSlowdown, verdict(r <= targetPurgeSlowdown && purged > 0))
	}
	n := func(ls []line, f func(line) int64) string {
		if len(ls) == 0 {
			return "?"
		}
		return thousands(f(ls[0]))
	}
	row(n(exports["purge-off-csv"], func(l line) int64 { return l.Rows - l.SelfAuditRows })+"-event CSV export (tenant mid)",
		exports["purge-off-csv"], exports["purge-on-csv"])
	row(n(ingests["purge-off-ingest"], func(l line) int64 { return l.Events })+"-event NDJSON ingest",
		ingests["purge-off-ingest"], ingests["purge-on-ingest"])
	if purged >= 0 {
		fmt.Fprintf(w, "| events the sweeper purged during the measured window (%.1f s) | %s | > 0 | %s |\n",
			window, thousands(purged), verdict(purged > 0))
	}
}
