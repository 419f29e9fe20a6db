package ingest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// fastDecoder reads the events of a well-formed request in one pass. The
// careful decoding (validator.decode) runs encoding/json's scanner several
// times over every event and allocates for every token; at 100,000 events
// a request that was most of an ingest's time (issue 14). jsontext, the
// streaming layer of the encoding/json/v2 prototype, reads tokens without
// reflection and is strict where we are: it refuses invalid UTF-8,
// unpaired surrogates and repeated names, and here every name must be one
// of an event's fields.
//
// fastDecoder only ever accepts: at the first thing it does not expect it
// gives up, and the careful decoding reads the event again and names what
// is wrong. So it must never accept an event the careful decoding would
// find a problem in, and must decode what it accepts identically;
// FuzzFastDecode holds it to both.
type fastDecoder struct {
	dec *jsontext.Decoder
}

// Bits of the fields seen in one event.
const (
	fieldID = 1 << iota
	fieldOccurredAt
	fieldEventType
	fieldSubType
	fieldSystemSource
	fieldAuditeeID
	fieldDescription
	fieldMetadata
)

// decode decodes raw, one JSON object holding nothing but an event's
// fields with string (or null) values and a metadata object of strings.
// ok is false when raw is anything else, well-formed or not.
func (f *fastDecoder) decode(raw []byte) (e audit.Event, occurredAt string, ok bool) {
	if f.dec == nil {
		f.dec = jsontext.NewDecoder(bytes.NewBuffer(raw))
	} else {
		// A bytes.Buffer is parsed in place, not copied.
		f.dec.Reset(bytes.NewBuffer(raw))
	}
	d := f.dec
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return e, "", false
	}
	seen := 0
	for d.PeekKind() == '"' {
		name, err := d.ReadValue()
		if err != nil || bytes.IndexByte(name, '\\') >= 0 {
			return e, "", false
		}
		var bit int
		var dst *string
		switch string(name) {
		case `"id"`:
			bit, dst = fieldID, &e.ID
		case `"occurred_at"`:
			bit, dst = fieldOccurredAt, &occurredAt
		case `"event_type"`:
			bit, dst = fieldEventType, &e.EventType
		case `"sub_type"`:
			bit, dst = fieldSubType, &e.SubType
		case `"system_source"`:
			bit, dst = fieldSystemSource, &e.SystemSource
		case `"auditee_id"`:
			bit, dst = fieldAuditeeID, &e.AuditeeID
		case `"description"`:
			bit, dst = fieldDescription, &e.Description
		case `"metadata"`:
			bit = fieldMetadata
		default:
			return e, "", false
		}
		if seen&bit != 0 {
			return e, "", false
		}
		seen |= bit
		if dst == nil {
			if e.Metadata, ok = f.metadata(); !ok {
				return e, "", false
			}
			continue
		}
		if *dst, ok = f.str(); !ok {
			return e, "", false
		}
	}
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '}' {
		return e, "", false
	}
	if _, err := d.ReadToken(); !errors.Is(err, io.EOF) {
		return e, "", false
	}
	return e, occurredAt, true
}

// str reads a string value, or null as "". A U+FFFD in it gives up: the
// careful decoding tells one sent as such from one it made of an escape.
func (f *fastDecoder) str() (string, bool) {
	switch f.dec.PeekKind() {
	case 'n':
		_, err := f.dec.ReadToken()
		return "", err == nil
	case '"':
		tok, err := f.dec.ReadToken()
		if err != nil {
			return "", false
		}
		s := tok.String()
		return s, !strings.ContainsRune(s, utf8.RuneError)
	}
	return "", false
}

// metadata reads null or an object of valid keys with valid string values,
// as validator.metadata would accept it.
func (f *fastDecoder) metadata() (map[string]string, bool) {
	d := f.dec
	switch d.PeekKind() {
	case 'n':
		_, err := d.ReadToken()
		return nil, err == nil
	case '{':
	default:
		return nil, false
	}
	if _, err := d.ReadToken(); err != nil {
		return nil, false
	}
	var m map[string]string
	for d.PeekKind() == '"' {
		name, err := d.ReadValue()
		if err != nil || bytes.IndexByte(name, '\\') >= 0 || len(m) == MaxMetadataKeys {
			return nil, false
		}
		key := string(name[1 : len(name)-1])
		if _, dup := m[key]; dup || !validMetaKey(key) || d.PeekKind() != '"' {
			return nil, false
		}
		tok, err := d.ReadToken()
		if err != nil {
			return nil, false
		}
		s := tok.String()
		if strings.ContainsRune(s, utf8.RuneError) || utf8.RuneCountInString(s) > MaxMetadataValLen {
			return nil, false
		}
		if _, ok := badText(s, false); !ok {
			return nil, false
		}
		if m == nil {
			m = make(map[string]string, 8)
		}
		m[key] = s
	}
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '}' {
		return nil, false
	}
	return m, true
}
