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
// rss ndjson-big) against the CSV export run just before each of them
// (csv-600k-paired; the target's verdict, the median of the pairs' ratios)
// and against (a)'s rows/s (csvRate, information); where the worker said
// how long storage took to finish each export (phases), that part of the
// time; and the stored bytes per event of each format and compression
// measured (csv-600k, csv-gzip-big, csv-zstd-big, ndjson-big, parquet-big).
// With an NDJSON export of the seven event fields after each NDJSON export
// (ndjson-fields-big), it also reports the time each takes per MB.
func ndjsonRows(w io.Writer, exports map[string][]line, rss map[string][]float64, phases map[string]line, csvRate float64) {
	nd, pairs := exports["ndjson-big"], exports["csv-600k-paired"]
	if len(pairs) != len(nd) {
		pairs = nil // a run that stopped half-way: no pairs to trust
	}
	if !formatRows(w, "NDJSON", "ndjson-big", exports, rss, csvRate, targetNDJSONRatio, targetRSSMiB, pairs) {
		return
	}
	if len(pairs) > 0 {
		storeRows(w, nd, pairs, phases)
		if fields := exports["ndjson-fields-big"]; len(fields) == len(nd) {
			bytesRows(w, nd, pairs, fields)
		}
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

// pairRatio is the median (see median) over the pairs of nd[i]'s rate ÷
// ref[i]'s.
func pairRatio(nd, ref []line, rate func(line) float64) float64 {
	rs := make([]float64, 0, len(nd))
	for i := range nd {
		if r := rate(ref[i]); r > 0 {
			rs = append(rs, rate(nd[i])/r)
		}
	}
	return median(rs)
}

// storeRows reports, for the NDJSON exports and the CSV exports paired with
// them, how long the object store took to finish each file after its last
// byte was rendered (the worker's store_ms), and the pairs' ratio without
// it: a waiting GET ends only once the file is stored, and versitygw's
// posix backend assembles a multipart upload by copying every part, in
// time proportional to the file, where S3, MinIO and Ceph only write
// metadata.
func storeRows(w io.Writer, nd, pairs []line, phases map[string]line) {
	store := func(l line) (float64, bool) {
		p, ok := phases[l.ExportID]
		return p.StoreMs / 1000, ok
	}
	var ndS, csvS []float64
	for i := range nd {
		a, ok1 := store(nd[i])
		b, ok2 := store(pairs[i])
		if !ok1 || !ok2 {
			return // a worker log without the split: nothing to report
		}
		ndS, csvS = append(ndS, a), append(csvS, b)
	}
	fmt.Fprintf(w, "| storage finishing the file after its last byte was rendered (worker's store_ms; median of %d): "+
		"CSV run before each NDJSON · NDJSON | %.2f s · %.2f s | — | info |\n", len(nd), median(csvS), median(ndS))
	less := func(l line) float64 {
		s, _ := store(l)
		if l.Seconds-s <= 0 {
			return 0
		}
		return float64(l.Rows) / (l.Seconds - s)
	}
	fmt.Fprintf(w, "| NDJSON ÷ the CSV run before it, rows/s over each GET's time less its store_ms (median of %d pairs) | "+
		"%.2f× | — | info |\n", len(nd), pairRatio(nd, pairs, less))
}

// formatRows reports export name (a file type of tenant big's 600k query,
// as label) against the CSV export's rows/s: its median run, the ratio with
// its target, and the worker's peak RSS against rssMiB. With pairs (a CSV
// export run just before each of name's, in order) the target's ratio is
// the median of the pairs' and the one with (a)'s csvRate is information.
// False when the run has no such export.
func formatRows(w io.Writer, label, name string, exports map[string][]line, rss map[string][]float64, csvRate, ratio, rssMiB float64,
	pairs []line) bool {
	ls := exports[name]
	if len(ls) == 0 {
		return false
	}
	m := medianBy(ls, func(l line) float64 { return l.Seconds })
	fmt.Fprintf(w, "| %s export, %s events, GET → last byte (median of %d) | %.2f s · %s rows/s · %.1f MB/s (%.1f MB) | "+
		"≥ %.1f× CSV | see ratio |\n", label, thousands(m.Rows-m.SelfAuditRows), len(ls), m.Seconds, thousands(int64(m.RowsPerSec)), m.MBPerSec,
		float64(m.Bytes)/1e6, ratio)
	switch {
	case len(pairs) > 0:
		p := medianBy(pairs, func(l line) float64 { return l.Seconds })
		fmt.Fprintf(w, "| CSV export run just before each %s export (median of %d) | %.2f s · %s rows/s | reference | — |\n",
			label, len(pairs), p.Seconds, thousands(int64(p.RowsPerSec)))
		r := pairRatio(ls, pairs, func(l line) float64 { return l.RowsPerSec })
		fmt.Fprintf(w, "| %s ÷ the CSV export run just before it, rows/s (median of %d pairs) | %.2f× | ≥ %.2f× | %s |\n",
			label, len(pairs), r, ratio, verdict(r >= ratio))
		if csvRate > 0 {
			fmt.Fprintf(w, "| %s ÷ (a) CSV export, rows/s | %.2f× | — | info |\n", label, m.RowsPerSec/csvRate)
		}
	case csvRate > 0:
		fmt.Fprintf(w, "| %s ÷ CSV export, rows/s | %.2f× | ≥ %.2f× | %s |\n", label, m.RowsPerSec/csvRate, ratio,
			verdict(m.RowsPerSec >= ratio*csvRate))
	default:
		fmt.Fprintf(w, "| %s ÷ CSV export, rows/s | no CSV export in this run | ≥ %.2f× | MISSED (not run) |\n", label, ratio)
	}
	if v := rss[name]; len(v) > 0 {
		fmt.Fprintf(w, "| worker peak RSS, %s-event %s export (max of %d) | %.1f MiB | ≤ %.0f MiB | %s |\n",
			thousands(m.Rows-m.SelfAuditRows), label, len(v), slices.Max(v), rssMiB, verdict(slices.Max(v) <= rssMiB))
	}
	return true
}

// bytesRows reports what sets the NDJSON export's pace against the CSV's:
// the format (rendering JSON) or its bytes (every byte is hashed by the
// worker, uploaded, relayed through Redis and the api, hashed again and
// read by the client, on the cores everything shares). fields are NDJSON
// exports of the seven event fields alone, nearly the CSV's bytes per
// event, one after each of nd (pairs are the CSV exports before each). If
// NDJSON's time per MB is no more than the CSV's, the renderer is not what
// it waits for: the bytes are, and the row says how many bytes per event
// an NDJSON file could have, at its measured time per MB, for the target.
func bytesRows(w io.Writer, nd, pairs, fields []line) {
	perEvent := func(l line) float64 { return float64(l.Bytes) / float64(max(l.Rows, 1)) }
	perMB := func(l line) float64 { return l.Seconds / (float64(max(l.Bytes, 1)) / 1e6) }
	f := medianBy(fields, func(l line) float64 { return l.Seconds })
	c := medianBy(pairs, func(l line) float64 { return l.Seconds })
	n := medianBy(nd, func(l line) float64 { return l.Seconds })
	fmt.Fprintf(w, "| NDJSON of the seven event fields alone (`columns=`, no metadata; %.1f bytes an event, %.2f× the CSV's) "+
		"÷ the CSV export run before it, rows/s (median of %d pairs) | %.2f× | — | info |\n",
		perEvent(f), perEvent(f)/perEvent(c), len(fields), pairRatio(fields, pairs, func(l line) float64 { return l.RowsPerSec }))
	// The NDJSON file for which the time at NDJSON's own pace per MB is
	// the CSV's time ÷ the target ratio.
	need := c.Seconds / targetNDJSONRatio / perMB(n) * 1e6 / float64(max(n.Rows, 1))
	fmt.Fprintf(w, "| time per MB, GET → last byte (medians): the CSV export before each NDJSON · NDJSON · seven-field NDJSON; "+
		"the bytes per event at which NDJSON, at its own time per MB, would reach %.2f× | %.1f · %.1f · %.1f ms/MB; "+
		"≤ %.0f bytes an event (NDJSON has %.1f) | — | info |\n",
		targetNDJSONRatio, perMB(c)*1000, perMB(n)*1000, perMB(f)*1000, need, perEvent(n))
}
