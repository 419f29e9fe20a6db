package app_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/httpapi"
)

// TestAuditorWindow: a key limited to a window gets exports clamped to it,
// 403 for a range wholly outside it, and never sees others' exports that
// reach beyond it.
func TestAuditorWindow(t *testing.T) {
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file"})
	admin := env.Key("acme")
	env.Ingest(admin, fixture()) // hourly from 2026-04-10T00:00Z, 60 events
	auditor := createKey(t, env, admin, `{"name":"Q2 auditor","scopes":["events:read"],"window":"2026-04-11/2026-04-11"}`)

	// Unbounded: clamped to the day, and the status says so.
	res, body := env.Do(http.MethodGet, exportPath+"?file_type=csv", auditor, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("auditor export: %d %s", res.StatusCode, body)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	apptest.Must(t, err)
	if len(rows) != 1+24 || rows[1][0] != "evt-024" || rows[24][0] != "evt-047" {
		t.Fatalf("clamped export: %d rows, first %v", len(rows), rows[1])
	}
	mine := res.Header.Get("X-Export-Id")
	var st httpapi.ExportStatus
	_, body = env.Do(http.MethodGet, httpapi.Prefix+"/exports/"+mine, auditor, nil)
	apptest.Must(t, json.Unmarshal(body, &st))
	wantStart, wantEnd := time.Date(2026, 4, 11, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 11, 23, 59, 59, 999999000, time.UTC)
	if st.Filters.RangeStart == nil || !st.Filters.RangeStart.Equal(wantStart) || st.Filters.RangeEnd == nil || !st.Filters.RangeEnd.Equal(wantEnd) {
		t.Fatalf("clamped status filters: %s", body)
	}
	// Partly inside: the overlap.
	res, body = env.Do(http.MethodGet, exportPath+"?file_type=csv&range_start=2026-04-11T20:00:00Z&range_end=2026-04-12T05:00:00Z", auditor, nil)
	rows, _ = csv.NewReader(bytes.NewReader(body)).ReadAll()
	if res.StatusCode != http.StatusOK || len(rows) != 1+4 {
		t.Fatalf("overlapping range: %d, %d rows", res.StatusCode, len(rows))
	}
	// Wholly outside: refused.
	res, body = env.Do(http.MethodGet, exportPath+"?range_start=2026-04-12T00:00:00Z", auditor, nil)
	if res.StatusCode != http.StatusForbidden || errorOf(t, body).Param != "range_start" {
		t.Fatalf("range outside the window: %d %s", res.StatusCode, body)
	}

	// Others' exports beyond the window do not exist for the auditor.
	res, _ = env.Do(http.MethodGet, exportPath+"?event_type=task", admin, nil)
	theirs := res.Header.Get("X-Export-Id")
	res, _ = env.Do(http.MethodGet, exportPath+"?event_type=task&range_start=2026-04-11T01:00:00Z&range_end=2026-04-11T02:00:00Z", admin, nil)
	inside := res.Header.Get("X-Export-Id")
	for _, p := range []string{"", "/file", "/manifest", "/deliveries"} {
		if res, body := env.Do(http.MethodGet, httpapi.Prefix+"/exports/"+theirs+p, auditor, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("auditor GET others' export%s: %d %s", p, res.StatusCode, body)
		}
	}
	if res, _ := env.Do(http.MethodHead, httpapi.Prefix+"/exports/"+theirs+"/file", auditor, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("auditor HEAD others' file: %d", res.StatusCode)
	}
	if res, _ := env.Do(http.MethodGet, httpapi.Prefix+"/exports/"+inside, auditor, nil); res.StatusCode != http.StatusOK {
		t.Errorf("auditor GET an export within the window: %d", res.StatusCode)
	}
	if res, _ := env.Do(http.MethodGet, httpapi.Prefix+"/exports/"+theirs, admin, nil); res.StatusCode != http.StatusOK {
		t.Errorf("admin GET own export: %d", res.StatusCode)
	}
	_, body = env.Do(http.MethodGet, httpapi.Prefix+"/exports", auditor, nil)
	var l httpapi.ArchiveList
	apptest.Must(t, json.Unmarshal(body, &l))
	seen := map[string]bool{}
	for _, e := range l.Exports {
		seen[e.ID] = true
	}
	if seen[theirs] || !seen[mine] || !seen[inside] || len(l.Exports) != 3 {
		t.Errorf("auditor's listing: %s", body)
	}
}
