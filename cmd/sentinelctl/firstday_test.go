package main

import (
	"encoding/json"
	"fmt"
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
	groups := map[string]bool{}
	for name := range commands {
		if g, _, ok := strings.Cut(name, " "); ok {
			groups[g] = true
		}
	}
	if len(groups) < 4 {
		t.Fatalf("groups = %v, want at least keys, exports, retention, holds", groups)
	}
	for group := range groups {
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

// TestEveryCommandHasJSON: every command, as registered, takes --json (the
// README promises JSON to scripts from all of them).
func TestEveryCommandHasJSON(t *testing.T) {
	t.Parallel()
	for name := range commands {
		code, out, errs := cli(t, nil, append(strings.Fields(name), "-h")...)
		if code != 0 || !strings.Contains(out+errs, "-json") {
			t.Errorf("%s -h: exit %d, no --json flag:\n%s%s", name, code, out, errs)
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

// TestAdminJSON: admin commands print JSON when stdout is not a terminal
// (the test's buffer is not) or with --json, with snake_case fields and
// [] for an empty list; --json=false asks for text (for keys create, the
// key alone on stdout's last line).
func TestAdminJSON(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "audit.db")
	decode := func(args []string, out string) map[string]any {
		t.Helper()
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v: stdout is not JSON (%v):\n%s", args, err, out)
		}
		return v
	}
	run := func(args ...string) string {
		t.Helper()
		code, out, errs := ctl(t, dbURL, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
		return out
	}
	if v := decode([]string{"migrate"}, run("migrate")); v["migrated"] != true || v["database"] != "sqlite" {
		t.Errorf("migrate: %v", v)
	}
	if out := run("keys", "list", "--tenant", "nobody"); strings.TrimSpace(out) != "{\n  \"keys\": []\n}" {
		t.Errorf("keys list of no keys: %q, want {\"keys\": []}", out)
	}
	secret := strings.TrimSpace(run("keys", "create", "--tenant", "acme", "--name", "ci", "--json=false"))
	if secret == "" || strings.ContainsAny(secret, "\n{") {
		t.Errorf("keys create --json=false: stdout %q, want the key alone", secret)
	}
	created := decode([]string{"keys create"}, run("keys", "create", "--tenant", "acme", "--scopes", "events:read"))
	if k, _ := created["key"].(string); k == "" || k == secret || created["tenant_id"] != "acme" ||
		fmt.Sprint(created["scopes"]) != "[events:read]" {
		t.Errorf("keys create (piped): %v", created)
	}
	list := decode([]string{"keys list"}, run("keys", "list", "--tenant", "acme"))
	keys, _ := list["keys"].([]any)
	if len(keys) != 2 {
		t.Fatalf("keys list: %v", list)
	}
	for _, k := range keys {
		k := k.(map[string]any)
		for _, field := range []string{"id", "tenant_id", "name", "prefix", "scopes", "created_at", "expires_at", "revoked_at", "window"} {
			if _, ok := k[field]; !ok {
				t.Errorf("keys list: a key without %q: %v", field, k)
			}
		}
		if _, ok := k["key"]; ok {
			t.Errorf("keys list shows a secret: %v", k)
		}
	}
	id := fmt.Sprint(created["id"])
	if v := decode([]string{"keys revoke"}, run("keys", "revoke", id)); v["id"] != id || v["revoked"] != true {
		t.Errorf("keys revoke: %v", v)
	}
	if v := decode([]string{"seed"}, run("seed", "--tenant", "acme", "--events", "10", "--seed", "1")); v["events_inserted"] != float64(10) {
		t.Errorf("seed: %v", v)
	}
	if out := run("keys", "list", "--json=false"); !strings.HasPrefix(out, "ID") {
		t.Errorf("keys list --json=false: %q, want the table", out)
	}
}
