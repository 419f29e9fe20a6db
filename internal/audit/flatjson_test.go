package audit

import (
	"encoding/json"
	"maps"
	"testing"
)

// decodeFlatObject must agree with json.Unmarshal whenever it accepts.
func checkFlatObject(t *testing.T, s string) bool {
	t.Helper()
	got := map[string]string{}
	if !decodeFlatObject(s, got) {
		if len(got) != 0 {
			t.Fatalf("%q: rejected but added %v", s, got)
		}
		return false
	}
	var want map[string]string
	if err := json.Unmarshal([]byte(s), &want); err != nil {
		t.Fatalf("%q: accepted, but encoding/json says %v", s, err)
	}
	if !maps.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("%q: got %v, encoding/json %v", s, got, want)
	}
	return true
}

func TestDecodeFlatObject(t *testing.T) {
	accept := []string{
		`{}`,
		`{"ip":"203.0.113.7"}`,
		`{"a":"","b":"x,y:z{}[]"}`,
		`{"ip":"1.2.3.4","user_agent":"Mozilla/5.0 (X11; Linux) é ü Ω"}`,
		`{"a":"1","a":"2"}`,
	}
	for _, s := range accept {
		if !checkFlatObject(t, s) {
			t.Errorf("%q: rejected, want the fast path", s)
		}
	}
	reject := []string{
		``, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":"b"`, `{"a":"b",}`, `{"a":"b"}x`, `{"a":1}`,
		`{"a":"b\"c"}`, `{"a":"\u00e9"}`, `{ "a":"b"}`, `{"a": "b"}`, `{"a":"b"} `,
		"{\"a\":\"\xff\"}", "{\"a\":\"b\tc\"}", `{"a":null}`, `{"a":["b"]}`,
	}
	for _, s := range reject {
		if checkFlatObject(t, s) {
			t.Errorf("%q: accepted, want encoding/json to decide", s)
		}
	}
	// The form EventValues stores.
	b, _ := json.Marshal(map[string]string{"z": "1", "a": "<&>", "m": "x"})
	checkFlatObject(t, string(b))
}

func FuzzDecodeFlatObject(f *testing.F) {
	f.Add(`{"ip":"203.0.113.7","user_agent":"curl/8"}`)
	f.Add(`{"a":"b\"c"}`)
	f.Fuzz(func(t *testing.T, s string) { checkFlatObject(t, s) })
}
