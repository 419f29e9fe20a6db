package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGroupHelp: "keys -h" (every group's -h) prints that group's
// commands and exits 0; the bare group or an unknown sub-command is a
// usage error that shows the same list.
func TestGroupHelp(t *testing.T) {
	t.Parallel()
	for _, group := range []string{"keys", "exports"} {
		code, out, errs := cli(t, nil, group, "-h")
		if code != 0 || !strings.Contains(out, "Usage: sentinelctl "+group+" COMMAND") {
			t.Errorf("%s -h: exit %d\nstdout: %s\nstderr: %s", group, code, out, errs)
		}
		for name := range commands {
			if strings.HasPrefix(name, group+" ") && !strings.Contains(out, name) {
				t.Errorf("%s -h does not list %q:\n%s", group, name, out)
			}
		}
		if code, _, errs := cli(t, nil, group); code != 2 || !strings.Contains(errs, "Usage: sentinelctl "+group) {
			t.Errorf("%s alone: exit %d, stderr %s", group, code, errs)
		}
		if code, _, errs := cli(t, nil, group, "frobnicate"); code != 2 ||
			!strings.Contains(errs, `unknown command "`+group+` frobnicate"`) {
			t.Errorf("%s frobnicate: exit %d, stderr %s", group, code, errs)
		}
	}
}

// TestAdminCommandsCreateNoStrayDatabase: run from a directory without
// ./data/audit.db and without DATABASE_URL, an admin command says which
// database it would use and stops, instead of creating an empty one that
// no server reads. Where the database exists, they work as before.
func TestAdminCommandsCreateNoStrayDatabase(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, args := range [][]string{{"keys", "list"}, {"keys", "create", "--tenant", "acme"}, {"migrate"},
		{"seed", "--tenant", "acme", "--events", "10"}} {
		code, _, errs := ctl(t, "", args...)
		if code != 1 || !strings.Contains(errs, "DATABASE_URL is unset") ||
			!strings.Contains(errs, filepath.Join(dir, "data", "audit.db")) {
			t.Errorf("%v without DATABASE_URL: exit %d, stderr %s", args, code, errs)
		}
		if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
			t.Fatalf("%v created ./data (%v)", args, err)
		}
	}
	// The api's directory: the default database exists.
	if code, out, errs := ctl(t, "sqlite:./data/audit.db", "migrate"); code != 0 {
		t.Fatalf("migrate with DATABASE_URL set: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := ctl(t, "", "keys", "list"); code != 0 {
		t.Errorf("keys list where ./data/audit.db exists: exit %d\n%s%s", code, out, errs)
	}
}

// TestAdminErrorsAreSentences: an error from the domain reads as a
// sentence, never as "audit error: code=not_found message=…".
func TestAdminErrorsAreSentences(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "audit.db")
	if code, out, errs := ctl(t, dbURL, "migrate"); code != 0 {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errs)
	}
	code, _, errs := ctl(t, dbURL, "keys", "revoke", "key_nope")
	if code != 1 || strings.Contains(errs, "code=") || strings.Contains(errs, "audit error") ||
		!strings.Contains(errs, "not found") {
		t.Errorf("keys revoke of an unknown key: exit %d, stderr %q", code, errs)
	}
}
