package ingest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// fastSeeds are event objects at the edge of what the fast path takes:
// each is either decoded by both paths alike or left to the careful one.
var fastSeeds = []string{
	`{"id":"evt-1","occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","auditee_id":"u","description":"d","metadata":{"entity_id":"e","ip":"10.0.0.1"}}`,
	` {"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c"} `,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","id":null,"auditee_id":null,"metadata":null}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","metadata":{}}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"\u0061\n","sub_type":"b\"","system_source":"c\\","description":"Zo\u00eb \ud83d\ude00"}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a\ufffd","sub_type":"b","system_source":"c"}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a` + "\uFFFD" + `","sub_type":"b","system_source":"c"}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a\ud800","sub_type":"b","system_source":"c"}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a` + "\xff" + `","sub_type":"b","system_source":"c"}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","metadata":{"tag":"\ud800"}}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","metadata":{"tag":"x","tag":"y"}}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","metadata":{"Tag":"x"}}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","metadata":{"t\u0061g":"x"}}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","metadata":{"tag":null}}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","metadata":{"tag":"\u0007"}}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","metadata":[]}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","event_type":"a","sub_type":"b","system_source":"c"}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_\u0074ype":"a","sub_type":"b","system_source":"c"}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":1,"sub_type":"b","system_source":"c"}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","tenant_id":"t"}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c"} {}`,
	`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c"`,
	"\ufeff{}", `{}`, `[]`, `null`, `"x"`, ``,
}

// FuzzFastDecode holds the fast path to its contract: what it accepts, the
// careful decoding accepts too, without a problem, and decodes the same.
func FuzzFastDecode(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add(s)
	}
	// The metadata limits, at and over them.
	event := `{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","metadata":{%s}}`
	for _, n := range []int{MaxMetadataKeys, MaxMetadataKeys + 1} {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprintf(`"k%d":"v"`, i)
		}
		f.Add(fmt.Sprintf(event, strings.Join(keys, ",")))
	}
	for _, n := range []int{MaxMetadataValLen, MaxMetadataValLen + 1} {
		f.Add(fmt.Sprintf(event, `"tag":"`+strings.Repeat("é", n)+`"`))
	}
	var fd fastDecoder
	f.Fuzz(func(t *testing.T, raw string) {
		e, occurredAt, ok := fd.decode([]byte(raw))
		if !ok {
			return
		}
		if !json.Valid([]byte(raw)) {
			t.Fatalf("%q: the fast path accepts what is not JSON", raw)
		}
		v := newValidator(Limits{}.or(DefaultNDJSONLimits()))
		want, wantAt, _, ok := v.decode(0, []byte(raw))
		if !ok || v.p.any() {
			t.Fatalf("%q: the fast path accepts what the careful decoding refuses: %+v", raw, v.p.list)
		}
		if !reflect.DeepEqual(e, want) || occurredAt != wantAt {
			t.Fatalf("%q: the fast path decodes\n%+v, %q\nthe careful decoding\n%+v, %q", raw, e, occurredAt, want, wantAt)
		}
	})
}

// TestFastDecodeTakesPlainEvents: the events clients send, escapes and
// non-ASCII text included, take the fast path, or it is only overhead.
func TestFastDecodeTakesPlainEvents(t *testing.T) {
	var fd fastDecoder
	for _, raw := range fastSeeds[:5] {
		if _, _, ok := fd.decode([]byte(raw)); !ok {
			t.Errorf("%s: left to the careful decoding", raw)
		}
	}
}
