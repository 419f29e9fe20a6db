package httpapi

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
)

// FuzzExportQuery feeds the export endpoint's query parser and the export
// validation arbitrary query strings. What holds for any input: no panic;
// a refusal is an EINVALID naming a parameter; accepted params hash (the
// step that panicked on years outside 0-9999, issue 12 bug 1), marshal to
// JSON unchanged (no U+FFFD substitution, bug 6) and hold only times within
// years 1-9999. `make test` runs the seeds; `make fuzz` explores.
func FuzzExportQuery(f *testing.F) {
	for _, s := range []string{
		"", "event_type=assessment", "range_start=9999-12-31T23:59:59-23:59", "range_end=0000-01-01T00:00:00%2B01:00",
		"range_end=0000-01-01T00:00:00Z", "range_start=2026-04-10T00:00:00 01:00", "event_type=%ff%fe",
		"event_type=a%00b", "auditee_id=%ed%a0%80", "metadata[entity_id]=x", "metadata[entity_id=x]",
		"metadata[tag][]=a&metadata[tag][]=b", "metadata[nope]=x", "metadata=x", "file_type=PDF&locale=DE",
		"timezone=Local", "timezone=../../etc/passwd", "timezone=Europe/Berlin", "event_type=assesment",
		"webhook_url=http://127.0.0.1/", "=x", "%zz", "event_type[]=a&event_type=b", "range_start[]=x",
		"range_start=2026-04-11T00:00:00Z&range_end=2026-04-10T00:00:00Z", "sub_type=renamed x;=1+1;y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, _, err := parseExportQuery(raw)
		if err == nil {
			p, err = export.Validate(p)
		}
		if err != nil {
			e := audit.AsError(err)
			if e == nil || e.Code != audit.EINVALID || e.Param == "" {
				t.Fatalf("%q: refused with %v; want EINVALID naming a parameter", raw, err)
			}
			return
		}
		_ = p.Hash()
		if f := p.Filter; f.RangeStart != nil && (f.RangeStart.Year() < 1 || f.RangeStart.Year() > 9999) ||
			f.RangeEnd != nil && (f.RangeEnd.Year() < 1 || f.RangeEnd.Year() > 9999) {
			t.Fatalf("%q: accepted a bound outside years 1-9999: %v %v", raw, f.RangeStart, f.RangeEnd)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("%q: accepted params do not marshal: %v", raw, err)
		}
		var back audit.ExportParams
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		for _, vs := range [][]string{p.Filter.EventTypes, p.Filter.SubTypes, p.Filter.SystemSources, p.Filter.AuditeeIDs} {
			for _, v := range vs {
				if !utf8.ValidString(v) {
					t.Fatalf("%q: accepted a value that is not UTF-8: %q", raw, v)
				}
			}
		}
		if back.Hash() != p.Hash() {
			t.Fatalf("%q: params change through JSON (%s)", raw, b)
		}
	})
}
