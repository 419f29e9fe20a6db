package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// validator checks the events of one request.
type validator struct {
	now  time.Time
	p    *problems
	seen idSet // client-supplied ids
	fast fastDecoder
}

func newValidator(l Limits) *validator {
	return &validator{now: l.Now(), p: newProblems(l.MaxProblems)}
}

// event decodes and validates the JSON object raw, the event at index. It
// records every problem it finds and reports whether there was none. raw
// must be syntactically valid JSON.
func (v *validator) event(index int, raw []byte) (audit.Event, bool) {
	before := v.p.invalid
	if e, occurredAt, ok := v.fast.decode(raw); ok {
		v.check(index, &e, occurredAt, nil)
		return e, v.p.invalid == before
	}
	return v.carefulEvent(index, raw)
}

// line is event for one NDJSON line, which may not be JSON at all: that is
// one more problem of the batch, naming the line and column.
func (v *validator) line(index, lineNo int, raw []byte) (audit.Event, bool) {
	before := v.p.invalid
	if e, occurredAt, ok := v.fast.decode(raw); ok {
		v.check(index, &e, occurredAt, nil)
		return e, v.p.invalid == before
	}
	if !json.Valid(raw) {
		var se *json.SyntaxError
		uerr := json.Unmarshal(raw, new(json.RawMessage))
		col := int64(len(raw)) + 1
		if errors.As(uerr, &se) {
			col = se.Offset // the offending byte is the Offset-th
		}
		msg := "unexpected end of input"
		if uerr != nil {
			msg = trimJSONPrefix(uerr.Error())
		}
		v.p.add(index, "", "line %d: malformed JSON at column %d: %s", lineNo, col, msg)
		return audit.Event{}, false
	}
	return v.carefulEvent(index, raw)
}

// carefulEvent is event without the fast path: what names the problems
// of an event the fast path gave up on.
func (v *validator) carefulEvent(index int, raw []byte) (audit.Event, bool) {
	before := v.p.invalid
	e, occurredAt, badType, ok := v.decode(index, raw)
	if !ok {
		return e, false
	}
	v.check(index, &e, occurredAt, badType)
	return e, v.p.invalid == before
}

// decode is event's first half the careful way, field by field with
// encoding/json, naming every problem of the object's shape: types,
// unknown and repeated fields, invalid UTF-8. badType holds the fields
// whose value was refused, which check then leaves alone. ok is false
// when the object cannot be read any further (check must not run).
func (v *validator) decode(index int, raw []byte) (e audit.Event, occurredAt string, badType map[string]bool, ok bool) {
	before := v.p.invalid
	// Invalid UTF-8 is looked for per field below, to name the field; the
	// JSON decoder would silently turn it into U+FFFD.
	rawValid := utf8.Valid(raw)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		v.p.add(index, "", "must be a JSON object")
		return e, "", nil, false
	}
	seen := map[string]bool{}
	badType = map[string]bool{}
	str := func(key string, val json.RawMessage) string {
		s, ok := v.str(index, key, val)
		if !ok {
			badType[key] = true
		}
		return s
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			v.p.add(index, "", "malformed JSON object")
			return e, "", nil, false
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			v.p.add(index, key, "malformed JSON value")
			return e, "", nil, false
		}
		if seen[key] {
			// Parsers disagree on which duplicate wins; an audit trail
			// must not be ambiguous.
			v.p.add(index, key, "appears more than once")
			continue
		}
		seen[key] = true
		if !rawValid && !utf8.Valid(val) {
			v.p.add(index, key, "is not valid UTF-8")
			badType[key] = true
			continue
		}
		switch key {
		case "id":
			e.ID = str(key, val)
		case "occurred_at":
			occurredAt = str(key, val)
		case "event_type":
			e.EventType = str(key, val)
		case "sub_type":
			e.SubType = str(key, val)
		case "system_source":
			e.SystemSource = str(key, val)
		case "auditee_id":
			e.AuditeeID = str(key, val)
		case "description":
			e.Description = str(key, val)
		case "metadata":
			e.Metadata = v.metadata(index, val)
		case "tenant_id":
			v.p.add(index, key, "unknown field: the tenant is the API key's, never the body's")
		default:
			v.p.add(index, key, "unknown field")
		}
	}

	if !rawValid && v.p.invalid == before {
		// The bad bytes are in a field name.
		v.p.add(index, "", "is not valid UTF-8")
		return e, "", nil, false
	}
	return e, occurredAt, badType, true
}

