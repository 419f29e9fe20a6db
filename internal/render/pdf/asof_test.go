package pdfrender

import (
	"strings"
	"testing"
	"time"
)

// The title block says what the report is as of: the snapshot's time in
// the report's zone and its ingest position, in the report's language.
func TestTitleBlockAsOf(t *testing.T) {
	for _, c := range []struct{ locale, label, position string }{
		{"en", "As of", "ingest position 705"},
		{"de", "Stand", "Ingest-Position 705"},
	} {
		rep := baseReport(c.locale, mustLoc(t, "Europe/Berlin"))
		rep.AsOf, rep.AsOfPosition = time.Date(2026, 4, 11, 9, 0, 0, 0, time.UTC), "705"
		page := pdfText(t, renderPDF(t, rep, events(3, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), time.Hour)))[0]
		var line string
		for _, l := range strings.Split(page, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), c.label) {
				line = l
			}
		}
		if !strings.Contains(line, c.position) || !strings.Contains(line, "11:00") {
			t.Errorf("%s: as-of line %q; want %q and the time in Berlin (11:00)\n%s", c.locale, line, c.position, page)
		}
	}
	// Without a snapshot (exports made before they were recorded) the line
	// is left out.
	page := pdfText(t, renderPDF(t, baseReport("en", time.UTC), nil))[0]
	if strings.Contains(page, "As of") {
		t.Errorf("a report without a snapshot says as of:\n%s", page)
	}
}
