package csvrender

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/render"
	"github.com/auditsentinel/sentinel/internal/render/rendertest"
)

// asIs must say "as it is" exactly when neutralising and quoting would
// leave the cell alone.
func TestAsIs(t *testing.T) {
	for _, s := range []string{"a", "abc def", "=1", "+1", "-1", "@a", "\tx", "\rx", " x", "\u00a0x", "\u2003x", "x ",
		"a,b", `a"b`, "a\nb", "a\rb", `\.`, `\.x`, "é", "日本", "'=x", "{\"a\":\"b\"}", "\xff", "\x85x", "x\x00",
		"a;=1", "a;b", "a;", "a\t-1", "a\tb", ";@", "a;;+"} {
		want := Neutralize(s) == s && !fieldNeedsQuotes(s)
		if got := asIs(s); got != want {
			t.Errorf("asIs(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzAsIs(f *testing.F) {
	f.Add("a")
	f.Add(" =x")
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return
		}
		want := Neutralize(s) == s && !fieldNeedsQuotes(s)
		if got := asIs(s); got != want {
			t.Fatalf("asIs(%q) = %v, want %v", s, got, want)
		}
	})
}

// WriteRow with the metadata as the store keeps it must write what
// WriteEvent writes for the same event, whether the stored object is copied
// (no escapes) or decoded and encoded again (escapes, which encoding/json
// also uses for <, > and &).
func TestWriteRowMatchesWriteEvent(t *testing.T) {
	at := time.Date(2026, 4, 10, 12, 0, 0, 123_000_000, time.UTC)
	loc, _ := time.LoadLocation("America/New_York")
	for name, md := range map[string]map[string]string{
		"None":        nil,
		"Filterable":  {"entity_id": "e1", "tag": "=cmd", "task_id": ""},
		"Plain":       {"ip": "203.0.113.7", "agent": "curl/8, really"},
		"Escapes":     {"note": "a \"quoted\"\nline", "html": "<b>&</b>", "ls": "\u2028"},
		"Mixed":       {"entity_id": "e1", "zz": "last", "aa": "first"},
		"EmptyValues": {"tag": "", "other": ""},
	} {
		t.Run(name, func(t *testing.T) {
			e := audit.Event{ID: "e1", OccurredAt: at, EventType: "user", SubType: "login", SystemSource: "-web",
				Description: "d,\"x\"", Metadata: md}
			rep := render.Report{Params: audit.ExportParams{Locale: "en"}, Location: loc}
			var viaEvent, viaRow bytes.Buffer
			r1, err := New(&viaEvent, rep)
			if err != nil {
				t.Fatal(err)
			}
			if err := r1.WriteEvent(&e); err != nil {
				t.Fatal(err)
			}
			r1.Close()
			r2, _ := New(&viaRow, rep)
			row := storedRow(t, &e)
			if err := r2.WriteRow(&row); err != nil {
				t.Fatal(err)
			}
			r2.Close()
			if viaEvent.String() != viaRow.String() {
				t.Fatalf("WriteEvent:\n%s\nWriteRow:\n%s", viaEvent.String(), viaRow.String())
			}
			if md != nil && strings.Contains(name, "Escapes") && audit.ExtraIsVerbatim(row.Extra) {
				t.Fatalf("stored %q should need re-encoding", row.Extra)
			}
		})
	}
}

// storedRow is e as a store hands it to an export.
func storedRow(t *testing.T, e *audit.Event) audit.EventRow {
	t.Helper()
	row, err := audit.RowOf(e)
	if err != nil {
		t.Fatal(err)
	}
	return row
}

func BenchmarkWriteRow(b *testing.B) {
	loc, _ := time.LoadLocation("Europe/Berlin")
	r, err := New(discard{}, render.Report{Params: audit.ExportParams{Locale: "en"}, Location: loc})
	if err != nil {
		b.Fatal(err)
	}
	rendertest.BenchmarkRows(b, r)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func FuzzHasSpecial(f *testing.F) {
	f.Add("abcdefgh,")
	f.Add("0123456789abcdef\"")
	f.Add("\xff\xfe\x2c\x0d")
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.ContainsAny(s, ",\"\r\n")
		if got := hasSpecial(s); got != want {
			t.Fatalf("hasSpecial(%q) = %v, want %v", s, got, want)
		}
	})
}
