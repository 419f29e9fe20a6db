package app_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/webhook"
)

const webhookSecretPath = "/v5/audit-sentinel/webhook-secret"

// TestOnDemandWebhook: an export whose request carried webhook_url tells
// the receiver how it ended, signed with the tenant's (rotated) secret, and
// its attempts are listed on the export.
func TestOnDemandWebhook(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		o.Env = map[string]string{"WEBHOOK_ALLOW_PRIVATE": "true", "PUBLIC_BASE_URL": "https://audit.example.com"}
		env := apptest.Boot(t, o)
		key, other := env.Key("acme"), env.Key("globex")
		env.Ingest(key, fixture())
		rcv := &receiver{failures: 1, done: make(chan struct{})}
		srv := httptest.NewServer(rcv)
		t.Cleanup(srv.Close)
		hook := srv.URL + "/hooks/audit"
		// Another receiver, so that rcv counts only the attempts of one
		// export.
		sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
		t.Cleanup(sink.Close)
		exportWith := func(key, query, webhookURL string) (*http.Response, map[string]any) {
			t.Helper()
			if webhookURL != "" {
				query += "&webhook_url=" + url.QueryEscape(webhookURL)
			}
			return doJSON(t, env, http.MethodGet, exportPath+"?"+query, key, nil)
		}
		async := func(key, query, webhookURL string) string {
			t.Helper()
			q := query
			if webhookURL != "" {
				q += "&webhook_url=" + url.QueryEscape(webhookURL)
			}
			res, body := env.Do(http.MethodGet, exportPath+"?"+q, key, nil, "Prefer", "respond-async")
			switch res.StatusCode {
			case http.StatusAccepted:
				return jsonField(t, body, "id")
			case http.StatusOK:
				// Attached to an identical export that has already
				// completed: respond-async asks not to wait, and there is
				// nothing to wait for.
				return res.Header.Get("X-Export-Id")
			}
			t.Fatalf("export %s: %d %s", q, res.StatusCode, body)
			return ""
		}

		// No secret yet: refused, so that nothing is signed with a secret
		// the receiver was never shown.
		res, body := exportWith(key, "event_type=task", hook)
		if res.StatusCode != http.StatusConflict || errParam(body) != "webhook_url" ||
			!strings.Contains(body["error"].(map[string]any)["message"].(string), "/webhook-secret") {
			t.Fatalf("without a secret: %d %v", res.StatusCode, body)
		}

		// Create, then rotate: the rotated secret signs.
		res, first := doJSON(t, env, http.MethodPost, webhookSecretPath, key, nil)
		if res.StatusCode != http.StatusCreated || !strings.HasPrefix(first["secret"].(string), "whsec_") || first["created_at"] == nil {
			t.Fatalf("create secret: %d %v", res.StatusCode, first)
		}
		res, second := doJSON(t, env, http.MethodPost, webhookSecretPath, key, nil)
		if res.StatusCode != http.StatusCreated || second["secret"] == first["secret"] {
			t.Fatalf("rotate secret: %d %v (first %v)", res.StatusCode, second, first)
		}
		rcv.mu.Lock()
		rcv.secret = second["secret"].(string)
		rcv.mu.Unlock()

		// The webhook is part of the request's identity.
		const q = "event_type=task&sub_type=created"
		id := async(key, q, hook)
		if again := async(key, q, hook); again != id {
			t.Errorf("identical requests with one webhook: %s and %s", id, again)
		}
		if plain := async(key, q, ""); plain == id {
			t.Errorf("a request without webhook attached to the export with one (%s)", id)
		}
		if elsewhere := async(key, q, sink.URL+"/hook"); elsewhere == id {
			t.Errorf("a request with another webhook attached to %s", id)
		}
		// Another tenant has no secret of its own.
		if res, body := exportWith(other, q, hook); res.StatusCode != http.StatusConflict {
			t.Fatalf("other tenant without a secret: %d %v", res.StatusCode, body)
		}

		done := env.WaitExport(key, id)
		if done["status"] != "completed" {
			t.Fatalf("export: %v", done)
		}
		ev := waitEvent(t, rcv, id)
		if ev.Type != webhook.TypeExportCompleted || ev.Status != "completed" || ev.ScheduleID != "" || ev.Occurrence != nil ||
			ev.SHA256 != done["sha256"] || ev.RowCount != int64(done["rows_written"].(float64)) || ev.RowCount == 0 ||
			ev.SizeBytes != int64(done["size_bytes"].(float64)) ||
			ev.FileURL != "https://audit.example.com/v5/audit-sentinel/exports/"+id+"/file" {
			t.Fatalf("event %+v\nexport %v", ev, done)
		}
		rcv.mu.Lock()
		errs := rcv.errs
		rcv.mu.Unlock()
		if len(errs) > 0 {
			t.Fatalf("receiver saw bad signatures or events: %v", errs)
		}

		// Both attempts are listed on the export, newest first.
		deliveries := "/v5/audit-sentinel/exports/" + id + "/deliveries"
		attempts := waitAttempts(t, env, deliveries, key, 2)
		for i, a := range attempts {
			a := a.(map[string]any)
			wantStatus, wantOK := float64(http.StatusServiceUnavailable), false
			if i == 0 {
				wantStatus, wantOK = http.StatusNoContent, true
			}
			if a["attempt"].(float64) != float64(2-i) || a["status_code"] != wantStatus || a["succeeded"] != wantOK ||
				a["delivery_id"] != ev.ID || a["export_id"] != id || a["url"] != hook {
				t.Fatalf("attempt %d: %v", i, a)
			}
		}
		if res, _ := doJSON(t, env, http.MethodGet, deliveries, other, nil); res.StatusCode != http.StatusNotFound {
			t.Fatalf("other tenant's deliveries: %d", res.StatusCode)
		}
		// An export without a webhook has none.
		plain := async(key, "event_type=workflow", "")
		if _, list := doJSON(t, env, http.MethodGet, "/v5/audit-sentinel/exports/"+plain+"/deliveries", key, nil); len(list["attempts"].([]any)) != 0 {
			t.Fatalf("deliveries of an export without webhook: %v", list)
		}

		// Where private addresses are not allowed (the default), a loopback
		// webhook is refused before anything is created.
		strict := apptest.Boot(t, apptest.Options{Database: o.Database, Storage: o.Storage, NoWorker: true})
		skey := strict.Key("acme")
		if res, body := doJSON(t, strict, http.MethodPost, webhookSecretPath, skey, nil); res.StatusCode != http.StatusCreated {
			t.Fatalf("strict: create secret: %d %v", res.StatusCode, body)
		}
		for _, u := range []string{srv.URL + "/hooks/audit", "http://localhost/hook", "ftp://example.com/hook", "/relative"} {
			res, body := doJSON(t, strict, http.MethodGet, exportPath+"?event_type=task&webhook_url="+url.QueryEscape(u), skey, nil)
			if res.StatusCode != http.StatusBadRequest || errParam(body) != "webhook_url" {
				t.Errorf("strict: webhook_url %s: %d %v, want 400 naming webhook_url", u, res.StatusCode, body)
			}
		}
	})
}

// waitEvent waits for the receiver to take an event about exportID.
func waitEvent(t *testing.T, rcv *receiver, exportID string) webhook.Event {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		rcv.mu.Lock()
		for _, ev := range rcv.events {
			if ev.ExportID == exportID {
				rcv.mu.Unlock()
				return ev
			}
		}
		rcv.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no webhook event about export %s within a minute", exportID)
	return webhook.Event{}
}
