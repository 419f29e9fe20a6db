package csvrender

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/i18n"
	"github.com/auditsentinel/sentinel/internal/render"
	"github.com/auditsentinel/sentinel/internal/render/rendertest"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func report(locale string, loc *time.Location) render.Report {
	return render.Report{
		ExportID: "exp_1", TenantID: "t1",
		Params:      audit.ExportParams{FileType: audit.FileCSV, Locale: locale},
		Location:    loc,
		GeneratedAt: time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC),
		EventCount:  -1,
	}
}

// renderCSV renders events and returns the file.
func renderCSV(t testing.TB, rep render.Report, events []audit.Event, opts ...Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	r, err := New(&buf, rep, opts...)
	if err != nil {
		t.Fatal(err)
	}
	rendertest.Render(t, r, events)
	return buf.Bytes()
}

// parse reads a file back with encoding/csv, checking every record has the
// header's width.
func parse(t testing.TB, b []byte) [][]string {
	t.Helper()
	rd := csv.NewReader(bytes.NewReader(b))
	recs, err := rd.ReadAll()
	if err != nil {
		t.Fatalf("parse back: %v\n%s", err, b)
	}
	return recs
}

const enHeader = "Event ID,Occurred at,Event type,Sub type,System source,Auditee ID,Description," +
	"Entity ID,Assessment ID,Task ID,Workflow instance ID,Screening application ID,Screening config ID," +
	"Match ID,Inquiry ID,Tag,Cache ID,Workflow step,Other metadata\r\n"

func TestExactBytes(t *testing.T) {
	events := []audit.Event{
		{
			ID: "ev_1", OccurredAt: time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC),
			EventType: "assessment", SubType: "created", SystemSource: "assessment_service",
			AuditeeID: "user_7", Description: "Assessment created",
			Metadata: map[string]string{"entity_id": "ent_1", "workflow_step": "review", "zeta": "z", "alpha": "a"},
		},
		{
			ID: "ev_2", OccurredAt: time.Date(2026, 4, 10, 12, 0, 1, 123_000_000, time.UTC),
			EventType: "task", SubType: "updated", SystemSource: "task_platform",
			Description: "Said \"hi\", then left\nnext line",
		},
	}
	got := string(renderCSV(t, report("en", mustLoc(t, "America/New_York")), events))
	want := enHeader +
		`ev_1,2026-04-10T08:00:00-04:00,assessment,created,assessment_service,user_7,Assessment created,` +
		`ent_1,,,,,,,,,,review,"{""alpha"":""a"",""zeta"":""z""}"` + "\r\n" +
		`ev_2,2026-04-10T08:00:01.123-04:00,task,updated,task_platform,,"Said ""hi"", then left` + "\r\n" +
		`next line",,,,,,,,,,,,` + "\r\n"
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	recs := parse(t, []byte(got))
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	if recs[2][6] != "Said \"hi\", then left\nnext line" {
		t.Errorf("description read back as %q", recs[2][6])
	}
}

func TestHeaderPerLocale(t *testing.T) {
	wantWidth := 7 + len(audit.MetadataKeys) + 1
	firstCol := map[string]string{
		"en": "Event ID", "de": "Ereignis-ID", "fr": "ID de l’événement", "es": "ID del evento",
		"pt": "ID do evento", "it": "ID evento", "nl": "Gebeurtenis-ID",
	}
	for _, code := range i18n.Supported() {
		t.Run(code, func(t *testing.T) {
			cat, _ := i18n.Lookup(code)
			recs := parse(t, renderCSV(t, report(code, nil), nil))
			if len(recs) != 1 || len(recs[0]) != wantWidth {
				t.Fatalf("header = %v", recs)
			}
			h := recs[0]
			if h[0] != firstCol[code] {
				t.Errorf("first column %q, want %q", h[0], firstCol[code])
			}
			for i, k := range audit.MetadataKeys {
				if want := cat.T("field.metadata." + k); h[7+i] != want {
					t.Errorf("column %d = %q, want %q", 7+i, h[7+i], want)
				}
			}
			if h[wantWidth-1] != cat.T("field.other_metadata") {
				t.Errorf("last column %q", h[wantWidth-1])
			}
			seen := map[string]bool{}
			for _, c := range h {
				if seen[c] || c == "" || strings.HasPrefix(c, "field.") {
					t.Errorf("bad or duplicate column name %q", c)
				}
				seen[c] = true
			}
		})
	}
}

