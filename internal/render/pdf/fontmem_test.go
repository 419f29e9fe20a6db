package pdfrender

import (
	"runtime"
	"testing"
)

// Issue 17: the inflated CJK font (3.9 MB, kept once a report has used
// it) lives outside the Go heap, where the collector's headroom does not
// double it. Not parallel, so that the heap it measures is its own.
func TestInflatedFontIsOffHeap(t *testing.T) {
	before := liveAfterGC()
	buf := inflateFont(cjkGz)
	grew := int64(liveAfterGC()) - int64(before)
	runtime.KeepAlive(buf)
	if len(buf) < 3<<20 {
		t.Fatalf("inflated %d bytes; the font has 3.9 MB", len(buf))
	}
	if grew > 1<<20 {
		t.Fatalf("inflating the font grew the live heap by %.1f MiB; want it outside the heap", float64(grew)/(1<<20))
	}
	if _, err := parseTTF(buf); err != nil {
		t.Fatalf("the inflated font does not parse: %v", err)
	}
}
