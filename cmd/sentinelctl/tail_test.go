package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
)

// tail prints the feed as NDJSON and, with --cursor-file, resumes where
// the previous run stopped: every event once across runs.
func TestTail(t *testing.T) {
	env, key := server(t, apptest.Options{})
	vars := map[string]string{"SENTINEL_URL": env.URL, "SENTINEL_API_KEY": key}
	cursorFile := filepath.Join(t.TempDir(), "feed.cursor")
	lines := func(out string) []audit.Event {
		t.Helper()
		var evs []audit.Event
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var e audit.Event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.ID == "" {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			evs = append(evs, e)
		}
		return evs
	}
	// tail until n events arrived (the feed may lag a moment on PostgreSQL;
	// on SQLite it never does, so the first run has them all).
	out := mustCLI(t, vars, "tail", "--event-type", "assessment", "--limit", "37", "--cursor-file", cursorFile)
	first := lines(out)
	if len(first) != 200 {
		t.Fatalf("tail printed %d events, want the 200 assessments", len(first))
	}
	for _, e := range first {
		if e.EventType != "assessment" {
			t.Fatalf("tail printed %+v", e)
		}
	}
	saved, err := os.ReadFile(cursorFile)
	if err != nil || strings.TrimSpace(string(saved)) == "" {
		t.Fatalf("cursor file: %q, %v", saved, err)
	}
	// Caught up: nothing new, nothing again.
	if out := mustCLI(t, vars, "tail", "--event-type", "assessment", "--cursor-file", cursorFile); out != "" {
		t.Fatalf("second run printed %q, want nothing", out)
	}
	env.Ingest(key, []map[string]any{
		{"id": "new-1", "occurred_at": "2026-01-01T00:00:00Z", "event_type": "assessment", "sub_type": "created", "system_source": "tests"},
		{"id": "new-2", "occurred_at": "2026-01-01T00:00:00Z", "event_type": "task", "sub_type": "created", "system_source": "tests"},
	})
	deadline := time.Now().Add(10 * time.Second)
	var third []audit.Event
	for len(third) == 0 && time.Now().Before(deadline) {
		third = lines(mustCLI(t, vars, "tail", "--event-type", "assessment", "--cursor-file", cursorFile))
	}
	if len(third) != 1 || third[0].ID != "new-1" {
		t.Fatalf("after two new events tail printed %+v, want new-1 only", third)
	}
	if code, _, errs := cli(t, vars, "tail", "--cursor", "garbage"); code != 1 || !strings.Contains(errs, "cursor") {
		t.Fatalf("bad cursor: exit %d, %q", code, errs)
	}
}
