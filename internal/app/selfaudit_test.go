package app_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/httpapi"
)

// TestSelfAudit: the service's own actions land in the tenant's stream as
// ordinary events (system_source audit_sentinel) that export like any
// other, and no client can write that source.
func TestSelfAudit(t *testing.T) {
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file", Env: map[string]string{"WEBHOOK_ALLOW_PRIVATE": "true"}})
	admin := env.Key("acme")
	env.Ingest(admin, fixture())
	ct := []string{"Content-Type", "application/json"}
	p := httpapi.Prefix

	// Forgery is refused, in either batch format.
	res, body := env.Do(http.MethodPost, p+"/events", admin, strings.NewReader(
		`{"events":[{"id":"forged","occurred_at":"2026-04-10T00:00:00Z","event_type":"export","sub_type":"deleted","system_source":"audit_sentinel"}]}`), ct...)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"field":"system_source"`) {
		t.Fatalf("forged self-audit event: %d %s", res.StatusCode, body)
	}
	res, body = env.Do(http.MethodPost, p+"/events", admin, strings.NewReader(
		`{"id":"forged2","occurred_at":"2026-04-10T00:00:00Z","event_type":"export","sub_type":"deleted","system_source":"Audit_Sentinel"}`+"\n"),
		"Content-Type", "application/x-ndjson")
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("forged self-audit event (NDJSON, other case): %d %s", res.StatusCode, body)
	}

	readerSecret := createKey(t, env, admin, `{"name":"reader","scopes":["events:read","exports:manage"]}`)
	res, _ = env.Do(http.MethodGet, exportPath+"?event_type=task", readerSecret, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export: %d", res.StatusCode)
	}
	exportID := res.Header.Get("X-Export-Id")
	if res, _ := env.Do(http.MethodGet, p+"/exports/"+exportID+"/file", readerSecret, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("file: %d", res.StatusCode)
	}
	if res, _ := env.Do(http.MethodDelete, p+"/exports/"+exportID, readerSecret, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if res, _ := env.Do(http.MethodPost, p+"/webhook-secret", admin, nil); res.StatusCode != http.StatusCreated {
		t.Fatalf("webhook secret: %d", res.StatusCode)
	}
	res, body = env.Do(http.MethodPost, p+"/export-schedules", admin, strings.NewReader(
		`{"name":"Weekly","cron":"0 6 * * 1","timezone":"UTC","window":{"kind":"previous_week"}}`), ct...)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("schedule: %d %s", res.StatusCode, body)
	}
	sid := jsonField(t, body, "id")
	if res, _ := env.Do(http.MethodPatch, p+"/export-schedules/"+sid, admin, strings.NewReader(`{"enabled":false}`), ct...); res.StatusCode != http.StatusOK {
		t.Fatalf("patch schedule: %d", res.StatusCode)
	}
	if res, _ := env.Do(http.MethodDelete, p+"/export-schedules/"+sid, admin, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete schedule: %d", res.StatusCode)
	}
	keys, err := env.Deps.Store.ListAPIKeys(t.Context(), "acme")
	apptest.Must(t, err)
	var readerID string
	for _, k := range keys {
		if k.Name == "reader" {
			readerID = k.ID
		}
	}
	if res, _ := env.Do(http.MethodDelete, p+"/api-keys/"+readerID, admin, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	// A refused request records nothing.
	env.Do(http.MethodDelete, p+"/api-keys/nope", admin, nil)

	want := []string{"api_key/created", "api_key/revoked", "export/completed", "export/deleted", "export/downloaded",
		"export/requested", "schedule/changed", "schedule/created", "schedule/deleted", "webhook_secret/rotated"}
	var got []string
	f := audit.Filter{TenantID: "acme", SystemSources: []string{"audit_sentinel"}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got = got[:0]
		var events []audit.Event
		apptest.Must(t, env.Deps.Store.StreamEvents(t.Context(), f, func(e *audit.Event) error {
			events = append(events, *e)
			got = append(got, e.EventType+"/"+e.SubType)
			return nil
		}))
		slices.Sort(got)
		got = slices.Compact(got)
		if slices.Equal(got, want) || time.Now().After(deadline) {
			for _, e := range events {
				if e.EventType == "export" && e.SubType == "downloaded" &&
					(e.AuditeeID != "key:"+readerID || e.Metadata["export_id"] != exportID || e.Metadata["actor_key_name"] != "reader") {
					t.Errorf("download event: %+v", e)
				}
				if e.EventType == "api_key" && e.SubType == "created" && e.Metadata["key_id"] == readerID &&
					e.Metadata["scopes"] != "events:read exports:manage" {
					t.Errorf("key created event: %+v", e)
				}
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("self-audit events: %v, want %v", got, want)
	}
	var downloads int
	apptest.Must(t, env.Deps.Store.StreamEvents(t.Context(), audit.Filter{TenantID: "acme", SystemSources: []string{"audit_sentinel"},
		SubTypes: []string{"downloaded"}}, func(*audit.Event) error { downloads++; return nil }))
	if downloads != 2 { // the export endpoint's file, then /file
		t.Errorf("%d download events, want 2", downloads)
	}

	// They are ordinary events: exportable and filterable.
	res, body = env.Do(http.MethodGet, exportPath+"?system_source=audit_sentinel&event_type=api_key&file_type=csv", admin, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export of the self-audit: %d %s", res.StatusCode, body)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	apptest.Must(t, err)
	if len(rows) != 3 { // header, created, revoked
		t.Fatalf("self-audit CSV: %q", rows)
	}
}
