package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// AppendJSONString must agree with encoding/json (HTML escaping off).
func TestAppendJSONString(t *testing.T) {
	inputs := []string{"", "plain", "\"\\/", "\x00\x01\x1f\x7f", "\n\r\t\b\f", "<>&", "\u2028\u2029",
		"ünï©ødé Ωμέγα Привет 中文 🙂", "bad\xffutf8\xc3", "\xed\xa0\x80"}
	for _, in := range inputs {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(in); err != nil {
			t.Fatal(err)
		}
		if got := string(AppendJSONString(nil, in)); got != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("AppendJSONString(%q) = %s, want %s", in, got, want.String())
		}
	}
}
