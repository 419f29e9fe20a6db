package audit

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Scope is one permission an API key carries. A request outside its key's
// scopes is refused (EFORBIDDEN) with the scope it needed.
type Scope string

// The scopes. ScopeAdmin implies every other one: keys made before scopes
// existed became admin keys, and kept exactly the access they had.
const (
	ScopeEventsWrite    Scope = "events:write"    // ingest
	ScopeEventsRead     Scope = "events:read"     // exports, their files, manifests, the archive list
	ScopeExportsManage  Scope = "exports:manage"  // delete exports, presigned links
	ScopeSchedulesRead  Scope = "schedules:read"  // list and read schedules and their deliveries
	ScopeSchedulesWrite Scope = "schedules:write" // create, change, run and delete schedules
	ScopeAdmin          Scope = "admin"           // keys, webhook secret, retention, holds; and everything above
)

// Scopes lists every scope, in the order documentation shows them.
var Scopes = []Scope{ScopeEventsWrite, ScopeEventsRead, ScopeExportsManage, ScopeSchedulesRead, ScopeSchedulesWrite, ScopeAdmin}

// ReadOnlyScopes are the scopes a key limited to a time window may carry:
// a window bounds what a key reads, and means nothing for what it writes.
var ReadOnlyScopes = []Scope{ScopeEventsRead, ScopeSchedulesRead}

// ScopeNames returns the names of Scopes, for error messages and enums.
func ScopeNames() []string {
	out := make([]string, len(Scopes))
	for i, s := range Scopes {
		out[i] = string(s)
	}
	return out
}

// ParseScopes parses a list of scope names (as given, or comma or space
// separated within one element) into a sorted, de-duplicated set. An
// unknown name is EINVALID on param; an empty list too: a key that can do
// nothing is a mistake.
func ParseScopes(param string, names []string) ([]Scope, error) {
	var out []Scope
	for _, n := range names {
		for _, f := range strings.FieldsFunc(n, func(r rune) bool { return r == ',' || r == ' ' }) {
			s := Scope(strings.ToLower(f))
			if !slices.Contains(Scopes, s) {
				return nil, &Error{Code: EINVALID, Param: param, Allowed: ScopeNames(),
					Message: fmt.Sprintf("unknown scope %q", f)}
			}
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, &Error{Code: EINVALID, Param: param, Allowed: ScopeNames(), Message: "a key needs at least one scope"}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// TimeWindow bounds what a key may read: events that occurred in
// [Start, End) and exports made within it. Both ends are set.
type TimeWindow struct {
	Start time.Time
	End   time.Time
}

// Contains reports whether [from, to) lies within w.
func (w TimeWindow) Contains(from, to time.Time) bool {
	return !from.Before(w.Start) && !to.After(w.End)
}

// ParseTimeWindow parses "START/END", each an RFC 3339 time or a date
// (2026-01-01/2026-06-30). A date as END means the whole day: the window
// ends at the next midnight UTC.
func ParseTimeWindow(param, s string) (TimeWindow, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	bad := func(msg string) (TimeWindow, error) {
		return TimeWindow{}, Invalid(param, "%s; write START/END as dates or RFC 3339 times, e.g. 2026-01-01/2026-06-30", msg)
	}
	if !ok {
		return bad("a window needs a start and an end")
	}
	start, _, err := parseWindowEnd(a)
	if err != nil {
		return bad(fmt.Sprintf("start %q is not a date or time", a))
	}
	end, date, err := parseWindowEnd(b)
	if err != nil {
		return bad(fmt.Sprintf("end %q is not a date or time", b))
	}
	if date {
		end = end.AddDate(0, 0, 1)
	}
	if !end.After(start) {
		return bad("the end must be after the start")
	}
	return TimeWindow{Start: start.UTC().Truncate(TimePrecision), End: end.UTC().Truncate(TimePrecision)}, nil
}

func parseWindowEnd(s string) (time.Time, bool, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, false, err
}

// Allows reports whether k may act with scope s: it has s, or admin.
func (k APIKey) Allows(s Scope) bool {
	return slices.Contains(k.Scopes, s) || slices.Contains(k.Scopes, ScopeAdmin)
}

// Forbidden is the EFORBIDDEN error of a request that needed scope s.
func Forbidden(s Scope) *Error {
	return &Error{Code: EFORBIDDEN, Param: "apikey", Allowed: []string{string(s), string(ScopeAdmin)},
		Message: fmt.Sprintf("this API key lacks the scope %s that this request needs (admin keys have every scope)", s),
		Details: map[string]string{"required_scope": string(s)}}
}

// Clamp narrows f's range to w (f's bounds are inclusive, w's end is
// not). ok is false when nothing of f's range lies within w: the caller
// refuses such a request rather than answer it with an empty file that
// would read as "nothing happened".
func (w TimeWindow) Clamp(f Filter) (_ Filter, ok bool) {
	last := w.End.Add(-TimePrecision)
	if f.RangeStart == nil || f.RangeStart.Before(w.Start) {
		s := w.Start
		f.RangeStart = &s
	}
	if f.RangeEnd == nil || f.RangeEnd.After(last) {
		f.RangeEnd = &last
	}
	return f, !f.RangeEnd.Before(*f.RangeStart)
}

// Covers reports whether every event f can match lies within w: what a
// windowed key may read of an export made by anyone.
func (w TimeWindow) Covers(f Filter) bool {
	return f.RangeStart != nil && f.RangeEnd != nil && !f.RangeStart.Before(w.Start) && f.RangeEnd.Before(w.End)
}
