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

// BenchmarkRows writes one realistic event row (UUIDs, non-ASCII text, two
// filterable keys and other metadata) through r per iteration, a
// millisecond later each time. The CSV and NDJSON benchmarks share it, so
// that their ns/op compare.
func BenchmarkRows(b *testing.B, r render.RowWriter) {
	row := audit.EventRow{ID: "01a045ad-afbe-71ba-a08e-3eb39c68fd53", OccurredAt: 1787875405758764, EventType: "entity",
		SubType: "created", SystemSource: "entity_service", AuditeeID: "dc8e7042-4186-4d03-9f04-fc1d3fa97fda",
		Description: "Zoë Müller created entity Globex Holdings Ltd", Extra: `{"ip":"131.75.197.176","user_agent":"python-requests/2.32.3"}`}
	row.Meta[0], row.Meta[8], row.HasMeta = "497f6eca-6276-4993-bfeb-53cbbbba6f08", "onboarding", 1|1<<8
	b.ReportAllocs()
	for b.Loop() {
		row.OccurredAt += 1000
		if err := r.WriteRow(&row); err != nil {
			b.Fatal(err)
		}
	}
}
