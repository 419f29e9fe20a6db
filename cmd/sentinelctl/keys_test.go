package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

func TestKeysCreateScoped(t *testing.T) {
	p := testenv.SQLitePath(t)
	dbURL := "sqlite:" + p
	code, out, errs := ctl(t, dbURL, "keys", "create", "--tenant", "acme", "--name", "auditor", "--json=false",
		"--scopes", "events:read,schedules:read", "--expires", "90d", "--window", "2026-01-01/2026-06-30")
	if code != 0 {
		t.Fatalf("keys create: %d %q", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secret := lines[len(lines)-1]
	db, err := sqlite.Open(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	k, err := apikey.Authenticate(t.Context(), db, secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wantWindow := audit.TimeWindow{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)}
	if !slices.Equal(k.Scopes, []audit.Scope{audit.ScopeEventsRead, audit.ScopeSchedulesRead}) || k.ExpiresAt == nil ||
		k.ExpiresAt.Sub(time.Now().AddDate(0, 0, 90)).Abs() > time.Minute || k.Window == nil ||
		!k.Window.Start.Equal(wantWindow.Start) || !k.Window.End.Equal(wantWindow.End) {
		t.Fatalf("created key = %+v (window %+v)", k, k.Window)
	}
	if _, err := apikey.Authenticate(t.Context(), db, secret, time.Now().AddDate(0, 0, 91)); audit.ErrorCode(err) != audit.EUNAUTHORIZED {
		t.Fatalf("key after its expiry: %v", err)
	}
	code, out, _ = ctl(t, dbURL, "keys", "list", "--tenant", "acme", "--json=false") // the table
	if code != 0 || !strings.Contains(out, "events:read,schedules:read") || !strings.Contains(out, "2026-01-01T00:00:00Z/2026-07-01T00:00:00Z") {
		t.Fatalf("keys list: %d %q", code, out)
	}
	for _, bad := range [][]string{
		{"--scopes", "events:read,root"},
		{"--scopes", "events:write", "--window", "2026-01-01/2026-06-30"},
		{"--expires", "yesterday"},
		{"--expires", "2001-01-01"},
		{"--window", "2026-01-01"},
	} {
		args := append([]string{"keys", "create", "--tenant", "acme"}, bad...)
		if code, _, errs := ctl(t, dbURL, args...); code != 1 || errs == "" {
			t.Errorf("keys create %v: exit %d %q, want 1 with a message", bad, code, errs)
		}
	}
}
