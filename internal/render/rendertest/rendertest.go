// Package rendertest is what the tests and benchmarks of the renderers
// share: writing events through a renderer.
package rendertest

import (
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/render"
)

// Render writes events through r in order and closes it, failing tb on the
// first error.
func Render(tb testing.TB, r render.Renderer, events []audit.Event) {
	tb.Helper()
	for i := range events {
		if err := r.WriteEvent(&events[i]); err != nil {
			tb.Fatalf("event %d (%s): %v", i, events[i].ID, err)
		}
	}
	if err := r.Close(); err != nil {
		tb.Fatalf("close: %v", err)
	}
}
