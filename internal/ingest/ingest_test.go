package ingest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/ingest"
)

var now = time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)

func limits() ingest.Limits { return ingest.Limits{Now: func() time.Time { return now }} }

// valid returns the fields of a valid event; tests change one thing.
func valid() map[string]any {
	return map[string]any{
		"occurred_at":   "2026-04-10T08:30:00.123456789+02:00",
		"event_type":    "assessment",
		"sub_type":      "created",
		"system_source": "assessment_service",
		"auditee_id":    "user-1",
		"description":   "Zoë Müller created an assessment",
		"metadata":      map[string]any{"entity_id": "497f6eca-6276-4993-bfeb-53cbbbba6f08", "ip": "10.0.0.1"},
	}
}

func with(changes map[string]any) map[string]any {
	m := valid()
	for k, v := range changes {
		if v == deleted {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return m
}

var deleted = &struct{}{}

func body(events ...any) string {
	b, err := json.Marshal(map[string]any{"events": events})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func ndjson(events ...any) string {
	var b strings.Builder
	for _, e := range events {
		if s, ok := e.(string); ok {
			b.WriteString(s + "\n")
			continue
		}
		j, err := json.Marshal(e)
		if err != nil {
			panic(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

func problemsOf(t *testing.T, err error) []ingest.Problem {
	t.Helper()
	e := audit.AsError(err)
	if e == nil || e.Code != audit.EINVALID || e.Param != "events" {
		t.Fatalf("want EINVALID on events, got %v", err)
	}
	ps, ok := e.Details.([]ingest.Problem)
	if !ok {
		t.Fatalf("details are %T, want []ingest.Problem", e.Details)
	}
	return ps
}

// TestEventRules runs every per-event rule through both formats.
func TestEventRules(t *testing.T) {
	long := func(n int, c string) string { return strings.Repeat(c, n) }
	bigMeta := map[string]any{}
	for i := range 65 {
		bigMeta[fmt.Sprintf("k%d", i)] = "v"
	}
	okMeta := map[string]any{}
	for i := range 64 {
		okMeta[fmt.Sprintf("k%d", i)] = "v"
	}
	tests := []struct {
		name   string
		event  any
		field  string // "" with ok = the event is valid
		reason string // a substring of the reason
		ok     bool
	}{
		{name: "valid", event: valid(), ok: true},
		{name: "minimal", event: with(map[string]any{"auditee_id": deleted, "description": deleted, "metadata": deleted}), ok: true},
		{name: "nulls for optional fields", event: with(map[string]any{"auditee_id": nil, "description": nil, "metadata": nil, "id": nil}), ok: true},
		{name: "not an object", event: []any{1}, reason: "must be a JSON object"},
		{name: "tenant_id refused", event: with(map[string]any{"tenant_id": "other"}), field: "tenant_id", reason: "unknown field"},
		{name: "unknown field", event: with(map[string]any{"colour": "red"}), field: "colour", reason: "unknown field"},

		{name: "client id", event: with(map[string]any{"id": "evt_2026-04-10:0001.A"}), ok: true},
		{name: "id too long", event: with(map[string]any{"id": long(129, "a")}), field: "id", reason: "limit is 128"},
		{name: "id 128 chars", event: with(map[string]any{"id": long(128, "a")}), ok: true},
		{name: "id bad character", event: with(map[string]any{"id": "a/b"}), field: "id", reason: "ids use only"},
		{name: "id not a string", event: with(map[string]any{"id": 7}), field: "id", reason: "must be a string, not a number"},

		{name: "occurred_at missing", event: with(map[string]any{"occurred_at": deleted}), field: "occurred_at", reason: "is required"},
		{name: "occurred_at null", event: with(map[string]any{"occurred_at": nil}), field: "occurred_at", reason: "is required"},
		{name: "occurred_at empty", event: with(map[string]any{"occurred_at": ""}), field: "occurred_at", reason: "is required"},
		{name: "occurred_at without offset", event: with(map[string]any{"occurred_at": "2026-04-10T08:30:00"}), field: "occurred_at", reason: "RFC 3339"},
		{name: "occurred_at a date", event: with(map[string]any{"occurred_at": "2026-04-10"}), field: "occurred_at", reason: "RFC 3339"},
		{name: "occurred_at a number", event: with(map[string]any{"occurred_at": 1712736000}), field: "occurred_at", reason: "must be a string"},
		{name: "occurred_at before year 1 in UTC", event: with(map[string]any{"occurred_at": "0000-01-01T00:00:00+23:59"}), field: "occurred_at", reason: "year -1 in UTC"},
		{name: "occurred_at year 0", event: with(map[string]any{"occurred_at": "0000-06-01T00:00:00Z"}), field: "occurred_at", reason: "within years 1 to 9999"},
		{name: "occurred_at year 1", event: with(map[string]any{"occurred_at": "0001-01-01T00:00:00Z"}), ok: true},
		{name: "event_type unpaired surrogate", event: with(map[string]any{"event_type": json.RawMessage(`"a\ud800b"`)}), field: "event_type", reason: "not valid Unicode"},
		{name: "description U+FFFD sent as such", event: with(map[string]any{"description": "a\ufffdb"}), ok: true},
		{name: "occurred_at Z no millis", event: with(map[string]any{"occurred_at": "2026-04-10T00:00:00Z"}), ok: true},
		{name: "occurred_at 24h ahead", event: with(map[string]any{"occurred_at": now.Add(24 * time.Hour).Format(time.RFC3339Nano)}), ok: true},
		{name: "occurred_at far future", event: with(map[string]any{"occurred_at": now.Add(24*time.Hour + time.Second).Format(time.RFC3339)}), field: "occurred_at", reason: "future"},

		{name: "event_type missing", event: with(map[string]any{"event_type": deleted}), field: "event_type", reason: "is required"},
		{name: "event_type empty", event: with(map[string]any{"event_type": ""}), field: "event_type", reason: "is required"},
		{name: "event_type too long", event: with(map[string]any{"event_type": long(129, "é")}), field: "event_type", reason: "limit is 128"},
		{name: "event_type 128 runes", event: with(map[string]any{"event_type": long(128, "é")}), ok: true},
		{name: "event_type control char", event: with(map[string]any{"event_type": "a\x00b"}), field: "event_type", reason: "non-printable"},
		{name: "event_type newline", event: with(map[string]any{"event_type": "a\nb"}), field: "event_type", reason: "non-printable"},
		{name: "event_type padded", event: with(map[string]any{"event_type": " assessment"}), field: "event_type", reason: "white space"},
		{name: "event_type an array", event: with(map[string]any{"event_type": []string{"a"}}), field: "event_type", reason: "not an array"},
		{name: "sub_type missing", event: with(map[string]any{"sub_type": deleted}), field: "sub_type", reason: "is required"},
		{name: "system_source missing", event: with(map[string]any{"system_source": deleted}), field: "system_source", reason: "is required"},
		{name: "system_source too long", event: with(map[string]any{"system_source": long(129, "s")}), field: "system_source", reason: "limit is 128"},
		{name: "auditee_id too long", event: with(map[string]any{"auditee_id": long(129, "u")}), field: "auditee_id", reason: "limit is 128"},

		{name: "description 10000 chars", event: with(map[string]any{"description": long(10_000, "ü")}), ok: true},
		{name: "description too long", event: with(map[string]any{"description": long(10_001, "x")}), field: "description", reason: "limit is 10000"},
		{name: "description multi-line", event: with(map[string]any{"description": "line 1\r\nline 2\tend"}), ok: true},
		{name: "description NUL", event: with(map[string]any{"description": "a\x00"}), field: "description", reason: "control character"},

		{name: "metadata not an object", event: with(map[string]any{"metadata": []string{"a"}}), field: "metadata", reason: "must be an object"},
		{name: "metadata 64 keys", event: with(map[string]any{"metadata": okMeta}), ok: true},
		{name: "metadata 65 keys", event: with(map[string]any{"metadata": bigMeta}), field: "metadata", reason: "limit is 64"},
		{name: "metadata key upper case", event: with(map[string]any{"metadata": map[string]any{"Entity_ID": "x"}}), field: "metadata.Entity_ID", reason: "not a valid key"},
		{name: "metadata key too long", event: with(map[string]any{"metadata": map[string]any{long(65, "k"): "x"}}), field: "metadata." + long(65, "k"), reason: "not a valid key"},
		{name: "metadata key 64 chars", event: with(map[string]any{"metadata": map[string]any{long(64, "k"): "x"}}), ok: true},
		{name: "metadata key empty", event: with(map[string]any{"metadata": map[string]any{"": "x"}}), field: "metadata.", reason: "not a valid key"},
		{name: "metadata key punctuation", event: with(map[string]any{"metadata": map[string]any{"a.b-c_d9": "x"}}), ok: true},
		{name: "metadata value number", event: with(map[string]any{"metadata": map[string]any{"tag": 5}}), field: "metadata.tag", reason: "must be a string"},
		{name: "metadata value null", event: with(map[string]any{"metadata": map[string]any{"tag": nil}}), field: "metadata.tag", reason: "must be a string"},
		{name: "metadata value too long", event: with(map[string]any{"metadata": map[string]any{"tag": long(1025, "v")}}), field: "metadata.tag", reason: "limit is 1024"},
		{name: "metadata value 1024", event: with(map[string]any{"metadata": map[string]any{"tag": long(1024, "v")}}), ok: true},
		{name: "metadata value control", event: with(map[string]any{"metadata": map[string]any{"tag": "a\tb"}}), field: "metadata.tag", reason: "non-printable"},
	}
	for _, tt := range tests {
		for _, format := range []string{"json", "ndjson"} {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				events, err := decode(format, tt.event)
				if tt.ok {
					if err != nil {
						t.Fatalf("want valid, got %v (%+v)", err, audit.AsError(err).Details)
					}
					if len(events) != 1 {
						t.Fatalf("got %d events", len(events))
					}
					return
				}
				ps := problemsOf(t, err)
				if len(ps) != 1 {
					t.Fatalf("want one problem, got %+v", ps)
				}
				p := ps[0]
				if p.Index != 0 || p.Field != tt.field || !strings.Contains(p.Reason, tt.reason) {
					t.Fatalf("got %+v, want field %q reason containing %q", p, tt.field, tt.reason)
				}
				if msg := audit.ErrorMessage(err); msg != "1 of 1 events are invalid" {
					t.Errorf("message %q", msg)
				}
			})
		}
	}
}

func decode(format string, events ...any) ([]audit.Event, error) {
	if format == "json" {
		return ingest.DecodeJSON(strings.NewReader(body(events...)), limits())
	}
	var out []audit.Event
	_, err := ingest.DecodeNDJSON(strings.NewReader(ndjson(events...)), limits(), func(c []audit.Event) error {
		out = append(out, c...)
		return nil
	})
	return out, err
}

func TestNormalisation(t *testing.T) {
	for _, format := range []string{"json", "ndjson"} {
		t.Run(format, func(t *testing.T) {
			events, err := decode(format, valid(), with(map[string]any{"id": "client-1"}))
			if err != nil {
				t.Fatal(err)
			}
			e := events[0]
			want := time.Date(2026, 4, 10, 6, 30, 0, 123456000, time.UTC)
			if !e.OccurredAt.Equal(want) || e.OccurredAt.Location() != time.UTC {
				t.Errorf("occurred_at %v, want %v in UTC truncated to µs", e.OccurredAt, want)
			}
			if e.TenantID != "" {
				t.Errorf("tenant %q taken from the body", e.TenantID)
			}
			id, err := uuid.Parse(e.ID)
			if err != nil || id.Version() != 7 {
				t.Errorf("generated id %q is not a UUIDv7", e.ID)
			}
			if events[1].ID != "client-1" {
				t.Errorf("client id %q not kept", events[1].ID)
			}
			if e.Metadata["entity_id"] != "497f6eca-6276-4993-bfeb-53cbbbba6f08" || e.Metadata["ip"] != "10.0.0.1" {
				t.Errorf("metadata %v", e.Metadata)
			}
			if e.EventType != "assessment" || e.SubType != "created" || e.SystemSource != "assessment_service" ||
				e.AuditeeID != "user-1" || e.Description != "Zoë Müller created an assessment" {
				t.Errorf("fields %+v", e)
			}
		})
	}
}

func TestGeneratedIDsAreTimeOrdered(t *testing.T) {
	events := make([]any, 500)
	for i := range events {
		events[i] = valid()
	}
	got, err := decode("json", events...)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(got); i++ {
		if got[i].ID <= got[i-1].ID {
			t.Fatalf("id %d %s not after %s", i, got[i].ID, got[i-1].ID)
		}
	}
}

// TestAllProblemsCollected checks that a batch reports every problem of
// every event, with indexes, and the N of M message.
func TestAllProblemsCollected(t *testing.T) {
	events := []any{
		valid(),
		with(map[string]any{"event_type": deleted, "sub_type": ""}),
		valid(),
		with(map[string]any{"tenant_id": "t2"}),
		with(map[string]any{"id": "dup"}),
		with(map[string]any{"id": "dup"}),
	}
	for _, format := range []string{"json", "ndjson"} {
		t.Run(format, func(t *testing.T) {
			_, err := decode(format, events...)
			ps := problemsOf(t, err)
			want := []ingest.Problem{
				{Index: 1, Field: "event_type", Reason: "is required"},
				{Index: 1, Field: "sub_type", Reason: "is required"},
				{Index: 3, Field: "tenant_id", Reason: "unknown field: the tenant is the API key's, never the body's"},
				{Index: 5, Field: "id", Reason: "repeats the id of event 4 in the same batch"},
			}
			if fmt.Sprint(ps) != fmt.Sprint(want) {
				t.Fatalf("problems\n got %+v\nwant %+v", ps, want)
			}
			if msg := audit.ErrorMessage(err); msg != "3 of 6 events are invalid" {
				t.Errorf("message %q", msg)
			}
			b, _ := json.Marshal(ps[0])
			if string(b) != `{"index":1,"field":"event_type","reason":"is required"}` {
				t.Errorf("problem JSON %s", b)
			}
		})
	}
}

func TestMaxProblems(t *testing.T) {
	events := make([]any, 10)
	for i := range events {
		events[i] = with(map[string]any{"event_type": deleted})
	}
	l := limits()
	l.MaxProblems = 3
	_, err := ingest.DecodeJSON(strings.NewReader(body(events...)), l)
	ps := problemsOf(t, err)
	if len(ps) != 3 {
		t.Fatalf("%d problems listed, want 3", len(ps))
	}
	if msg := audit.ErrorMessage(err); msg != "10 of 10 events are invalid (the first 3 problems are listed)" {
		t.Errorf("message %q", msg)
	}
}

// TestDuplicateIDs: a repeated id is found whatever its form. Canonical
// UUIDs are remembered apart from other ids (as 16 bytes); another spelling
// of one is another id.
func TestDuplicateIDs(t *testing.T) {
	u := "0190a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b"
	idOf := []string{u, "evt-1", strings.ToUpper(u), u, "evt-1", strings.ToUpper(u), "{" + u + "}"}
	var events []any
	for _, id := range idOf {
		events = append(events, with(map[string]any{"id": id}))
	}
	_, err := ingest.DecodeNDJSON(strings.NewReader(ndjson(events...)), limits(), func([]audit.Event) error { return nil })
	want := []ingest.Problem{
		{Index: 3, Field: "id", Reason: "repeats the id of event 0 in the same batch"},
		{Index: 4, Field: "id", Reason: "repeats the id of event 1 in the same batch"},
		{Index: 5, Field: "id", Reason: "repeats the id of event 2 in the same batch"},
		{Index: 6, Field: "id", Reason: `contains '{'; ids use only A-Z a-z 0-9 _ . : -`},
	}
	if ps := problemsOf(t, err); !reflect.DeepEqual(ps, want) {
		t.Fatalf("problems\n%+v\nwant\n%+v", ps, want)
	}
}

func TestDuplicateFields(t *testing.T) {
	raw := `{"events":[{"occurred_at":"2026-04-10T00:00:00Z","event_type":"a","event_type":"b","sub_type":"c","system_source":"d","metadata":{"tag":"x","tag":"y"}}]}`
	_, err := ingest.DecodeJSON(strings.NewReader(raw), limits())
	ps := problemsOf(t, err)
	if len(ps) != 2 || ps[0].Field != "event_type" || ps[1].Field != "metadata.tag" {
		t.Fatalf("problems %+v", ps)
	}
}

// TestJSONBody covers the envelope: malformed JSON, unknown fields, sizes.
func TestJSONBody(t *testing.T) {
	ev := body(valid())
	tests := []struct {
		name  string
		body  string
		lim   func(*ingest.Limits)
		code  string
		param string
		msg   string // regexp on the message
	}{
		{name: "ok", body: ev},
		{name: "empty body", body: "", code: audit.EINVALID, param: "body", msg: `line 1, column 1: unexpected end of JSON input`},
		{name: "truncated", body: ev[:len(ev)-5], code: audit.EINVALID, param: "body", msg: `unexpected end of JSON input`},
		{name: "syntax error line 3", body: "{\n\"events\": [\n  {\"event_type\": x}]}", code: audit.EINVALID, param: "body", msg: `^malformed JSON at line 3, column 18: invalid character 'x'`},
		{name: "not an object", body: `[1]`, code: audit.EINVALID, param: "body", msg: `must be a JSON object`},
		{name: "no events", body: `{}`, code: audit.EINVALID, param: "events", msg: `needs "events"`},
		{name: "events null", body: `{"events":null}`, code: audit.EINVALID, param: "events", msg: `must be an array`},
		{name: "empty events", body: `{"events":[]}`, code: audit.EINVALID, param: "events", msg: `no events`},
		{name: "events twice", body: `{"events":[],"events":[]}`, code: audit.EINVALID, param: "events", msg: `more than once`},
		{name: "top-level tenant_id", body: `{"tenant_id":"t","events":[]}`, code: audit.EINVALID, param: "tenant_id", msg: `unknown field "tenant_id"`},
		{name: "top-level unknown", body: `{"events":[],"x":1}`, code: audit.EINVALID, param: "x", msg: `unknown field "x"`},
		{name: "trailing data", body: ev + `{}`, code: audit.EINVALID, param: "body", msg: `column 304: invalid character .{. after top-level value`},
		{name: "trailing space ok", body: ev + "\n\n  "},
		{name: "body over limit", body: ev, lim: func(l *ingest.Limits) { l.MaxBytes = 64 }, code: audit.ETOOLARGE, param: "body", msg: `larger than the 64 bytes limit`},
		{name: "body at limit", body: ev, lim: func(l *ingest.Limits) { l.MaxBytes = int64(len(ev)) }},
		{name: "too many events", body: body(valid(), valid(), valid()), lim: func(l *ingest.Limits) { l.MaxEvents = 2 }, code: audit.ETOOLARGE, param: "events", msg: `limit of 2 events`},
		{name: "events at limit", body: body(valid(), valid()), lim: func(l *ingest.Limits) { l.MaxEvents = 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := limits()
			if tt.lim != nil {
				tt.lim(&l)
			}
			_, err := ingest.DecodeJSON(strings.NewReader(tt.body), l)
			checkErr(t, err, tt.code, tt.param, tt.msg)
		})
	}
}

func TestDefaultLimitsDocumented(t *testing.T) {
	j, n := ingest.DefaultJSONLimits(), ingest.DefaultNDJSONLimits()
	if j.MaxEvents != 1000 || j.MaxBytes != 10<<20 {
		t.Errorf("JSON limits %+v", j)
	}
	if n.MaxEvents != 100_000 || n.MaxBytes != 64<<20 || n.ChunkEvents != 1000 || n.MaxLineBytes != 1<<20 {
		t.Errorf("NDJSON limits %+v", n)
	}
	big := `{"events":[` + strings.Repeat(" ", 10<<20) + `]}`
	_, err := ingest.DecodeJSON(strings.NewReader(big), ingest.Limits{})
	checkErr(t, err, audit.ETOOLARGE, "body", `larger than the 10 MiB limit`)
}

func checkErr(t *testing.T, err error, code, param, msg string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	e := audit.AsError(err)
	if e == nil {
		t.Fatalf("want %s error, got %v", code, err)
	}
	if e.Code != code || e.Param != param || !regexp.MustCompile(msg).MatchString(e.Message) {
		t.Fatalf("got code=%s param=%s message=%q; want code=%s param=%s message~%q", e.Code, e.Param, e.Message, code, param, msg)
	}
}

// TestNDJSONBody covers the NDJSON envelope and limits.
func TestNDJSONBody(t *testing.T) {
	line := ndjson(valid())
	tests := []struct {
		name  string
		body  string
		lim   func(*ingest.Limits)
		code  string
		param string
		msg   string
		n     int
	}{
		{name: "ok", body: line + line, n: 2},
		{name: "no final newline", body: line + strings.TrimSuffix(line, "\n"), n: 2},
		{name: "CRLF and blank lines", body: strings.ReplaceAll(line, "\n", "\r\n") + "\n  \n" + line, n: 2},
		{name: "empty", body: "", code: audit.EINVALID, param: "events", msg: "no events"},
		{name: "blank only", body: "\n\n", code: audit.EINVALID, param: "events", msg: "no events"},
		{name: "body over limit", body: line + line, lim: func(l *ingest.Limits) { l.MaxBytes = int64(len(line)) + 10 }, code: audit.ETOOLARGE, param: "body", msg: "larger than the"},
		{name: "body at limit", body: line + line, lim: func(l *ingest.Limits) { l.MaxBytes = int64(2 * len(line)) }, n: 2},
		{name: "line over limit", body: line + line, lim: func(l *ingest.Limits) { l.MaxLineBytes = len(line) - 2 }, code: audit.ETOOLARGE, param: "body", msg: "^line 1 is longer than"},
		{name: "line at limit", body: line + line, lim: func(l *ingest.Limits) { l.MaxLineBytes = len(line) - 1 }, n: 2},
		{name: "too many events", body: line + line + line, lim: func(l *ingest.Limits) { l.MaxEvents = 2 }, code: audit.ETOOLARGE, param: "events", msg: "limit of 2 events"},
		{name: "events at limit", body: line + line, lim: func(l *ingest.Limits) { l.MaxEvents = 2 }, n: 2},
		{name: "two objects on a line", body: strings.TrimSuffix(line, "\n") + line, code: audit.EINVALID, param: "events", msg: "1 of 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := limits()
			if tt.lim != nil {
				tt.lim(&l)
			}
			got := 0
			n, err := ingest.DecodeNDJSON(strings.NewReader(tt.body), l, func(c []audit.Event) error {
				got += len(c)
				return nil
			})
			checkErr(t, err, tt.code, tt.param, tt.msg)
			if err == nil && (n != tt.n || got != tt.n) {
				t.Fatalf("handed %d (returned %d), want %d", got, n, tt.n)
			}
		})
	}
}

func TestNDJSONMalformedLine(t *testing.T) {
	in := ndjson(valid(), "", `{"event_type": tru}`, valid(), `{"a":1`)
	_, err := ingest.DecodeNDJSON(strings.NewReader(in), limits(), func([]audit.Event) error { return nil })
	ps := problemsOf(t, err)
	if len(ps) != 2 {
		t.Fatalf("problems %+v", ps)
	}
	if ps[0].Index != 1 || !strings.HasPrefix(ps[0].Reason, "line 3: malformed JSON at column 19") {
		t.Errorf("first %+v", ps[0])
	}
	if ps[1].Index != 3 || !strings.HasPrefix(ps[1].Reason, "line 5: malformed JSON") {
		t.Errorf("second %+v", ps[1])
	}
	if msg := audit.ErrorMessage(err); msg != "2 of 4 events are invalid" {
		t.Errorf("message %q", msg)
	}
}

// TestNDJSONChunks checks chunking and that no chunk is handed over once a
// problem is seen, while the rest is still validated.
func TestNDJSONChunks(t *testing.T) {
	l := limits()
	l.ChunkEvents = 3
	var in strings.Builder
	for i := range 10 {
		e := valid()
		if i == 7 {
			e["sub_type"] = ""
		}
		if i == 9 {
			e["colour"] = "red"
		}
		in.WriteString(ndjson(e))
	}
	var sizes []int
	n, err := ingest.DecodeNDJSON(strings.NewReader(in.String()), l, func(c []audit.Event) error {
		sizes = append(sizes, len(c))
		return nil
	})
	ps := problemsOf(t, err)
	if len(ps) != 2 || ps[0].Index != 7 || ps[1].Index != 9 {
		t.Fatalf("problems %+v", ps)
	}
	// Chunks [0-2] and [3-5] went out before event 7 was read; nothing after.
	if fmt.Sprint(sizes) != "[3 3]" || n != 6 {
		t.Fatalf("chunks %v, n %d", sizes, n)
	}

	sizes = nil
	in.Reset()
	for range 10 {
		in.WriteString(ndjson(valid()))
	}
	n, err = ingest.DecodeNDJSON(strings.NewReader(in.String()), l, func(c []audit.Event) error {
		sizes = append(sizes, len(c))
		for _, e := range c {
			if e.ID == "" {
				t.Error("event without id")
			}
		}
		return nil
	})
	if err != nil || fmt.Sprint(sizes) != "[3 3 3 1]" || n != 10 {
		t.Fatalf("chunks %v n %d err %v", sizes, n, err)
	}
}

func TestNDJSONBatchError(t *testing.T) {
	boom := errors.New("boom")
	l := limits()
	l.ChunkEvents = 1
	_, err := ingest.DecodeNDJSON(strings.NewReader(ndjson(valid(), valid())), l, func([]audit.Event) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the batch error", err)
	}
}

func TestReadError(t *testing.T) {
	broken := io.MultiReader(strings.NewReader(ndjson(valid())), iotestErr{})
	_, err := ingest.DecodeNDJSON(broken, limits(), func([]audit.Event) error { return nil })
	if !errors.Is(err, errBroken) || audit.ErrorCode(err) != audit.EINTERNAL {
		t.Fatalf("got %v", err)
	}
	_, err = ingest.DecodeJSON(iotestErr{}, limits())
	if !errors.Is(err, errBroken) {
		t.Fatalf("got %v", err)
	}
}

var errBroken = errors.New("connection reset")

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errBroken }

// TestNDJSONLarge streams a large body through small chunks and checks
// that chunks are never larger than asked.
func TestNDJSONLarge(t *testing.T) {
	l := limits()
	l.ChunkEvents = 500
	line := ndjson(valid())
	r := strings.NewReader(strings.Repeat(line, 20_000))
	total := 0
	n, err := ingest.DecodeNDJSON(r, l, func(c []audit.Event) error {
		if len(c) > 500 {
			t.Fatalf("chunk of %d", len(c))
		}
		total += len(c)
		return nil
	})
	if err != nil || n != 20_000 || total != 20_000 {
		t.Fatalf("n %d total %d err %v", n, total, err)
	}
}

func BenchmarkDecodeNDJSON(b *testing.B) {
	line := ndjson(valid())
	in := strings.Repeat(line, 10_000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ingest.DecodeNDJSON(strings.NewReader(in), limits(), func([]audit.Event) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*10_000/b.Elapsed().Seconds(), "events/s")
}

// Invalid UTF-8 in a field is a problem of that field, in both formats: the
// JSON decoder would store U+FFFD in its place.
func TestInvalidUTF8NamesTheField(t *testing.T) {
	ev := `{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a` + "\xff\xfe" + `b","sub_type":"s","system_source":"x"}`
	for _, format := range []string{"json", "ndjson"} {
		t.Run(format, func(t *testing.T) {
			var err error
			if format == "json" {
				_, err = ingest.DecodeJSON(strings.NewReader(`{"events":[`+ev+`]}`), limits())
			} else {
				_, err = ingest.DecodeNDJSON(strings.NewReader(ev+"\n"), limits(), func([]audit.Event) error { return nil })
			}
			ps := problemsOf(t, err)
			if len(ps) != 1 || ps[0].Index != 0 || ps[0].Field != "event_type" || !strings.Contains(ps[0].Reason, "UTF-8") {
				t.Fatalf("got %+v", ps)
			}
		})
	}
}
