package httpapi

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// checkBodyText refuses a JSON body holding text that encoding/json would
// silently rewrite to U+FFFD: bytes that are not UTF-8, and unpaired
// surrogate escapes such as \ud800. The error names the field (a.b, a[2]),
// or "body" when the bad bytes sit in a field name.
func checkBodyText(raw []byte) error {
	if path, bad := badText("", raw); bad {
		if path == "" {
			path = "body"
		}
		return audit.Invalid(path, "%s must be valid UTF-8 text (no invalid bytes, no unpaired surrogate escapes)", path)
	}
	return nil
}

// badText walks the JSON value raw and returns the path of the first
// string that does not survive decoding intact.
func badText(path string, raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return "", false // not ours to explain: the decoder will
		}
		for k, v := range obj {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if bp, bad := badText(p, v); bad {
				return bp, true
			}
		}
		if !utf8.Valid(raw) {
			return path, true // in a field name
		}
	case '[':
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil {
			return "", false
		}
		for i, v := range arr {
			if bp, bad := badText(path+"["+strconv.Itoa(i)+"]", v); bad {
				return bp, true
			}
		}
	case '"':
		if !utf8.Valid(raw) {
			return path, true
		}
		var s string
		if json.Unmarshal(raw, &s) == nil && bytes.ContainsRune([]byte(s), utf8.RuneError) &&
			!bytes.ContainsRune(raw, utf8.RuneError) && !bytes.Contains(bytes.ToLower(raw), []byte(`\ufffd`)) {
			return path, true // an unpaired surrogate escape became U+FFFD
		}
	}
	return "", false
}
