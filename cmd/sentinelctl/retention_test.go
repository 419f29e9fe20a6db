package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/manifest"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

func TestRetentionAndHolds(t *testing.T) {
	p := testenv.SQLitePath(t)
	dbURL := "sqlite:" + p
	if code, out, errs := ctl(t, dbURL, "retention", "set", "--tenant", "acme", "--event-days", "30", "--json=false"); code != 0 ||
		!strings.Contains(out, "events kept 30 days; archives kept at least none") {
		t.Fatalf("retention set: %d %q %q", code, out, errs)
	}
	// A flag left out keeps its value.
	if code, out, _ := ctl(t, dbURL, "retention", "set", "--tenant", "acme", "--archive-min-days", "7", "--json=false"); code != 0 ||
		!strings.Contains(out, "events kept 30 days; archives kept at least 7 days") {
		t.Fatalf("retention set archive: %d %q", code, out)
	}
	// Piped, it is the API's JSON with the tenant.
	var pol map[string]any
	if code, out, _ := ctl(t, dbURL, "retention", "show", "--tenant", "acme"); code != 0 || json.Unmarshal([]byte(out), &pol) != nil ||
		pol["tenant_id"] != "acme" || pol["event_days"] != 30.0 || pol["archive_min_days"] != 7.0 || pol["updated_at"] == nil {
		t.Fatalf("retention show: %d %q", code, out)
	}
	if code, _, errs := ctl(t, dbURL, "retention", "set", "--tenant", "acme", "--event-days", "-3"); code != 1 || errs == "" {
		t.Fatalf("retention set -3: %d %q, want refused", code, errs)
	}
	code, out, errs := ctl(t, dbURL, "holds", "create", "--tenant", "acme", "--name", "case 7", "--from", "2026-01-01", "--to", "2026-02-01", "--json=false")
	if code != 0 {
		t.Fatalf("holds create: %d %q", code, errs)
	}
	id := strings.TrimSpace(out)
	if code, out, _ := ctl(t, dbURL, "holds", "list", "--tenant", "acme", "--json=false"); code != 0 || !strings.Contains(out, id) ||
		!strings.Contains(out, "2026-01-01T00:00:00Z") {
		t.Fatalf("holds list: %d %q", code, out)
	}
	var created map[string]any
	code, out, _ = ctl(t, dbURL, "holds", "create", "--tenant", "acme", "--name", "whole tenant")
	if code != 0 || json.Unmarshal([]byte(out), &created) != nil || created["tenant_id"] != "acme" || created["name"] != "whole tenant" ||
		created["id"] == "" || created["range_start"] != nil {
		t.Fatalf("holds create (piped): %d %q", code, out)
	}
	if code, out, _ := ctl(t, dbURL, "holds", "release", "--tenant", "other", id); code != 1 {
		t.Fatalf("another tenant released the hold: %d %q", code, out)
	}
	// The hold id may come before the flags.
	var released map[string]any
	if code, out, errs := ctl(t, dbURL, "holds", "release", id, "--tenant", "acme"); code != 0 ||
		json.Unmarshal([]byte(out), &released) != nil || released["id"] != id || released["released_at"] == nil {
		t.Fatalf("holds release: %d %q %q", code, out, errs)
	}
	var list struct {
		Holds []map[string]any `json:"holds"`
	}
	if code, out, _ := ctl(t, dbURL, "holds", "list", "--tenant", "acme"); code != 0 || json.Unmarshal([]byte(out), &list) != nil ||
		len(list.Holds) != 1 || list.Holds[0]["id"] != created["id"] {
		t.Fatalf("holds list after release: %d %q", code, out)
	}
	if code, out, _ := ctl(t, dbURL, "holds", "list", "--tenant", "nobody"); code != 0 || strings.TrimSpace(out) != "{\n  \"holds\": []\n}" {
		t.Fatalf("holds list of none: %d %q, want {\"holds\": []}", code, out)
	}

	// Every change is in the tenant's stream.
	db, err := sqlite.Open(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got []string
	err = db.StreamEvents(t.Context(), audit.Filter{TenantID: "acme", SystemSources: []string{audit.SelfAuditSource}}, func(e *audit.Event) error {
		got = append(got, e.EventType+"/"+e.SubType)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "retention/changed retention/changed legal_hold/created legal_hold/created legal_hold/released" {
		t.Fatalf("self-audit events = %v", got)
	}
}

// TestSigningKeyOutput: piped, signing-key prints its three parts as JSON;
// --json=false prints the private key alone, the form SIGNING_KEY takes.
func TestSigningKeyOutput(t *testing.T) {
	t.Parallel()
	code, out, errs := ctl(t, "", "signing-key")
	var v map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v["signing_key"] == "" || v["key_id"] == "" || v["public_key"] == "" {
		t.Fatalf("signing-key (piped): %d %q %q", code, out, errs)
	}
	code, out, errs = ctl(t, "", "signing-key", "--json=false")
	seed := strings.TrimSpace(out)
	if code != 0 || seed == "" || strings.ContainsAny(seed, "\n{") || !strings.Contains(errs, "public key") {
		t.Fatalf("signing-key --json=false: %d %q %q", code, out, errs)
	}
	if _, err := manifest.ParseKey(seed); err != nil {
		t.Fatalf("signing-key --json=false printed %q, not a SIGNING_KEY: %v", seed, err)
	}
}
