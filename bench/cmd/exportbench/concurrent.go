package main

import (
	"fmt"
	"io"
	"slices"
)

// Targets of the concurrent exports (issue 12).
const (
	targetConcurrentMiB = 200.0 // worker peak RSS, 8 different 600,000-event CSV exports at once
	targetPerExportMiB  = 16.0  // what each further concurrent export may add
)

// concurrentRows reports the worker's peak RSS with 1, 2, 4 and 8
// concurrent exports (rss records concurrent-N) and what each further
// export added between measured counts.
func concurrentRows(w io.Writer, rss map[string][]float64) {
	counts := []int{1, 2, 4, 8}
	peaks := map[int]float64{}
	for _, n := range counts {
		if v := rss[fmt.Sprintf("concurrent-%d", n)]; len(v) > 0 {
			peaks[n] = slices.Max(v)
		}
	}
	if len(peaks) == 0 {
		fmt.Fprintf(w, "| worker peak RSS, 8 different 600,000-event CSV exports at once | not measured | ≤ %.0f MiB | MISSED (not run) |\n",
			targetConcurrentMiB)
		return
	}
	var figs string
	for _, n := range counts {
		if p, ok := peaks[n]; ok {
			if figs != "" {
				figs += " · "
			}
			figs += fmt.Sprintf("%d: %.1f", n, p)
		}
	}
	p8, ok := peaks[8]
	fmt.Fprintf(w, "| worker peak RSS with 1 · 2 · 4 · 8 different 600,000-event CSV exports at once (WORKER_CONCURRENCY=8) | %s MiB | "+
		"≤ %.0f MiB at 8 | %s |\n", figs, targetConcurrentMiB, verdict(ok && p8 <= targetConcurrentMiB))
	worst, prev, prevN, have := 0.0, 0.0, 0, false
	for _, n := range counts {
		p, ok := peaks[n]
		if !ok {
			continue
		}
		if have {
			worst = max(worst, (p-prev)/float64(n-prevN))
		}
		prev, prevN, have = p, n, true
	}
	fmt.Fprintf(w, "| largest RSS added per further concurrent export (between measured counts) | %+.1f MiB | ≤ %.0f MiB | %s |\n",
		worst, targetPerExportMiB, verdict(len(peaks) == len(counts) && worst <= targetPerExportMiB))
}
