// Package manifest proves the integrity of completed exports. A Manifest
// describes one export file (its filters, size, SHA-256, first and last
// event) and carries an Ed25519 signature by the service, so that anyone
// holding the service's public key can check, offline, that a file is
// exactly what the service produced for that export.
package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// Version is the format of the manifests this package writes and reads.
const Version = "sentinel-manifest/v1"

// Manifest describes a completed export. The JSON field order below is
// part of the format: see CanonicalBytes.
type Manifest struct {
	Version  string `json:"version"`
	ExportID string `json:"export_id"`
	TenantID string `json:"tenant_id"`
	// Filters are the export's canonical parameters (audit.ExportParams).
	Filters audit.ExportParams `json:"filters"`
	// RangeStart and RangeEnd are the requested time range, inclusive;
	// null when the request left that side open.
	RangeStart *time.Time `json:"range_start"`
	RangeEnd   *time.Time `json:"range_end"`
	RowCount   int64      `json:"row_count"`
	ByteSize   int64      `json:"byte_size"`
	// SHA256 is the lower-case hex digest of the file's bytes.
	SHA256         string    `json:"sha256"`
	FirstEventID   string    `json:"first_event_id"`
	LastEventID    string    `json:"last_event_id"`
	CreatedAt      time.Time `json:"created_at"`
	CompletedAt    time.Time `json:"completed_at"`
	ServiceVersion string    `json:"service_version"`
	// ProducerVersion is the version of the worker that rendered the
	// file; ServiceVersion is the signer's. They differ during a rolling
	// deployment. Absent from manifests of files made before it was
	// recorded (omitempty keeps those manifests' signed bytes as they were).
	ProducerVersion string `json:"producer_version,omitempty"`
	// AsOf is when the export's snapshot was taken, AsOfPosition its
	// ingest position and AsOfSnapshot the snapshot itself
	// ("xmin:xmax:in-progress,..."): the file holds exactly the matching
	// events ingested in it. Absent for exports made before snapshots were
	// recorded (omitempty keeps those manifests' signed bytes as they were).
	AsOf         *time.Time `json:"as_of,omitempty"`
	AsOfPosition int64      `json:"as_of_position,omitempty"`
	AsOfSnapshot string     `json:"as_of_snapshot,omitempty"`
	// KeyID names the public key that checks Signature (see KeyID).
	// RequestedBy is the key or schedule that asked for the export. Absent
	// for exports made before it was recorded, so that their manifests'
	// signed bytes are what they always were.
	RequestedBy *audit.Requester `json:"requested_by,omitempty"`
	// Chain places a scheduled run in its schedule's chain of archives
	// (chain.go). Absent for other exports, whose signed bytes are what
	// they always were.
	Chain *Chain `json:"chain,omitempty"`
	KeyID string `json:"key_id"`
	// Signature is the standard base64 Ed25519 signature of
	// CanonicalBytes.
	Signature string `json:"signature,omitempty"`
}

// New returns the unsigned manifest of a completed export.
func New(e audit.Export, serviceVersion string) (Manifest, error) {
	if e.Status != audit.StatusCompleted || e.CompletedAt == nil {
		return Manifest{}, fmt.Errorf("manifest: export %s is %s, not completed", e.ID, e.Status)
	}
	p := e.Params.Canonical()
	m := Manifest{
		Version:         Version,
		ExportID:        e.ID,
		TenantID:        e.TenantID,
		Filters:         p,
		RangeStart:      p.Filter.RangeStart,
		RangeEnd:        p.Filter.RangeEnd,
		RowCount:        e.RowsWritten,
		ByteSize:        e.SizeBytes,
		SHA256:          e.SHA256,
		FirstEventID:    e.FirstEventID,
		LastEventID:     e.LastEventID,
		CreatedAt:       e.CreatedAt,
		CompletedAt:     *e.CompletedAt,
		ServiceVersion:  serviceVersion,
		ProducerVersion: e.ProducerVersion,
		RequestedBy:     e.Requester(),
	}
	if e.AsOf != nil {
		at := e.AsOf.At
		m.AsOf, m.AsOfPosition, m.AsOfSnapshot = &at, e.AsOf.Snapshot.Position(), e.AsOf.Snapshot.String()
	}
	return m, nil
}

// normalized returns m in the one form that is signed: times in UTC at the
// stored precision, filters canonical.
func (m Manifest) normalized() Manifest {
	m.Filters = m.Filters.Canonical()
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC().Truncate(audit.TimePrecision)
		return &u
	}
	m.RangeStart, m.RangeEnd, m.AsOf = utc(m.RangeStart), utc(m.RangeEnd), utc(m.AsOf)
	if m.Chain != nil {
		c := *m.Chain
		c.WindowStart, c.WindowEnd, c.LateFloor = *utc(&c.WindowStart), *utc(&c.WindowEnd), *utc(&c.LateFloor)
		m.Chain = &c
	}
	m.CreatedAt = m.CreatedAt.UTC().Truncate(audit.TimePrecision)
	m.CompletedAt = m.CompletedAt.UTC().Truncate(audit.TimePrecision)
	return m
}

// CanonicalBytes returns the bytes the signature covers: the manifest,
// normalized (times in UTC truncated to microseconds, filter lists sorted
// and de-duplicated), with Signature empty and so omitted, encoded as
// compact JSON by encoding/json — fields in the order of the Manifest
// struct, map keys sorted, no insignificant white space, no trailing
// newline, times in RFC 3339 with the fraction's trailing zeros dropped,
// and <, >, & escaped as \u003c, \u003e, \u0026. A manifest read back from
// any JSON rendering of itself has the same canonical bytes.
func (m Manifest) CanonicalBytes() ([]byte, error) {
	m = m.normalized()
	m.Signature = ""
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("manifest: encode: %w", err)
	}
	return b, nil
}

// ErrFormat reports a manifest that cannot be read or is of another
// version.
var ErrFormat = errors.New("manifest: not a " + Version + " manifest")

// Parse reads a manifest as served by the API. Unknown fields are refused,
// since they would not be covered by the signature.
func Parse(r io.Reader) (Manifest, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if dec.More() {
		return Manifest{}, fmt.Errorf("%w: data after the manifest", ErrFormat)
	}
	if m.Version != Version {
		return Manifest{}, fmt.Errorf("%w: version %q", ErrFormat, m.Version)
	}
	return m, nil
}
