package main

import (
	"context"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

func TestRetentionAndHolds(t *testing.T) {
	p := testenv.SQLitePath(t)
	dbURL := "sqlite:" + p
	if code, out, errs := ctl(t, dbURL, "retention", "set", "--tenant", "acme", "--event-days", "30"); code != 0 ||
		!strings.Contains(out, "events kept 30 days; archives kept at least none") {
		t.Fatalf("retention set: %d %q %q", code, out, errs)
	}
	// A flag left out keeps its value.
	if code, out, _ := ctl(t, dbURL, "retention", "set", "--tenant", "acme", "--archive-min-days", "7"); code != 0 ||
		!strings.Contains(out, "events kept 30 days; archives kept at least 7 days") {
		t.Fatalf("retention set archive: %d %q", code, out)
	}
	if code, out, _ := ctl(t, dbURL, "retention", "show", "--tenant", "acme"); code != 0 || !strings.Contains(out, "30 days") {
		t.Fatalf("retention show: %d %q", code, out)
	}
	if code, _, errs := ctl(t, dbURL, "retention", "set", "--tenant", "acme", "--event-days", "-3"); code != 1 || errs == "" {
		t.Fatalf("retention set -3: %d %q, want refused", code, errs)
	}
	code, out, errs := ctl(t, dbURL, "holds", "create", "--tenant", "acme", "--name", "case 7", "--from", "2026-01-01", "--to", "2026-02-01")
	if code != 0 {
		t.Fatalf("holds create: %d %q", code, errs)
	}
	id := strings.TrimSpace(out)
	if code, out, _ := ctl(t, dbURL, "holds", "list", "--tenant", "acme"); code != 0 || !strings.Contains(out, id) ||
		!strings.Contains(out, "2026-01-01T00:00:00Z") {
		t.Fatalf("holds list: %d %q", code, out)
	}
	if code, out, _ := ctl(t, dbURL, "holds", "release", "--tenant", "other", id); code != 1 {
		t.Fatalf("another tenant released the hold: %d %q", code, out)
	}
	if code, _, errs := ctl(t, dbURL, "holds", "release", "--tenant", "acme", id); code != 0 {
		t.Fatalf("holds release: %d %q", code, errs)
	}
	if code, out, _ := ctl(t, dbURL, "holds", "list", "--tenant", "acme"); code != 0 || strings.Contains(out, id) {
		t.Fatalf("holds list after release: %d %q", code, out)
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
	if strings.Join(got, " ") != "retention/changed retention/changed legal_hold/created legal_hold/released" {
		t.Fatalf("self-audit events = %v", got)
	}
}
