package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// ctl runs sentinelctl with DATABASE_URL set and returns its exit code,
// stdout and stderr.
func ctl(t *testing.T, dbURL string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string {
		if k == "DATABASE_URL" {
			return dbURL
		}
		return ""
	}}
	code := run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

func TestAdminCommands(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			var dbURL string
			var open func() (*sqlstore.DB, error)
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			if backend == "sqlite" {
				p := testenv.SQLitePath(t)
				dbURL = "sqlite:" + p
				open = func() (*sqlstore.DB, error) { return sqlite.Open(context.Background(), p, logger) }
			} else {
				dbURL = testenv.PostgresURL(t)
				open = func() (*sqlstore.DB, error) { return postgres.Open(context.Background(), dbURL, logger) }
			}
			if code, out, errs := ctl(t, dbURL, "migrate"); code != 0 || !strings.Contains(out, "migrated") {
				t.Fatalf("migrate: %d %q %q", code, out, errs)
			}
			code, out, errs := ctl(t, dbURL, "keys", "create", "--tenant", "acme", "--name", "ci", "--json=false")
			if code != 0 {
				t.Fatalf("keys create: %d %q", code, errs)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			secret := lines[len(lines)-1]
			db, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			k, err := apikey.Authenticate(t.Context(), db, secret, time.Now())
			if err != nil || k.TenantID != "acme" || k.Name != "ci" {
				t.Fatalf("the printed key does not authenticate: %+v %v", k, err)
			}
			code, out, _ = ctl(t, dbURL, "keys", "list", "--tenant", "acme")
			if code != 0 || !strings.Contains(out, k.ID) || strings.Contains(out, secret) {
				t.Fatalf("keys list: %d %q (must list the key, never its secret)", code, out)
			}
			if code, _, errs := ctl(t, dbURL, "keys", "revoke", k.ID); code != 0 {
				t.Fatalf("revoke: %d %q", code, errs)
			}
			if _, err := apikey.Authenticate(t.Context(), db, secret, time.Now()); audit.ErrorCode(err) != audit.EUNAUTHORIZED {
				t.Fatalf("revoked key still authenticates: %v", err)
			}
			if code, _, errs := ctl(t, dbURL, "keys", "revoke", "no-such-key"); code != 1 || !strings.Contains(errs, "not found") {
				t.Fatalf("revoke unknown: %d %q", code, errs)
			}
			code, out, errs = ctl(t, dbURL, "seed", "--tenant", "acme", "--events", "5000", "--seed", "3")
			if code != 0 || !strings.Contains(out, `"events_inserted": 5000`) { // JSON: stdout is no terminal
				t.Fatalf("seed: %d %q %q", code, out, errs)
			}
			n, err := db.CountEvents(t.Context(), audit.Filter{TenantID: "acme"}, 0)
			if err != nil || n != 5000 {
				t.Fatalf("after seed: %d events, %v", n, err)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	dbURL := "sqlite:" + testenv.SQLitePath(t)
	if code, _, _ := ctl(t, dbURL, "keys", "create"); code != 2 {
		t.Errorf("keys create without --tenant: exit %d, want 2", code)
	}
	if code, _, errs := ctl(t, dbURL, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Errorf("unknown command: %d %q", code, errs)
	}
	if code, out, _ := ctl(t, dbURL, "--help"); code != 0 || !strings.Contains(out, "keys create") {
		t.Errorf("--help: %d %q", code, out)
	}
	if code, _, errs := ctl(t, "mysql://x", "migrate"); code != 1 || !strings.Contains(errs, "DATABASE_URL") {
		t.Errorf("bad DATABASE_URL: %d %q", code, errs)
	}
}