// check is event's second half: the rules on the values of a decoded
// event, except those of the fields in badType.
func (v *validator) check(index int, e *audit.Event, occurredAt string, badType map[string]bool) {
	if e.ID != "" {
		v.checkID(index, e.ID)
	}
	if !badType["occurred_at"] {
		e.OccurredAt = v.time(index, occurredAt)
	}
	for _, f := range [...]struct {
		name     string
		val      string
		required bool
	}{
		{"event_type", e.EventType, true},
		{"sub_type", e.SubType, true},
		{"system_source", e.SystemSource, true},
		{"auditee_id", e.AuditeeID, false},
	} {
		if !badType[f.name] {
			v.name(index, f.name, f.val, f.required)
		}
	}
	if !badType["system_source"] && strings.EqualFold(strings.TrimSpace(e.SystemSource), audit.SelfAuditSource) {
		// Only the service writes its own audit trail: a client that could
		// claim the source could forge or bury what the service recorded.
		v.p.add(index, "system_source", "%q is reserved for the events Audit Sentinel records about its own use", audit.SelfAuditSource)
	}
	if n := utf8.RuneCountInString(e.Description); n > MaxDescriptionLen {
		v.p.add(index, "description", "is %d characters long; the limit is %d", n, MaxDescriptionLen)
	} else if r, ok := badText(e.Description, true); !ok {
		v.p.add(index, "description", "contains the control character %U", r)
	}
}

// str returns the string value of field key; null reads as "". A value of
// another type is a problem, and ok is false.
func (v *validator) str(index int, key string, val json.RawMessage) (s string, ok bool) {
	if isNull(val) {
		return "", true
	}
	if err := json.Unmarshal(val, &s); err != nil {
		v.p.add(index, key, "must be a string, not %s", jsonKind(val))
		return "", false
	}
	if rewritten(val, s) {
		v.p.add(index, key, "is not valid Unicode: it holds an unpaired surrogate escape such as \\ud800")
		return "", false
	}
	return s, true
}

// rewritten reports whether decoding the JSON string val into s replaced
// something with U+FFFD: an unpaired surrogate escape (\ud800), which the
// decoder accepts silently. A U+FFFD that was sent as such is kept.
func rewritten(val json.RawMessage, s string) bool {
	if !strings.ContainsRune(s, utf8.RuneError) {
		return false
	}
	return !bytes.Contains(val, []byte("\uFFFD")) && !bytes.Contains(bytes.ToLower(val), []byte("\ufffd")) &&
		!bytes.ContainsRune(val, utf8.RuneError)
}

func (v *validator) checkID(index int, id string) {
	if n := utf8.RuneCountInString(id); n > MaxIDLen {
		v.p.add(index, "id", "is %d characters long; the limit is %d", n, MaxIDLen)
		return
	}
	for _, r := range id {
		if !isIDRune(r) {
			v.p.add(index, "id", "contains %q; ids use only A-Z a-z 0-9 _ . : -", r)
			return
		}
	}
	if first, dup := v.seen.add(id, index); dup {
		v.p.add(index, "id", "repeats the id of event %d in the same batch", first)
	}
}

// idSet maps the client-supplied ids of one request to the index of the
// event that first had each, for the in-request duplicate check. It is
// the one thing a request's memory grows with (issue 14: 100,000 ids, on
// top of bounded chunks), so a canonical UUID, the ids clients and this
// service generate, is kept as its 16 bytes rather than as a 36-byte
// string. The canonical form is lower-case only: any other spelling of a
// UUID is another id, kept as a string, so no duplicate is missed or made
// up.
type idSet struct {
	uuids map[uuid.UUID]int32
	other map[string]int32
}

// add records id at index unless it was seen, and returns the index of
// its first event if it was.
func (s *idSet) add(id string, index int) (first int, dup bool) {
	if u, ok := canonicalUUID(id); ok {
		if f, dup := s.uuids[u]; dup {
			return int(f), true
		}
		if s.uuids == nil {
			s.uuids = map[uuid.UUID]int32{}
		}
		s.uuids[u] = int32(index)
		return 0, false
	}
	if f, dup := s.other[id]; dup {
		return int(f), true
	}
	if s.other == nil {
		s.other = map[string]int32{}
	}
	s.other[id] = int32(index)
	return 0, false
}

// canonicalUUID parses s if it is a UUID in canonical form:
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in lower-case hex, the form
// uuid.UUID.String writes.
func canonicalUUID(s string) (uuid.UUID, bool) {
	if len(s) != 36 {
		return uuid.UUID{}, false
	}
	u, err := uuid.Parse(s)
	return u, err == nil && u.String() == s
}

func isIDRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '_' || r == '.' || r == ':' || r == '-'
}

