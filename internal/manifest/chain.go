package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Chain is a scheduled run's link in its schedule's chain of archives. The
// windows of a schedule's runs are contiguous (WindowStart is the previous
// run's WindowEnd plus one microsecond) and each run also carries the late
// arrivals: the matching events with LateFloor <= occurred_at <
// WindowStart ingested after the previous run's snapshot (PrevSnapshot)
// and up to its own. So every matching event from LateFloor on that a run's
// snapshot sees is in exactly one run up to it, and PrevManifestSHA256 ties
// each run to the manifest of the one before: a missing, altered or
// reordered archive shows.
type Chain struct {
	ScheduleID string `json:"schedule_id"`
	// Seq is the run's number within the schedule, from 1.
	Seq int64 `json:"seq"`
	// WindowStart and WindowEnd bound the run's own window, inclusive
	// (the manifest's range_start and range_end).
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	// LateFloor is the first run's window start: late arrivals are taken
	// from there on.
	LateFloor time.Time `json:"late_floor"`
	// LateCount is how many of the file's events are late arrivals (their
	// occurred_at is before WindowStart).
	LateCount int64 `json:"late_count"`
	// Position is this run's snapshot position (as_of_position);
	// PrevPosition and PrevSnapshot are the previous run's.
	Position     int64  `json:"position"`
	PrevPosition int64  `json:"prev_position,omitempty"`
	PrevSnapshot string `json:"prev_snapshot,omitempty"`
	// PrevExportID is run Seq-1; PrevManifestSHA256 the hex SHA-256 of
	// its manifest's CanonicalBytes, absent when that run failed or was
	// deleted (it has no manifest, and the chain has a hole there).
	PrevExportID       string `json:"prev_export_id,omitempty"`
	PrevManifestSHA256 string `json:"prev_manifest_sha256,omitempty"`
}

// Digest is the hex SHA-256 of m's CanonicalBytes: what the next run of a
// chain states as its PrevManifestSHA256.
func Digest(m Manifest) (string, error) {
	b, err := m.CanonicalBytes()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
