package parquet_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/demo"
	"github.com/auditsentinel/sentinel/internal/render"
	"github.com/auditsentinel/sentinel/internal/render/parquet"
	"github.com/auditsentinel/sentinel/internal/render/parquet/parquettest"
	"github.com/auditsentinel/sentinel/internal/render/rendertest"
)

func events() []audit.Event {
	base := time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC)
	return []audit.Event{
		{ID: "e1", OccurredAt: base.Add(123456 * time.Microsecond), EventType: "task", SubType: "created", SystemSource: "svc",
			AuditeeID: "u1", Description: "ünïcödé \"quoted\"\nline\t\x01 \u2028 end ✓",
			Metadata: map[string]string{"entity_id": "ent-1", "task_id": "", "zeta": "z", "alpha": "a\\b", "région": "Île-de-France"}},
		{ID: "e2", OccurredAt: base.Add(time.Second + 250*time.Microsecond), EventType: "task", SubType: "deleted",
			SystemSource: "svc", Description: "=1+1"},
		{ID: "e3", OccurredAt: time.Date(1970, 1, 1, 0, 0, 0, 1000, time.UTC), EventType: "w", SubType: "s", SystemSource: "x",
			Metadata: map[string]string{"ip": "192.0.2.1", "workflow_step": "étape 2"}},
	}
}

func render1(t testing.TB, p audit.ExportParams, evs []audit.Event, o parquet.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	rep := render.Report{ExportID: "exp-1", Params: p, Location: time.UTC,
		AsOf: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), AsOfPosition: "42"}
	r, err := parquet.New(&buf, rep, o)
	if err != nil {
		t.Fatal(err)
	}
	rendertest.Render(t, r, evs)
	return buf.Bytes()
}

// want is e as the file's row of every column, by Parquet column name.
func want(e audit.Event) map[string]any {
	w := map[string]any{
		"id": e.ID, "occurred_at": e.OccurredAt.UTC(), "event_type": e.EventType, "sub_type": e.SubType,
		"system_source": e.SystemSource, "auditee_id": e.AuditeeID, "description": e.Description,
	}
	rest := map[string]string{}
	for k, v := range e.Metadata {
		if !audit.IsMetadataKey(k) {
			rest[k] = v
		}
	}
	w["metadata"] = rest
	for _, k := range audit.MetadataKeys {
		w["metadata_"+k] = nil
		if v, ok := e.Metadata[k]; ok {
			w["metadata_"+k] = v
		}
	}
	return w
}

func compare(t *testing.T, f *parquettest.File, evs []audit.Event, cols []string) {
	t.Helper()
	if !slices.Equal(f.Columns(), cols) {
		t.Fatalf("columns %q, want %q", f.Columns(), cols)
	}
	if len(f.Rows) != len(evs) {
		t.Fatalf("%d rows, want %d", len(f.Rows), len(evs))
	}
	for i, e := range evs {
		w := want(e)
		for _, c := range cols {
			got, exp := f.Rows[i][c], w[c]
			if m, ok := exp.(map[string]string); ok {
				if g, _ := got.(map[string]string); !maps.Equal(g, m) {
					t.Errorf("%s %s: %#v, want %#v", e.ID, c, got, exp)
				}
				continue
			}
			if tm, ok := exp.(time.Time); ok {
				if g, _ := got.(time.Time); !g.Equal(tm) {
					t.Errorf("%s %s: %v, want %v", e.ID, c, got, exp)
				}
				continue
			}
			if got != exp {
				t.Errorf("%s %s: %#v, want %#v", e.ID, c, got, exp)
			}
		}
	}
}

func allColumns() []string {
	out := make([]string, len(audit.ColumnNames))
	for i := range out {
		out[i] = parquet.ColumnName(i)
	}
	return out
}

