package export

import (
	"context"
	"testing"
	"time"
)

// pace keeps purge batches to their share of the time: after a 20 ms
// batch at a duty of a quarter it waits 60 ms; back to back (duty 1) not
// at all; and it gives up when the sweep's context ends.
func TestPace(t *testing.T) {
	for _, c := range []struct {
		duty     float64
		min, max time.Duration
	}{
		{0.25, 60 * time.Millisecond, time.Second},
		{0.5, 20 * time.Millisecond, time.Second},
		{1, 0, 10 * time.Millisecond},
	} {
		start := time.Now()
		if !pace(t.Context(), 20*time.Millisecond, c.duty) {
			t.Fatalf("duty %v: gave up", c.duty)
		}
		if el := time.Since(start); el < c.min || el > c.max {
			t.Errorf("duty %v: waited %s, want within [%s, %s]", c.duty, el, c.min, c.max)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if pace(ctx, time.Hour, DefaultPurgeDuty) {
		t.Fatal("pace went on after its context ended")
	}
}
