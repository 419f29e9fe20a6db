package ndjson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/render"
	"github.com/auditsentinel/sentinel/internal/render/rendertest"
)

// CompileSchema compiles Schema with format assertions on, so that
// occurred_at must be a date-time.
func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("event.ndjson.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("event.ndjson.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return s
}

func events() []audit.Event {
	base := time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC) // a DST change in Berlin at 01:00Z
	return []audit.Event{
		{ID: "e1", OccurredAt: base, EventType: "task", SubType: "created", SystemSource: "svc",
			AuditeeID: "u1", Description: "ünïcödé \"quoted\"\nline\t\x01 \u2028 end",
			Metadata: map[string]string{"entity_id": "ent-1", "task_id": "", "zeta": "z", "alpha": "a\\b"}},
		{ID: "e2", OccurredAt: base.Add(time.Second + 250*time.Microsecond), EventType: "task", SubType: "deleted",
			SystemSource: "svc", Description: "=1+1"},
		{ID: "e3", OccurredAt: base.Add(time.Hour), EventType: "w", SubType: "s", SystemSource: "x",
			Metadata: map[string]string{"ip": "192.0.2.1"}},
	}
}

func render1(t *testing.T, p audit.ExportParams, loc *time.Location, evs []audit.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	r, err := New(&buf, render.Report{Params: p, Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	rendertest.Render(t, r, evs)
	return buf.Bytes()
}

func lines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("file does not end in a newline: %q", b)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(sc.Text()))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestEveryFieldAndTheSchema(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	schema := compileSchema(t)
	evs := events()
	b := render1(t, audit.ExportParams{FileType: audit.FileNDJSON}, berlin, evs)
	got := lines(t, b)
	if len(got) != len(evs) {
		t.Fatalf("%d lines for %d events", len(got), len(evs))
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for i := 0; sc.Scan(); i++ {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(sc.Text()))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(inst); err != nil {
			t.Errorf("line %d does not validate: %v\n%s", i, err, sc.Text())
		}
	}
	wantTimes := []string{"2026-03-29T01:59:59+01:00", "2026-03-29T03:00:00.00025+02:00", "2026-03-29T03:59:59+02:00"}
	for i, e := range evs {
		l := got[i]
		if l["schema_version"] != json.Number("1") {
			t.Errorf("%s: schema_version %v", e.ID, l["schema_version"])
		}
		want := map[string]string{"id": e.ID, "occurred_at": wantTimes[i], "event_type": e.EventType, "sub_type": e.SubType,
			"system_source": e.SystemSource, "auditee_id": e.AuditeeID, "description": e.Description}
		for k, v := range want {
			if l[k] != v {
				t.Errorf("%s: %s = %q, want %q", e.ID, k, l[k], v)
			}
		}
		md, ok := l["metadata"].(map[string]any)
		if !ok {
			t.Fatalf("%s: metadata %T", e.ID, l["metadata"])
		}
		if len(md) != len(e.Metadata) {
			t.Errorf("%s: metadata %v, want %v", e.ID, md, e.Metadata)
		}
		for k, v := range e.Metadata {
			if md[k] != v {
				t.Errorf("%s: metadata[%s] = %q, want %q", e.ID, k, md[k], v)
			}
		}
		if len(l) != 9 {
			t.Errorf("%s: %d members, want 9: %v", e.ID, len(l), l)
		}
	}
	// Bytes, not just meaning: one line as a reader sees it.
	if first := strings.SplitN(string(b), "\n", 2)[0]; !strings.HasPrefix(first, `{"schema_version":1,"id":"e1","occurred_at":"2026-03-29T01:59:59+01:00",`) ||
		!strings.Contains(first, `"metadata":{"entity_id":"ent-1","task_id":"","alpha":"a\\b","zeta":"z"}}`) ||
		!strings.Contains(first, `\u2028`) {
		t.Errorf("first line %s", first)
	}
}

func TestColumns(t *testing.T) {
	p := audit.ExportParams{FileType: audit.FileNDJSON, Columns: []string{"occurred_at", "event_id", "metadata.entity_id"}}
	got := lines(t, render1(t, p, time.UTC, events()))
	if len(got[0]) != 4 || got[0]["id"] != "e1" || got[0]["occurred_at"] != "2026-03-29T00:59:59Z" {
		t.Errorf("line 1 %v", got[0])
	}
	if md := got[0]["metadata"].(map[string]any); len(md) != 1 || md["entity_id"] != "ent-1" {
		t.Errorf("line 1 metadata %v", md)
	}
	if md := got[2]["metadata"].(map[string]any); len(md) != 0 {
		t.Errorf("line 3 metadata %v, want {} (ip is not chosen)", md)
	}
	p.Columns = []string{"event_id"}
	if got := lines(t, render1(t, p, time.UTC, events())); len(got[0]) != 2 {
		t.Errorf("no metadata column: %v", got[0])
	}
	p.Columns = []string{"metadata"}
	got = lines(t, render1(t, p, time.UTC, events()))
	if md := got[0]["metadata"].(map[string]any); len(md) != 2 || md["zeta"] != "z" || md["alpha"] != `a\b` {
		t.Errorf("the rest of the metadata: %v", md)
	}
}

// The locale never changes a machine format.
func TestLocaleDoesNotChangeNames(t *testing.T) {
	en := render1(t, audit.ExportParams{FileType: audit.FileNDJSON, Locale: "en"}, time.UTC, events())
	de := render1(t, audit.ExportParams{FileType: audit.FileNDJSON, Locale: "de"}, time.UTC, events())
	if !bytes.Equal(en, de) {
		t.Errorf("locale changed the file:\n%s\n%s", en, de)
	}
}

// BenchmarkWriteRow writes the CSV renderer's benchmark row (the two are
// compared: issue 13 wants an NDJSON export at ≥ 0.9× the CSV's rows/s).
func BenchmarkWriteRow(b *testing.B) {
	loc, _ := time.LoadLocation("Europe/Berlin")
	r, err := New(io.Discard, render.Report{Location: loc})
	if err != nil {
		b.Fatal(err)
	}
	rendertest.BenchmarkRows(b, r)
}
