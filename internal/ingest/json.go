package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// DecodeJSON reads a {"events":[…]} body and returns its events, validated,
// with an id on each (the client's, or a new UUIDv7 when it is absent,
// null or ""). Zero fields of limits take DefaultJSONLimits.
//
// Errors are *audit.Error: ETOOLARGE when the body or the number of events
// is over the limit; EINVALID (Param "body") for malformed JSON, naming the
// line and column, or for a body that is not {"events":[…]}; EINVALID
// (Param "events", Details []Problem) listing every problem of every event.
// Any other error comes from r.
func DecodeJSON(r io.Reader, limits Limits) ([]audit.Event, error) {
	l := limits.or(DefaultJSONLimits())
	body, err := io.ReadAll(io.LimitReader(r, l.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("ingest: read body: %w", err)
	}
	if int64(len(body)) > l.MaxBytes {
		return nil, tooLarge(l.MaxBytes)
	}

	dec := json.NewDecoder(bytes.NewReader(body))
	fail := func(err error) error {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("unexpected end of input")
		}
		return syntaxError(body, dec.InputOffset(), err)
	}
	if tok, err := dec.Token(); err != nil {
		return nil, fail(err)
	} else if tok != json.Delim('{') {
		return nil, audit.Invalid("body", `the body must be a JSON object {"events":[…]}`)
	}

	v := newValidator(l)
	var events []audit.Event
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail(err)
		}
		key, _ := tok.(string)
		if key != "events" {
			if key == "tenant_id" {
				return nil, audit.Invalid(key, "unknown field %q: the tenant is the API key's, never the body's", key)
			}
			return nil, audit.Invalid(key, "unknown field %q: the body is {\"events\":[…]}", key)
		}
		if found {
			return nil, audit.Invalid("events", `"events" appears more than once`)
		}
		found = true
		if tok, err := dec.Token(); err != nil {
			return nil, fail(err)
		} else if tok != json.Delim('[') {
			return nil, audit.Invalid("events", `"events" must be an array of events`)
		}
		for dec.More() {
			if len(events) == l.MaxEvents {
				return nil, tooManyEvents(l.MaxEvents)
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, fail(err)
			}
			e, _ := v.event(len(events), raw)
			events = append(events, e)
		}
		if _, err := dec.Token(); err != nil { // ]
			return nil, fail(err)
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return nil, fail(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, fail(err)
		}
		return nil, syntaxError(body, dec.InputOffset(), errors.New("unexpected data after the JSON object"))
	}
	if !found {
		return nil, audit.Invalid("events", `the body needs "events", an array of events`)
	}
	if len(events) == 0 {
		return nil, audit.Invalid("events", "the batch holds no events")
	}
	if err := v.p.err(len(events)); err != nil {
		return nil, err
	}
	if err := assignIDs(events); err != nil {
		return nil, err
	}
	return events, nil
}

func tooLarge(limit int64) error {
	return &audit.Error{Code: audit.ETOOLARGE, Param: "body",
		Message: fmt.Sprintf("the request body is larger than the %s limit", byteSize(limit))}
}

func tooManyEvents(limit int) error {
	return &audit.Error{Code: audit.ETOOLARGE, Param: "events",
		Message: fmt.Sprintf("the batch holds more than the limit of %d events", limit)}
}