// TestReadBackByArrow writes events with parquet-go and reads them back
// with arrow-go: every value, the types and the key-value metadata.
func TestReadBackByArrow(t *testing.T) {
	evs := events()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	p := audit.ExportParams{FileType: audit.FileParquet, Locale: "de", Timezone: "Europe/Berlin",
		Filter: audit.Filter{EventTypes: []string{"task", "w"}, RangeStart: &start,
			Metadata: map[string][]string{"entity_id": {"ent-1"}}}}
	f := parquettest.Read(t, render1(t, p, evs, parquet.Options{}))
	compare(t, f, evs, allColumns())

	ts, ok := f.Schema.Fields()[1].Type.(*arrow.TimestampType)
	if !ok || ts.Unit != arrow.Microsecond || ts.TimeZone != "UTC" {
		t.Errorf("occurred_at is %s, want a UTC-adjusted microsecond timestamp", f.Schema.Fields()[1].Type)
	}
	for _, fd := range f.Schema.Fields() {
		if nullable := fd.Name != "metadata" && fd.Name[:min(len(fd.Name), 9)] == "metadata_"; fd.Nullable != nullable {
			t.Errorf("column %s nullable %v", fd.Name, fd.Nullable)
		}
	}
	var filters audit.ExportParams
	if err := json.Unmarshal([]byte(f.Meta[parquet.MetaFilters]), &filters); err != nil ||
		filters.Hash() != p.Canonical().Hash() {
		t.Errorf("filters %s (%v), want the export's params", f.Meta[parquet.MetaFilters], err)
	}
	for k, v := range map[string]string{
		parquet.MetaSchemaVersion: "1", parquet.MetaTimezone: "Europe/Berlin", parquet.MetaExportID: "exp-1",
		parquet.MetaAsOf: "2026-04-01T00:00:00Z", parquet.MetaAsOfPosition: "42",
	} {
		if f.Meta[k] != v {
			t.Errorf("key-value metadata %s = %q, want %q", k, f.Meta[k], v)
		}
	}
	// The locale never renames a column, and the file says it is zstd.
	if !bytes.Contains(render1(t, audit.ExportParams{Locale: "fr"}, evs, parquet.Options{}), []byte("occurred_at")) {
		t.Error("locale changed the column names")
	}
}

// TestColumns: columns= writes those columns only, in the order asked.
func TestColumns(t *testing.T) {
	evs := events()
	p := audit.ExportParams{Columns: []string{"metadata", "description", "metadata.workflow_step", "event_id", "occurred_at"}}
	f := parquettest.Read(t, render1(t, p, evs, parquet.Options{}))
	compare(t, f, evs, []string{"metadata", "description", "metadata_workflow_step", "id", "occurred_at"})
}

// TestRowGroupsBoundMemory writes 200,000 rows: they go out in row groups
// of RowGroupRows, and the writer's live heap peaks no higher in the
// second half of the rows than in the first, so a worker's memory does not
// grow with the export.
func TestRowGroupsBoundMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200,000 rows")
	}
	const n = 200_000
	var buf bytes.Buffer
	r, err := parquet.New(&buf, render.Report{Params: audit.ExportParams{}}, parquet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc - uint64(buf.Cap()) // the file itself is the test's, not the writer's
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	var early, late uint64
	for i := range n {
		row := audit.EventRow{
			ID: fmt.Sprintf("%08d-7c1e-4a1b-9f00-%012d", i, i*7919), OccurredAt: base + int64(i)*1_000_003,
			EventType: "task", SubType: []string{"created", "updated", "deleted"}[i%3], SystemSource: "svc",
			AuditeeID: "user-" + strconv.Itoa(i%977), Description: "task " + strconv.Itoa(i) + " changed by someone",
			Extra: `{"ip":"192.0.2.` + strconv.Itoa(i%250) + `"}`,
		}
		row.Meta[0], row.HasMeta = "ent-"+strconv.Itoa(i%5000), 1
		if err := r.WriteRow(&row); err != nil {
			t.Fatal(err)
		}
		// The live heap at eight points of each row group (it rises and
		// falls with each column's pages): the peak in the first half of
		// the rows against the peak in the second.
		if i%(parquet.RowGroupRows/8) == parquet.RowGroupRows/8-1 {
			if h := heap(); i < n/2 {
				early = max(early, h)
			} else {
				late = max(late, h)
			}
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	f := parquettest.Read(t, buf.Bytes())
	if want := (n + parquet.RowGroupRows - 1) / parquet.RowGroupRows; f.RowGroups != want || len(f.Rows) != n {
		t.Errorf("%d row groups of %d rows, want %d", f.RowGroups, len(f.Rows), want)
	}
	// 16 MiB: about 11 are the writer's (a row group of these small rows,
	// each column's page buffer). It was 19 while zstd's encoder kept its
	// default 8 MiB window for pages of at most 256 KiB.
	if late > early+4<<20 || late > 16<<20 {
		t.Errorf("live heap peaked at %d MiB in the first half of the rows and at %d MiB in the second", early>>20, late>>20)
	}
	t.Logf("%d rows: %d bytes (%.1f a row), heap %d → %d KiB", n, buf.Len(), float64(buf.Len())/n, early>>10, late>>10)
}

// BenchmarkWriteRow writes the demo generator's events (realistic text
// and metadata), reporting the file's bytes per event.
func BenchmarkWriteRow(b *testing.B) {
	g := demo.New(demo.Config{Seed: 7, TenantID: "big", Now: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), Days: 30, Events: 50_000})
	var rows []audit.EventRow
	for e, ok := g.Next(); ok; e, ok = g.Next() {
		r, err := audit.RowOf(e)
		if err != nil {
			b.Fatal(err)
		}
		rows = append(rows, r)
	}
	var c render.Counter
	r, err := parquet.New(&c, render.Report{}, parquet.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := r.WriteRow(&rows[i%len(rows)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(c.N)/float64(b.N), "B/event")
}
