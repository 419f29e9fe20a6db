package audit

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"
	"unicode/utf8"
)

// NumMetadataKeys is len(MetadataKeys), as a constant so that EventRow can
// hold the filterable metadata in an array instead of a map.
const NumMetadataKeys = 11

func init() {
	if len(MetadataKeys) != NumMetadataKeys {
		panic(fmt.Sprintf("audit: NumMetadataKeys is %d but MetadataKeys has %d keys", NumMetadataKeys, len(MetadataKeys)))
	}
}

// EventRow is an event in the shape an export reads it: flat, the
// filterable metadata in MetadataKeys order, and the other metadata left as
// the JSON object the store keeps (EncodeExtraMetadata's form) instead of a
// map. An export reads millions of events and writes exactly these
// columns; building a map per event, only to take it apart again in the
// renderer, was most of an export's CPU. Event converts to the domain type
// when a consumer needs it.
type EventRow struct {
	ID           string
	OccurredAt   int64 // microseconds since the Unix epoch
	EventType    string
	SubType      string
	SystemSource string
	AuditeeID    string
	Description  string
	// Meta holds the value of MetadataKeys[i] at i, "" when absent; bit i of
	// HasMeta says whether it is present (a value may be present and empty).
	Meta    [NumMetadataKeys]string
	HasMeta uint16
	// Extra is the metadata outside MetadataKeys as a compact JSON object
	// with sorted keys; "" when there is none.
	Extra string
}

// Time is r.OccurredAt as a UTC time.
func (r *EventRow) Time() time.Time { return time.UnixMicro(r.OccurredAt).UTC() }

// Event returns r as the domain event of tenantID.
func (r *EventRow) Event(tenantID string) (*Event, error) {
	e := &Event{
		ID:           r.ID,
		TenantID:     tenantID,
		OccurredAt:   r.Time(),
		EventType:    r.EventType,
		SubType:      r.SubType,
		SystemSource: r.SystemSource,
		AuditeeID:    r.AuditeeID,
		Description:  r.Description,
	}
	if r.HasMeta != 0 || r.Extra != "" {
		e.Metadata = make(map[string]string, 4)
		for i, k := range MetadataKeys {
			if r.HasMeta&(1<<i) != 0 {
				e.Metadata[k] = r.Meta[i]
			}
		}
		if r.Extra != "" {
			if err := DecodeExtraMetadata(r.Extra, e.Metadata); err != nil {
				return nil, fmt.Errorf("audit: metadata of event %s: %w", r.ID, err)
			}
		}
		if len(e.Metadata) == 0 {
			e.Metadata = nil
		}
	}
	return e, nil
}

// RowOf returns e as an EventRow.
func RowOf(e *Event) (EventRow, error) {
	r := EventRow{
		ID:           e.ID,
		OccurredAt:   e.OccurredAt.UnixMicro(),
		EventType:    e.EventType,
		SubType:      e.SubType,
		SystemSource: e.SystemSource,
		AuditeeID:    e.AuditeeID,
		Description:  e.Description,
	}
	for i, k := range MetadataKeys {
		if v, ok := e.Metadata[k]; ok {
			r.Meta[i], r.HasMeta = v, r.HasMeta|1<<i
		}
	}
	extra, err := EncodeExtraMetadata(e.Metadata)
	if err != nil {
		return r, fmt.Errorf("audit: metadata of event %s: %w", e.ID, err)
	}
	r.Extra = extra
	return r, nil
}

// EncodeExtraMetadata returns the members of m whose keys are not
// MetadataKeys as a compact JSON object with sorted keys (encoding/json's
// form for a map), or "" when there are none. It is how stores keep them.
func EncodeExtraMetadata(m map[string]string) (string, error) {
	var extra map[string]string
	for k, v := range m {
		if !IsMetadataKey(k) {
			if extra == nil {
				extra = make(map[string]string, len(m))
			}
			extra[k] = v
		}
	}
	if extra == nil {
		return "", nil
	}
	b, err := json.Marshal(extra) // maps marshal with sorted keys
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// DecodeExtraMetadata adds the members of s, a JSON object of strings as
// EncodeExtraMetadata writes it, to m. "" and "null" add nothing.
func DecodeExtraMetadata(s string, m map[string]string) error {
	if s == "" || s == "null" {
		return nil
	}
	// Almost every stored object is plain {"k":"v",...}: read it without
	// encoding/json, which cost a tenth of an export's CPU.
	if decodeFlatObject(s, m) {
		return nil
	}
	var x map[string]string
	if err := json.Unmarshal([]byte(s), &x); err != nil {
		return err
	}
	maps.Copy(m, x)
	return nil
}

// ExtraIsVerbatim reports whether s, an EncodeExtraMetadata object, holds
// no escape sequence at all. Then every string in it is exactly its bytes,
// and any JSON encoder that escapes only what it must (quotes, backslashes,
// control characters, invalid UTF-8, U+2028/U+2029) would write the same
// sorted object again: a renderer may copy s instead of decoding it.
func ExtraIsVerbatim(s string) bool {
	return strings.IndexByte(s, '\\') < 0
}

// decodeFlatObject adds the members of s to m and reports true when s is
// in the simple form {"k":"v",...} with no escapes, no white space and
// valid UTF-8; then the result is exactly json.Unmarshal's. Otherwise it
// adds nothing and reports false, and the caller decodes s with
// encoding/json.
func decodeFlatObject(s string, m map[string]string) bool {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' || strings.IndexByte(s, '\\') >= 0 || !utf8.ValidString(s) {
		return false
	}
	if s == "{}" {
		return true
	}
	// Parse into a small fixed array first so that a malformed object
	// leaves m untouched.
	var kv [32]string
	n := 0
	i := 1
	for {
		if n+2 > len(kv) {
			return false
		}
		for j := 0; j < 2; j++ { // key, then value
			if i >= len(s) || s[i] != '"' {
				return false
			}
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return false
			}
			str := s[i+1 : i+1+end]
			for k := 0; k < len(str); k++ {
				if str[k] < 0x20 { // control characters are escaped in JSON
					return false
				}
			}
			kv[n] = str
			n++
			i += end + 2
			if j == 0 {
				if i >= len(s) || s[i] != ':' {
					return false
				}
				i++
			}
		}
		if i >= len(s) {
			return false
		}
		if s[i] == '}' {
			if i != len(s)-1 {
				return false
			}
			break
		}
		if s[i] != ',' {
			return false
		}
		i++
	}
	for j := 0; j < n; j += 2 {
		m[kv[j]] = kv[j+1]
	}
	return true
}
