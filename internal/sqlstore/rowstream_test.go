package sqlstore

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// textRow is e's row of StreamEvents' query in RowStreamer's text form,
// from EventValues (whose columns after tenant_id are the query's).
func textRow(t testing.TB, e *audit.Event) [][]byte {
	t.Helper()
	vals, err := EventValues("t1", e)
	if err != nil {
		t.Fatal(err)
	}
	cols := make([][]byte, 0, len(vals)-1)
	for _, v := range vals[1:] {
		switch v := v.(type) {
		case nil:
			cols = append(cols, nil)
		case string:
			cols = append(cols, append([]byte{}, v...))
		case int64:
			cols = append(cols, strconv.AppendInt(nil, v, 10))
		default:
			t.Fatalf("EventValues gave a %T", v)
		}
	}
	return cols
}

func TestEventFromTextRoundTrip(t *testing.T) {
	at := time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)
	base := audit.Event{TenantID: "t1", ID: "e1", OccurredAt: at, EventType: "user", SubType: "login",
		SystemSource: "web", AuditeeID: "u1", Description: "d"}
	with := func(m map[string]string) audit.Event {
		e := base
		e.Metadata = m
		return e
	}
	allColumns := map[string]string{}
	for _, k := range audit.MetadataKeys {
		allColumns[k] = k + "!"
	}
	manyExtra := map[string]string{} // more than decodeFlatObject takes
	for i := range 40 {
		manyExtra["k"+strconv.Itoa(i)] = strconv.Itoa(i)
	}
	for name, e := range map[string]audit.Event{
		"NoMetadata":      base,
		"EmptyFields":     {TenantID: "t1", ID: "e1", OccurredAt: at.Add(-100 * 365 * 24 * time.Hour)},
		"Columns":         with(map[string]string{"entity_id": "ent1", "workflow_step": "review"}),
		"EmptyValues":     with(map[string]string{"tag": "", "other": ""}),
		"ExtraOnly":       with(map[string]string{"ip": "203.0.113.7", "zone": "eu"}),
		"Both":            with(map[string]string{"task_id": "t", "ip": "203.0.113.7"}),
		"EscapedExtra":    with(map[string]string{"note": "a \"quoted\"\nline", "ü": "é"}),
		"AllColumns":      with(allColumns),
		"ManyExtra":       with(manyExtra),
		"UnicodeDescribe": {TenantID: "t1", ID: "ü", OccurredAt: at, Description: "日本語"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := eventFromText("t1", textRow(t, &e))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, e) {
				t.Fatalf("got  %+v\nwant %+v", *got, e)
			}
		})
	}
}

// Stored objects that EventValues does not write but another tool might:
// an event without metadata still reads back with Metadata nil.
func TestEventFromTextExtra(t *testing.T) {
	e := audit.Event{ID: "e1", OccurredAt: time.UnixMicro(1).UTC()}
	for extra, want := range map[string]map[string]string{
		"{}":             nil,
		"{ }":            nil,
		"null":           nil,
		` {"a" : "b"} `:  {"a": "b"},
		`{"a":"b"}`:      {"a": "b"},
		`{"a":"\u00e9"}`: {"a": "é"},
	} {
		cols := textRow(t, &e)
		cols[len(cols)-1] = []byte(extra)
		got, err := eventFromText("t1", cols)
		if err != nil {
			t.Fatalf("%q: %v", extra, err)
		}
		if !reflect.DeepEqual(got.Metadata, want) {
			t.Errorf("%q: Metadata = %#v, want %#v", extra, got.Metadata, want)
		}
	}
}

func TestEventFromTextBadRow(t *testing.T) {
	e := audit.Event{ID: "e1", OccurredAt: time.UnixMicro(1).UTC()}
	for name, mod := range map[string]func([][]byte) [][]byte{
		"ShortRow":     func(c [][]byte) [][]byte { return c[:len(c)-1] },
		"NullTime":     func(c [][]byte) [][]byte { c[colOccurredAt] = nil; return c },
		"BinaryTime":   func(c [][]byte) [][]byte { c[colOccurredAt] = []byte{0, 0, 0, 0, 0, 0, 0, 1}; return c },
		"BadExtraJSON": func(c [][]byte) [][]byte { c[colExtra] = []byte(`{"a":`); return c },
		"ExtraNotText": func(c [][]byte) [][]byte { c[colExtra] = []byte(`{"a":1}`); return c },
	} {
		if ev, err := eventFromText("t1", mod(textRow(t, &e))); err == nil {
			t.Errorf("%s: got %+v, want an error", name, ev)
		}
	}
}

func BenchmarkRowBatch(b *testing.B) {
	e := audit.Event{ID: "evt_000000000001", OccurredAt: time.Now().UTC().Truncate(time.Microsecond), EventType: "assessment",
		SubType: "updated", SystemSource: "api", AuditeeID: "user_17", Description: "Updated the risk rating of the assessment",
		Metadata: map[string]string{"entity_id": "ent_1", "assessment_id": "asm_2", "task_id": "tsk_3", "tag": "kyc", "ip": "203.0.113.7"}}
	cols := textRow(b, &e)
	var rb rowBatch
	b.ReportAllocs()
	for b.Loop() {
		if err := rb.add(cols); err != nil {
			b.Fatal(err)
		}
		if len(rb.rows) == batchRows {
			rb.take()
		}
	}
}

// eventFromText decodes one row through a rowBatch, as StreamEvents does.
func eventFromText(tenantID string, cols [][]byte) (*audit.Event, error) {
	var b rowBatch
	if err := b.add(cols); err != nil {
		return nil, err
	}
	rows := b.take()
	return rows[0].Event(tenantID)
}

// A batch's rows share one arena: each must still read back as its own
// event, and a batch taken must not change when the next one is built.
func TestRowBatchKeepsRowsApart(t *testing.T) {
	var b rowBatch
	var want []audit.Event
	for i := range 3 * batchRows / 2 {
		e := audit.Event{TenantID: "t1", ID: "e" + strconv.Itoa(i), OccurredAt: time.UnixMicro(int64(i)).UTC(),
			EventType: "type" + strconv.Itoa(i%7), Description: strings.Repeat("d", i%13)}
		if i%3 == 0 {
			e.Metadata = map[string]string{"tag": "t" + strconv.Itoa(i), "ip": strconv.Itoa(i)}
		}
		want = append(want, e)
	}
	first := want[:batchRows]
	for i := range first {
		if err := b.add(textRow(t, &first[i])); err != nil {
			t.Fatal(err)
		}
	}
	got := b.take()
	for i := range want[batchRows:] {
		if err := b.add(textRow(t, &want[batchRows+i])); err != nil {
			t.Fatal(err)
		}
	}
	got = append(got, b.take()...)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range got {
		ev, err := got[i].Event("t1")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*ev, want[i]) {
			t.Fatalf("row %d: got  %+v\nwant %+v", i, *ev, want[i])
		}
	}
}
