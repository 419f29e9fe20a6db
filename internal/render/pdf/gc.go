package pdfrender

import (
	"runtime/debug"
	"sync"
)

// closeGCPercent is the garbage collector's target while a report is laid
// out and written (Close). fpdf compresses each page with a new zlib
// writer, about 1 MiB of compressor state each: two thirds of the ~300 MB
// a 5,000-event report allocates, in the last few hundred milliseconds of
// the export. At the default 100 the heap then peaks at twice what is
// live, and a worker's peak RSS for that report measured 95-108 MiB in
// make bench runs against a 100 MiB target. At 50 the render added 26.3
// MiB to its process's peak RSS instead of 36.8 (BenchmarkRender5000Peak)
// for 50 ms more CPU per report (BenchmarkPDF5000: 245 → 296 ms); 25 saved
// 4 MiB more for 150 ms more.
const closeGCPercent = 50

var tightGC struct {
	mu      sync.Mutex
	holders int
	saved   int // the setting to restore when the last holder releases
}

// holdTightGC lowers the process's GC target to closeGCPercent until the
// returned func is called. Holders nest (concurrent exports each close
// their own report); the last to release restores what was set before the
// first. A tighter target already set (GOGC=25), or none (GOGC=off, where
// the memory limit rules), is left as it is.
func holdTightGC() (release func()) {
	tightGC.mu.Lock()
	defer tightGC.mu.Unlock()
	if tightGC.holders == 0 {
		tightGC.saved = debug.SetGCPercent(closeGCPercent)
		if tightGC.saved <= closeGCPercent { // tighter already, or off (negative)
			debug.SetGCPercent(tightGC.saved)
		}
	}
	tightGC.holders++
	var once sync.Once
	return func() {
		once.Do(func() {
			tightGC.mu.Lock()
			defer tightGC.mu.Unlock()
			tightGC.holders--
			if tightGC.holders == 0 {
				debug.SetGCPercent(tightGC.saved)
			}
		})
	}
}
