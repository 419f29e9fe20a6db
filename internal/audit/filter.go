package audit

import (
	"slices"
	"time"
)

// Filter selects events of one tenant. Values within one list OR together;
// different lists AND. An empty list does not restrict. RangeStart and
// RangeEnd are inclusive; nil means unbounded.
type Filter struct {
	TenantID      string   `json:"-"`
	AuditeeIDs    []string `json:"auditee_id,omitempty"`
	EventTypes    []string `json:"event_type,omitempty"`
	SubTypes      []string `json:"sub_type,omitempty"`
	SystemSources []string `json:"system_source,omitempty"`
	// Metadata maps a key of MetadataKeys to the values it may take.
	Metadata   map[string][]string `json:"metadata,omitempty"`
	RangeStart *time.Time          `json:"range_start,omitempty"`
	RangeEnd   *time.Time          `json:"range_end,omitempty"`
	// AsOf, when set, keeps only events visible in that snapshot, and After
	// only events NOT visible in it (ingested after it). They are not part
	// of a request (json "-"): an export records its snapshot beside its
	// parameters, so identical requests still hash equal. See snapshot.go.
	AsOf  *Snapshot `json:"-"`
	After *Snapshot `json:"-"`
	// Late, set on a scheduled run after the first, widens RangeStart to
	// the late arrivals the run also carries (see LateRule). Like AsOf it
	// is not part of a request: the worker sets it from the run's chain.
	Late *LateRule `json:"-"`
}

// LateRule admits, below a filter's RangeStart, the events that are late for
// a schedule's chain: those with Floor <= occurred_at that were NOT visible
// in Since, the snapshot of the chain's previous run. Such an event's window
// had already run without it, so it goes into the first run whose snapshot
// sees it. The condition replaces "occurred_at >= RangeStart" with
// "occurred_at >= RangeStart OR (occurred_at >= Floor AND not visible in
// Since)", in every query of the filter (stream, count, progress, the PDF
// cap), so they all agree; a store may run the two sides as two queries,
// late arrivals first, since they all sort before the window. It has no
// effect without RangeStart.
type LateRule struct {
	// Floor is the chain's first window start: nothing before it was ever
	// promised by the chain.
	Floor time.Time
	// Since is the snapshot of the chain's previous run.
	Since Snapshot
}

// Canonical returns f with every list sorted and de-duplicated and times in
// UTC, so that equal selections compare and hash equal.
func (f Filter) Canonical() Filter {
	out := Filter{
		TenantID:      f.TenantID,
		AuditeeIDs:    canonList(f.AuditeeIDs),
		EventTypes:    canonList(f.EventTypes),
		SubTypes:      canonList(f.SubTypes),
		SystemSources: canonList(f.SystemSources),
		AsOf:          f.AsOf,
		After:         f.After,
	}
	if f.Late != nil {
		out.Late = &LateRule{Floor: f.Late.Floor.UTC().Truncate(TimePrecision), Since: f.Late.Since}
	}
	for k, vs := range f.Metadata {
		if vs = canonList(vs); len(vs) > 0 {
			if out.Metadata == nil {
				out.Metadata = map[string][]string{}
			}
			out.Metadata[k] = vs
		}
	}
	if f.RangeStart != nil {
		t := f.RangeStart.UTC().Truncate(TimePrecision)
		out.RangeStart = &t
	}
	if f.RangeEnd != nil {
		t := f.RangeEnd.UTC().Truncate(TimePrecision)
		out.RangeEnd = &t
	}
	return out
}

func canonList(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

// Match reports whether e satisfies f. Stores filter in SQL; Match is the
// reference semantics that tests and the worker's safety checks compare with.
// AsOf and After are not checked: an Event does not carry the transaction
// that ingested it; for the same reason Late only lowers RangeStart to its
// Floor.
func (f Filter) Match(e *Event) bool {
	if f.TenantID != "" && e.TenantID != "" && f.TenantID != e.TenantID {
		return false
	}
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	if !in(f.AuditeeIDs, e.AuditeeID) || !in(f.EventTypes, e.EventType) ||
		!in(f.SubTypes, e.SubType) || !in(f.SystemSources, e.SystemSource) {
		return false
	}
	for k, vs := range f.Metadata {
		v, ok := e.Metadata[k]
		if !ok || !slices.Contains(vs, v) {
			return false
		}
	}
	if f.RangeStart != nil && e.OccurredAt.Before(*f.RangeStart) &&
		(f.Late == nil || e.OccurredAt.Before(f.Late.Floor)) {
		return false
	}
	if f.RangeEnd != nil && e.OccurredAt.After(*f.RangeEnd) {
		return false
	}
	return true
}
