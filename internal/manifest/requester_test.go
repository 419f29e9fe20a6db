package manifest_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/manifest"
)

// TestRequestedBy: the requester is signed into new manifests, and a
// manifest without one (every export before it was recorded) has exactly
// the canonical bytes it had before the field existed, so its signature
// still verifies.
func TestRequestedBy(t *testing.T) {
	s := signer(t)
	keys := manifest.PublicKeys{}
	keys.Add(s.PublicKey())

	old, err := manifest.New(exportOf(t), "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	c, err := old.CanonicalBytes()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(c), "requested_by") {
		t.Fatalf("a manifest without a requester writes the field: %s", c)
	}

	e := exportOf(t)
	e.RequesterKeyID, e.RequesterKeyName = "key-1", "ci"
	m, err := manifest.New(e, "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if m, err = s.Sign(m); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"requested_by":{"key_id":"key-1","key_name":"ci"}`) {
		t.Fatalf("manifest JSON: %s", b)
	}
	back, err := manifest.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := manifest.Verify(back, keys); err != nil {
		t.Fatal(err)
	}
	// The requester is covered by the signature.
	back.RequestedBy = &audit.Requester{KeyID: "key-2", KeyName: "ci"}
	if err := manifest.Verify(back, keys); err == nil {
		t.Fatal("a manifest whose requester was changed verifies")
	}
	back.RequestedBy = nil
	if err := manifest.Verify(back, keys); err == nil {
		t.Fatal("a manifest whose requester was removed verifies")
	}

	e = exportOf(t)
	e.ScheduleID = "sched-1"
	if m, _ := manifest.New(e, "1.2.3"); m.RequestedBy == nil || m.RequestedBy.ScheduleID != "sched-1" || m.RequestedBy.KeyID != "" {
		t.Fatalf("scheduled run's requester: %+v", m.RequestedBy)
	}
}