// time parses an RFC 3339 time with an offset ("Z" or ±hh:mm) and returns
// it in UTC at the stored precision.
func (v *validator) time(index int, s string) time.Time {
	if s == "" {
		v.p.add(index, "occurred_at", "is required")
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		v.p.add(index, "occurred_at", "must be an RFC 3339 time with an offset, such as 2026-04-10T08:30:00.000Z")
		return time.Time{}
	}
	t = t.UTC().Truncate(audit.TimePrecision)
	if y := t.Year(); y < 1 || y > 9999 {
		// An offset can carry a time that parsed into year 0 or 10000 in
		// UTC, which no RFC 3339 export could write back.
		v.p.add(index, "occurred_at", "falls in year %d in UTC; it must lie within years 1 to 9999", y)
		return time.Time{}
	}
	if limit := v.now.Add(MaxFutureSkew); t.After(limit) {
		v.p.add(index, "occurred_at", "is more than 24 hours in the future")
	}
	return t
}

// name checks a short identifying string: event_type, sub_type,
// system_source, auditee_id.
func (v *validator) name(index int, field, s string, required bool) {
	switch {
	case s == "":
		if required {
			v.p.add(index, field, "is required")
		}
	case utf8.RuneCountInString(s) > MaxNameLen:
		v.p.add(index, field, "is %d characters long; the limit is %d", utf8.RuneCountInString(s), MaxNameLen)
	case strings.TrimSpace(s) != s:
		v.p.add(index, field, "must not start or end with white space")
	default:
		if r, ok := badText(s, false); !ok {
			v.p.add(index, field, "contains the non-printable character %U", r)
		}
	}
}

// metadata decodes an object of strings to strings.
func (v *validator) metadata(index int, val json.RawMessage) map[string]string {
	if isNull(val) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(val))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		v.p.add(index, "metadata", "must be an object of strings, not %s", jsonKind(val))
		return nil
	}
	m := map[string]string{}
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			v.p.add(index, "metadata", "malformed JSON object")
			return nil
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			v.p.add(index, "metadata", "malformed JSON object")
			return nil
		}
		n++
		field := "metadata." + key
		if !validMetaKey(key) {
			v.p.add(index, field, "is not a valid key: 1 to %d characters of a-z 0-9 _ . -", MaxMetadataKeyLen)
			continue
		}
		if _, dup := m[key]; dup {
			v.p.add(index, field, "appears more than once")
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || isNull(raw) {
			v.p.add(index, field, "must be a string, not %s", jsonKind(raw))
			continue
		}
		if l := utf8.RuneCountInString(s); l > MaxMetadataValLen {
			v.p.add(index, field, "is %d characters long; the limit is %d", l, MaxMetadataValLen)
			continue
		}
		if r, ok := badText(s, false); !ok {
			v.p.add(index, field, "contains the non-printable character %U", r)
			continue
		}
		m[key] = s
	}
	if n > MaxMetadataKeys {
		v.p.add(index, "metadata", "has %d keys; the limit is %d", n, MaxMetadataKeys)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func validMetaKey(k string) bool {
	if k == "" || len(k) > MaxMetadataKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// badText returns the first character of s that may not be stored, if any:
// control characters (NUL above all, which PostgreSQL refuses) and, for
// single-line values, every non-printable character. Multi-line text may
// hold tabs and line breaks.
func badText(s string, multiline bool) (rune, bool) {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if multiline {
			if unicode.IsControl(r) {
				return r, false
			}
			continue
		}
		if !unicode.IsPrint(r) && r != ' ' {
			return r, false
		}
	}
	return 0, true
}

func isNull(val json.RawMessage) bool { return string(bytes.TrimSpace(val)) == "null" }

// jsonKind names the JSON type of val for messages.
func jsonKind(val json.RawMessage) string {
	b := bytes.TrimSpace(val)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// assignIDs gives every event without a client id a time-ordered UUIDv7.
func assignIDs(events []audit.Event) error {
	for i := range events {
		if events[i].ID != "" {
			continue
		}
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("ingest: generate event id: %w", err)
		}
		events[i].ID = id.String()
	}
	return nil
}

// syntaxError returns the EINVALID error of malformed JSON in body, naming
// the line and column. The offsets a json.Decoder reports are relative to
// its buffer, so the body is scanned again whole for an exact position;
// off (the offset of the offending byte) and err serve when the body is
// well-formed JSON that is not what we expect.
func syntaxError(body []byte, off int64, err error) error {
	var se *json.SyntaxError
	if uerr := json.Unmarshal(body, new(json.RawMessage)); errors.As(uerr, &se) {
		off, err = se.Offset-1, se
	}
	line, col := position(body, off)
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return audit.Invalid("body", "malformed JSON at line %d, column %d: %s", line, col, msg)
}

// position converts a byte offset into a 1-based line and column.
func position(body []byte, off int64) (line, col int) {
	if off > int64(len(body)) {
		off = int64(len(body))
	}
	if off < 0 {
		off = 0
	}
	before := body[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}
