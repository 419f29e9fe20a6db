package ingest

import (
	"fmt"
	"time"
)

// Limits bounds what one request may carry. A zero field takes the default
// of the format being decoded (DefaultJSONLimits or DefaultNDJSONLimits).
type Limits struct {
	// MaxBytes is the largest accepted body.
	MaxBytes int64
	// MaxEvents is the largest accepted number of events.
	MaxEvents int
	// MaxLineBytes is the longest accepted NDJSON line (one event).
	MaxLineBytes int
	// ChunkEvents is the most events DecodeNDJSON hands to batch at once.
	ChunkEvents int
	// MaxProblems caps the problems listed in an error's Details; the
	// message still counts every invalid event.
	MaxProblems int
	// Now is the clock of the far-future rule; time.Now when nil.
	Now func() time.Time
}

// Field limits of one event. They are part of the API: the ingest
// documentation quotes them.
const (
	MaxIDLen          = 128            // id, characters
	MaxNameLen        = 128            // event_type, sub_type, system_source, auditee_id
	MaxDescriptionLen = 10_000         // description, characters
	MaxMetadataKeys   = 64             // keys per event
	MaxMetadataKeyLen = 64             // key, characters
	MaxMetadataValLen = 1_024          // value, characters
	MaxFutureSkew     = 24 * time.Hour // occurred_at may be at most this far ahead of now
)

// DefaultJSONLimits are the documented limits of a {"events":[…]} body:
// 1,000 events in 10 MiB.
func DefaultJSONLimits() Limits {
	return Limits{
		MaxBytes:    10 << 20,
		MaxEvents:   1_000,
		MaxProblems: 1_000,
	}
}

// DefaultNDJSONLimits are the documented limits of an application/x-ndjson
// body: 100,000 events in 64 MiB, lines of at most 1 MiB, handed over in
// chunks of 1,000.
func DefaultNDJSONLimits() Limits {
	return Limits{
		MaxBytes:     64 << 20,
		MaxEvents:    100_000,
		MaxLineBytes: 1 << 20,
		ChunkEvents:  1_000,
		MaxProblems:  1_000,
	}
}

// or fills the zero fields of l from def.
func (l Limits) or(def Limits) Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = def.MaxBytes
	}
	if l.MaxEvents <= 0 {
		l.MaxEvents = def.MaxEvents
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = def.MaxLineBytes
	}
	if l.ChunkEvents <= 0 {
		l.ChunkEvents = def.ChunkEvents
	}
	if l.MaxProblems <= 0 {
		l.MaxProblems = def.MaxProblems
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	return l
}

// byteSize formats n as the limits are documented: "10 MiB", "512 KiB".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
