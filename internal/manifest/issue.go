package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// IssueStore is what issuing manifests needs from the store.
type IssueStore interface {
	GetExport(ctx context.Context, tenantID, id string) (audit.Export, error)
	FrozenManifest(ctx context.Context, tenantID, id string) ([]byte, error)
	FreezeManifest(ctx context.Context, tenantID, id string, manifest []byte) ([]byte, error)
	CountEvents(ctx context.Context, f audit.Filter, limit int64) (int64, error)
}

// Issuer hands out the signed manifests of completed exports.
//
// A manifest of an export outside a chain is signed on request: every field
// comes from the completed, immutable record and Ed25519 signatures are
// deterministic, so it is the same under the same key and version, and a
// rotated key signs old exports too.
//
// A scheduled run's manifest is frozen instead: built and signed the first
// time it is asked for, stored on the export, and served as stored ever
// after, signature included. The next run's manifest states the SHA-256 of
// its canonical bytes, which must not change when the service is upgraded
// (service_version) or its key rotated; a frozen manifest keeps verifying
// with its key as long as /signing-keys lists it, as retired keys stay
// listed. A run's manifest needs its predecessor's frozen bytes, so the
// predecessors not frozen yet are built first, oldest first.
type Issuer struct {
	Store   IssueStore
	Signer  *Signer
	Version string
}

// Issue returns the signed manifest of e, a completed export. For a run
// whose predecessor is still queued or running it answers ECONFLICT: its
// manifest cannot link to one that does not exist yet.
func (is *Issuer) Issue(ctx context.Context, e audit.Export) (Manifest, error) {
	if e.Chain == nil {
		m, err := New(e, is.Version)
		if err != nil {
			return Manifest{}, err
		}
		return is.Signer.Sign(m)
	}
	// Walk back to a frozen manifest, the first run or a run without a
	// manifest (failed, deleted); then build and freeze forward.
	todo := []audit.Export{e}
	prevDigest := ""
	for {
		cur := todo[len(todo)-1]
		frozen, err := is.Store.FrozenManifest(ctx, cur.TenantID, cur.ID)
		if err != nil {
			return Manifest{}, fmt.Errorf("manifest: frozen manifest of %s: %w", cur.ID, err)
		}
		if frozen != nil {
			todo = todo[:len(todo)-1]
			if len(todo) == 0 {
				return parseFrozen(frozen)
			}
			if prevDigest, err = frozenDigest(frozen); err != nil {
				return Manifest{}, err
			}
			break
		}
		if cur.Chain.PrevExportID == "" {
			break
		}
		prev, err := is.Store.GetExport(ctx, cur.TenantID, cur.Chain.PrevExportID)
		if errors.Is(err, audit.ErrNotFound) {
			break // deleted: the link names it, without a digest
		}
		if err != nil {
			return Manifest{}, fmt.Errorf("manifest: previous run %s: %w", cur.Chain.PrevExportID, err)
		}
		if prev.Status == audit.StatusQueued || prev.Status == audit.StatusRunning {
			return Manifest{}, &audit.Error{Code: audit.ECONFLICT, Message: fmt.Sprintf(
				"the previous run %s (run %d of schedule %s) is not complete yet (%s); "+
					"this run's manifest links to its manifest: ask again when it has finished",
				prev.ID, cur.Chain.Seq-1, cur.ScheduleID, prev.Status)}
		}
		if prev.Status == audit.StatusFailed || prev.Chain == nil {
			break // no manifest: the link names it, without a digest
		}
		todo = append(todo, prev)
	}
	var m Manifest
	for i := len(todo) - 1; i >= 0; i-- {
		frozen, err := is.freeze(ctx, todo[i], prevDigest)
		if err != nil {
			return Manifest{}, err
		}
		if m, err = parseFrozen(frozen); err != nil {
			return Manifest{}, err
		}
		if prevDigest, err = Digest(m); err != nil {
			return Manifest{}, err
		}
	}
	return m, nil
}

// freeze builds, signs and freezes the manifest of run e whose
// predecessor's manifest has prevDigest ("" when it has none), and returns
// the frozen bytes: those of a concurrent freeze if it came first.
func (is *Issuer) freeze(ctx context.Context, e audit.Export, prevDigest string) ([]byte, error) {
	if e.Status == audit.StatusExpired {
		// Its file is gone but its record is what it was when completed:
		// a successor's manifest still needs its manifest's digest.
		e.Status = audit.StatusCompleted
	}
	m, err := New(e, is.Version)
	if err != nil {
		return nil, err
	}
	c := e.Chain
	f := e.Params.Filter
	if f.RangeStart == nil || f.RangeEnd == nil || e.AsOf == nil {
		return nil, fmt.Errorf("manifest: run %s has no window or snapshot", e.ID)
	}
	m.Chain = &Chain{
		ScheduleID:         e.ScheduleID,
		Seq:                c.Seq,
		WindowStart:        *f.RangeStart,
		WindowEnd:          *f.RangeEnd,
		LateFloor:          c.Start,
		Position:           e.AsOf.Snapshot.Position(),
		PrevExportID:       c.PrevExportID,
		PrevManifestSHA256: prevDigest,
	}
	if c.PrevSnapshot != nil {
		m.Chain.PrevPosition, m.Chain.PrevSnapshot = c.PrevSnapshot.Position(), c.PrevSnapshot.String()
		// The late arrivals: before the window, from the floor, in this
		// run's snapshot and not in the previous one's (audit.LateRule).
		late := f
		late.TenantID = e.TenantID
		floor, end := c.Start, f.RangeStart.Add(-audit.TimePrecision)
		late.RangeStart, late.RangeEnd = &floor, &end
		late.AsOf, late.After, late.Late = &e.AsOf.Snapshot, c.PrevSnapshot, nil
		if !end.Before(floor) {
			if m.Chain.LateCount, err = is.Store.CountEvents(ctx, late, 0); err != nil {
				return nil, fmt.Errorf("manifest: count late events of %s: %w", e.ID, err)
			}
		}
	}
	if m, err = is.Signer.Sign(m); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("manifest: encode %s: %w", e.ID, err)
	}
	frozen, err := is.Store.FreezeManifest(ctx, e.TenantID, e.ID, b)
	if err != nil {
		return nil, fmt.Errorf("manifest: freeze manifest of %s: %w", e.ID, err)
	}
	return frozen, nil
}

func parseFrozen(b []byte) (Manifest, error) {
	m, err := Parse(bytes.NewReader(b))
	if err != nil {
		return Manifest{}, fmt.Errorf("manifest: frozen manifest: %w", err)
	}
	return m, nil
}

func frozenDigest(b []byte) (string, error) {
	m, err := parseFrozen(b)
	if err != nil {
		return "", err
	}
	return Digest(m)
}