func TestOccurredAt(t *testing.T) {
	ny, berlin := mustLoc(t, "America/New_York"), mustLoc(t, "Europe/Berlin")
	tests := []struct {
		name string
		at   time.Time
		loc  *time.Location
		want string
	}{
		{"utc", time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC), time.UTC, "2026-04-10T12:00:00Z"},
		{"nil location is utc", time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC), nil, "2026-04-10T12:00:00Z"},
		{"ny before dst", time.Date(2026, 3, 8, 6, 59, 59, 0, time.UTC), ny, "2026-03-08T01:59:59-05:00"},
		{"ny after dst", time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), ny, "2026-03-08T03:00:00-04:00"},
		{"ny back to standard", time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC), ny, "2026-11-01T01:00:00-05:00"},
		{"berlin before dst", time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC), berlin, "2026-03-29T01:59:59+01:00"},
		{"berlin after dst", time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), berlin, "2026-03-29T03:00:00+02:00"},
		{"kolkata half hour", time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC), mustLoc(t, "Asia/Kolkata"), "2026-04-10T17:30:00+05:30"},
		{"microseconds", time.Date(2026, 4, 10, 12, 0, 0, 123456_000, time.UTC), time.UTC, "2026-04-10T12:00:00.123456Z"},
		{"trailing zeros trimmed", time.Date(2026, 4, 10, 12, 0, 0, 500_000_000, time.UTC), ny, "2026-04-10T08:00:00.5-04:00"},
		{"sub-microsecond dropped", time.Date(2026, 4, 10, 12, 0, 0, 999, time.UTC), time.UTC, "2026-04-10T12:00:00Z"},
		{"nanoseconds truncated", time.Date(2026, 4, 10, 12, 0, 0, 1_999, time.UTC), time.UTC, "2026-04-10T12:00:00.000001Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(render.AppendTime(nil, tt.at, orUTC(tt.loc))); got != tt.want {
				t.Errorf("AppendTime = %q, want %q", got, tt.want)
			}
			recs := parse(t, renderCSV(t, report("en", tt.loc), []audit.Event{{ID: "e", OccurredAt: tt.at}}))
			if got := recs[1][1]; got != tt.want {
				t.Errorf("cell = %q, want %q", got, tt.want)
			}
			back, err := time.Parse(time.RFC3339Nano, recs[1][1])
			if err != nil || !back.Equal(tt.at.Truncate(time.Microsecond)) {
				t.Errorf("parses back as %v, %v", back, err)
			}
		})
	}
}

func orUTC(l *time.Location) *time.Location {
	if l == nil {
		return time.UTC
	}
	return l
}

func TestInjection(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\nx"}, // a bare CR is a line break; encoding/csv would drop it
		{"a\rb\r\nc", "a\nb\nc"},
		{`=HYPERLINK("http://evil","click")`, `'=HYPERLINK("http://evil","click")`},
		{"a=1", "a=1"},
		{" =1", " =1"},
		{"", ""},
		{"'already", "'already"},
		{"plain", "plain"},
		// Issue 12, bug 8: a comma-separated file opened on ";" (or with its
		// quoting ignored) starts a cell after each separator and line break.
		{"x,=1+1", "x,'=1+1"},
		{"\nx", "'\nx"}, // written as CRLF: the cell would start with CR
		{"renamed x;=1+1;y", "renamed x;'=1+1;y"},
		{"line one\n=2+2\nline three", "line one\n'=2+2\nline three"},
		{"a\r\n-1", "a\n'-1"},
		{"a\t@b;+c,-d", "a\t'@b;'+c,'-d"},
		{"a; =1", "a; =1"},
		{"a;b=1", "a;b=1"},
	}
	for _, tt := range tests {
		ev := audit.Event{
			ID: tt.in, EventType: tt.in, SubType: tt.in, SystemSource: tt.in, AuditeeID: tt.in,
			Description: tt.in, OccurredAt: time.Unix(0, 0),
			Metadata: map[string]string{"entity_id": tt.in, "tag": tt.in, "custom": tt.in},
		}
		b := renderCSV(t, report("en", nil), []audit.Event{ev})
		recs := parse(t, b)
		if len(recs) != 2 || len(recs[1]) != len(recs[0]) {
			t.Fatalf("%q: %d records / %d cells:\n%q", tt.in, len(recs), len(recs[1]), b)
		}
		row := recs[1]
		for _, i := range []int{0, 2, 3, 4, 5, 6, 7, 15} {
			if row[i] != tt.want {
				t.Errorf("%q: cell %d = %q, want %q", tt.in, i, row[i], tt.want)
			}
		}
		var other map[string]string
		if err := json.Unmarshal([]byte(row[18]), &other); err != nil || other["custom"] != tt.in {
			t.Errorf("%q: other metadata %q (%v)", tt.in, row[18], err)
		}
		for i, c := range row {
			if c != "" && strings.ContainsRune("=+-@\t\r\n", rune(c[0])) {
				t.Errorf("%q: cell %d starts with a formula character: %q", tt.in, i, c)
			}
		}
	}
}

