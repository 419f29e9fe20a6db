package pdfrender

import (
	"runtime/debug"
	"testing"
)

func gcPercent() int {
	v := debug.SetGCPercent(100)
	debug.SetGCPercent(v)
	return v
}

// Overlapping holds keep the target low until the last one ends, then put
// back what was set; a tighter setting or GOGC=off is never raised.
func TestHoldTightGC(t *testing.T) {
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)

	a := holdTightGC()
	if got := gcPercent(); got != closeGCPercent {
		t.Fatalf("held: GC percent %d, want %d", got, closeGCPercent)
	}
	b := holdTightGC()
	a()
	a() // a second call is a no-op, not a second release
	if got := gcPercent(); got != closeGCPercent {
		t.Fatalf("one of two holds released: GC percent %d, want %d", got, closeGCPercent)
	}
	b()
	if got := gcPercent(); got != 100 {
		t.Fatalf("all released: GC percent %d, want the 100 set before", got)
	}

	for _, set := range []int{20, -1} {
		debug.SetGCPercent(set)
		release := holdTightGC()
		if got := gcPercent(); got != set {
			t.Errorf("GOGC %d: held as %d, want it left alone", set, got)
		}
		release()
		if got := gcPercent(); got != set {
			t.Errorf("GOGC %d: %d after release", set, got)
		}
	}
}
