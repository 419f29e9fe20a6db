package csvrender

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

func TestDelimiterAndColumns(t *testing.T) {
	evs := []audit.Event{{
		ID: "e1", OccurredAt: time.Date(2026, 4, 10, 8, 0, 0, 500000000, time.UTC), EventType: "task", SubType: "created",
		SystemSource: "svc", AuditeeID: "u1", Description: "a;=1+1",
		Metadata: map[string]string{"entity_id": "=cmd|' /C calc'!A0", "tag": "x,y", "zeta": "z;z"},
	}, {
		ID: "e2", OccurredAt: time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC), EventType: "task", SubType: "created",
		SystemSource: "svc", Description: "-tab\tinside", Metadata: map[string]string{"entity_id": "ent"},
	}}
	for _, d := range []byte{';', '\t', ','} {
		cols := []int{audit.ColumnIndex("description"), audit.ColumnIndex("event_id"), audit.ColumnIndex("occurred_at"),
			audit.ColumnIndex("metadata.entity_id"), audit.ColumnIndex("metadata.tag"), audit.ColumnIndex("metadata")}
		b := renderCSV(t, report("en", mustLoc(t, "America/New_York")), evs, WithDelimiter(d), WithColumns(cols))
		rd := csv.NewReader(bytes.NewReader(b))
		rd.Comma = rune(d)
		recs, err := rd.ReadAll()
		if err != nil {
			t.Fatalf("%q: %v\n%s", d, err, b)
		}
		want := [][]string{
			{"Description", "Event ID", "Occurred at", "Entity ID", "Tag", "Other metadata"},
			// The injection rule quotes a trigger after a separator
			// (issue 12, bug 8), whichever separator the file uses.
			{"a;'=1+1", "e1", "2026-04-10T04:00:00.5-04:00", "'=cmd|' /C calc'!A0", "x,y", `{"zeta":"z;z"}`},
			{"'-tab\tinside", "e2", "2026-04-10T05:00:00-04:00", "ent", "", ""},
		}
		if len(recs) != 3 || !slices.Equal(recs[1], want[1]) || !slices.Equal(recs[2], want[2]) || len(recs[0]) != 6 {
			t.Errorf("%q:\n got %q\nwant %q", d, recs, want)
		}
		if d == ';' && !bytes.Contains(b, []byte(`"a;'=1+1"`)) {
			t.Errorf("a cell holding the separator is not quoted:\n%s", b)
		}
	}
	// Every column with comma is the default file, byte for byte.
	all := make([]int, len(audit.ColumnNames))
	for i := range all {
		all[i] = i
	}
	def := renderCSV(t, report("de", time.UTC), evs)
	if got := renderCSV(t, report("de", time.UTC), evs, WithDelimiter(','), WithColumns(all)); !bytes.Equal(got, def) {
		t.Errorf("custom path differs from the default:\n%s\n%s", got, def)
	}
}