func TestMetadata(t *testing.T) {
	tests := []struct {
		name      string
		meta      map[string]string
		wantKnown map[int]string // column index → value
		wantOther string
	}{
		{"nil", nil, nil, ""},
		{"empty", map[string]string{}, nil, ""},
		{"only known", map[string]string{"entity_id": "e", "cache_id": "c"}, map[int]string{7: "e", 16: "c"}, ""},
		{"only other, sorted", map[string]string{"b": "2", "a": "1", "c": "3"}, nil, `{"a":"1","b":"2","c":"3"}`},
		{"mixed", map[string]string{"task_id": "t", "zz": "last", "Aa": "first"}, map[int]string{9: "t"}, `{"Aa":"first","zz":"last"}`},
		{"escapes", map[string]string{"k": "quote\" back\\ nl\n tab\t ctl\x01 <&> \u2028 ümlaut"}, nil,
			`{"k":"quote\" back\\ nl\n tab\t ctl\u0001 <&> \u2028 ümlaut"}`},
		{"empty value kept", map[string]string{"x": ""}, nil, `{"x":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := parse(t, renderCSV(t, report("en", nil), []audit.Event{{ID: "e", Metadata: tt.meta}}))
			row := recs[1]
			for i := 7; i < 7+len(audit.MetadataKeys); i++ {
				if row[i] != tt.wantKnown[i] {
					t.Errorf("column %d (%s) = %q, want %q", i, recs[0][i], row[i], tt.wantKnown[i])
				}
			}
			if got := row[len(row)-1]; got != tt.wantOther {
				t.Errorf("other metadata = %q, want %q", got, tt.wantOther)
			}
		})
	}
}

func TestBOM(t *testing.T) {
	b := renderCSV(t, report("en", nil), nil, WithBOM())
	if !bytes.HasPrefix(b, []byte("\xef\xbb\xbfEvent ID,")) {
		t.Errorf("no BOM: %q", b[:12])
	}
	if b := renderCSV(t, report("en", nil), nil); b[0] != 'E' {
		t.Errorf("BOM without option: %q", b[:3])
	}
}

func TestUnsupportedLocale(t *testing.T) {
	_, err := New(io.Discard, report("xx", nil))
	if audit.ErrorCode(err) != audit.EINVALID {
		t.Fatalf("err = %v", err)
	}
	// An empty locale means the default, en.
	if b := renderCSV(t, report("", nil), nil); string(b) != enHeader {
		t.Errorf("default header %q", b)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

func TestWriteErrors(t *testing.T) {
	boom := errors.New("boom")
	r, err := New(failWriter{boom}, report("en", nil))
	if err != nil {
		t.Fatal(err) // the header is still in the buffer
	}
	if err := r.WriteEvent(&audit.Event{ID: "e"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); !errors.Is(err, boom) {
		t.Fatalf("Close = %v, want %v", err, boom)
	}
	if err := r.WriteEvent(&audit.Event{ID: "e"}); err == nil {
		t.Fatal("write after close succeeded")
	}
}

func TestManyRowsRoundTrip(t *testing.T) {
	events := benchEvents(3000)
	recs := parse(t, renderCSV(t, report("de", mustLoc(t, "Europe/Berlin")), events))
	if len(recs) != len(events)+1 {
		t.Fatalf("%d records for %d events", len(recs), len(events))
	}
	for i, ev := range events {
		if recs[i+1][0] != ev.ID || recs[i+1][6] != ev.Description {
			t.Fatalf("row %d = %v", i, recs[i+1][:7])
		}
	}
}

func benchEvents(n int) []audit.Event {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	events := make([]audit.Event, n)
	for i := range events {
		events[i] = audit.Event{
			ID:           "0b6f1c1e-8a55-4a8e-9c43-" + strings.Repeat("0", 12-len(itoa(i))) + itoa(i),
			OccurredAt:   base.Add(time.Duration(i) * 1234567 * time.Microsecond),
			EventType:    "assessment",
			SubType:      "updated",
			SystemSource: "assessment_service",
			AuditeeID:    "user_" + itoa(i%97),
			Description:  "Assessment status changed from draft to submitted, by reviewer",
			Metadata: map[string]string{
				"entity_id":     "497f6eca-6276-4993-bfeb-53cbbbba6f08",
				"assessment_id": "asm_" + itoa(i),
				"workflow_step": "review",
			},
		}
		if i%10 == 0 {
			events[i].Metadata["ip"] = "10.0.0.1"
			events[i].Metadata["user_agent"] = "curl/8.5"
		}
	}
	return events
}

func itoa(i int) string { return string(appendInt(nil, i)) }

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

// BenchmarkWrite100k writes 100,000 events to io.Discard per iteration.
func BenchmarkWrite100k(b *testing.B) {
	const n = 100_000
	events := benchEvents(n)
	rep := report("en", mustLoc(b, "America/New_York"))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := New(io.Discard, rep)
		if err != nil {
			b.Fatal(err)
		}
		rendertest.Render(b, r, events)
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
