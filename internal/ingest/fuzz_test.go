package ingest_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/ingest"
)

// ingestSeeds are bodies of the fault-and-fuzz campaign (issue 12): events
// out of years 1-9999 in UTC, invalid UTF-8, unpaired surrogates, NUL.
var ingestSeeds = []string{
	`{"events":[{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c"}]}`,
	`{"events":[{"occurred_at":"0000-01-01T00:00:00+23:59","event_type":"a","sub_type":"b","system_source":"c"}]}`,
	`{"events":[{"occurred_at":"9999-12-31T23:59:59-23:59","event_type":"a","sub_type":"b","system_source":"c"}]}`,
	`{"events":[{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a` + "\xff\xfe" + `","sub_type":"b","system_source":"c"}]}`,
	`{"events":[{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a\ud800","sub_type":"b","system_source":"c"}]}`,
	`{"events":[{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","description":"a\u0000"}]}`,
	`{"events":[{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","metadata":{"tag":"\udfff"}}]}`,
	`{"events":[{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","description":"\nline one\n=2+2"}]}`,
	`{"events":[{"id":"x","occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c"},{"id":"x"}]}`,
	`{"events":[]}`, `{"events":null}`, `{"tenant_id":"t"}`, `{`, ``, `[]`, "\xff",
}

// checkDecoded is what holds for any body: a refusal is one of ours naming
// what is at fault; accepted events are storable and can be written back
// (valid UTF-8 without NUL, times within years 1-9999, required fields).
func checkDecoded(t *testing.T, body string, events []audit.Event, err error) {
	t.Helper()
	if err != nil {
		e := audit.AsError(err)
		if e == nil || (e.Code != audit.EINVALID && e.Code != audit.ETOOLARGE) || e.Param == "" {
			t.Fatalf("%q: refused with %v; want EINVALID or ETOOLARGE naming a parameter", body, err)
		}
		return
	}
	for i, ev := range events {
		if y := ev.OccurredAt.Year(); y < 1 || y > 9999 {
			t.Fatalf("%q: event %d occurred in year %d", body, i, y)
		}
		texts := []string{ev.ID, ev.EventType, ev.SubType, ev.SystemSource, ev.AuditeeID, ev.Description}
		for k, v := range ev.Metadata {
			texts = append(texts, k, v)
		}
		for _, s := range texts {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("%q: event %d holds text that cannot be stored: %q", body, i, s)
			}
		}
		if ev.ID == "" || ev.EventType == "" || ev.SubType == "" || ev.SystemSource == "" {
			t.Fatalf("%q: event %d lacks a required field: %+v", body, i, ev)
		}
	}
}

// FuzzDecodeJSON: `make test` runs the seeds, `make fuzz` explores.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range ingestSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		events, err := ingest.DecodeJSON(strings.NewReader(body), limits())
		checkDecoded(t, body, events, err)
	})
}

// FuzzDecodeNDJSON is FuzzDecodeJSON for the NDJSON body, one event a line.
func FuzzDecodeNDJSON(f *testing.F) {
	for _, s := range ingestSeeds {
		f.Add(strings.TrimSuffix(strings.TrimPrefix(s, `{"events":[`), `]}`) + "\n")
	}
	f.Add("{\"occurred_at\":\"2026-04-10T08:30:00Z\",\"event_type\":\"a\",\"sub_type\":\"b\",\"system_source\":\"c\"}\n\n\r\n{}")
	f.Fuzz(func(t *testing.T, body string) {
		var events []audit.Event
		_, err := ingest.DecodeNDJSON(strings.NewReader(body), limits(), func(c []audit.Event) error {
			events = append(events, c...)
			return nil
		})
		checkDecoded(t, body, events, err)
	})
}
