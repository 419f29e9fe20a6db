package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/webhook"
)

const schedulesPath = "/v5/audit-sentinel/export-schedules"

func doJSON(t *testing.T, env *apptest.Env, method, path, key string, body any) (*http.Response, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			r = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
	}
	res, raw := env.Do(method, path, key, r, "Content-Type", "application/json")
	out := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
		}
	}
	return res, out
}

func errParam(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	p, _ := e["param"].(string)
	return p
}

func weekly() map[string]any {
	return map[string]any{
		"name": "Weekly logins", "cron": "0 6 * * 1", "timezone": "Europe/Berlin",
		"window":  map[string]any{"kind": "previous_week"},
		"filters": map[string]any{"event_type": []string{"task"}, "metadata": map[string]any{"entity_id": []string{"ent-1"}}, "locale": "de", "timezone": "Europe/Berlin"},
	}
}

func TestSchedulesAPI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		key, other := env.Key("acme"), env.Key("globex")

		res, created := doJSON(t, env, http.MethodPost, schedulesPath, key, weekly())
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %v", res.StatusCode, created)
		}
		id, _ := created["id"].(string)
		secret, _ := created["webhook_secret"].(string)
		if id == "" || !strings.HasPrefix(secret, "whsec_") || res.Header.Get("Location") != schedulesPath+"/"+id {
			t.Fatalf("create answer: %v, Location %q", created, res.Header.Get("Location"))
		}
		if created["enabled"] != true || created["retention_days"].(float64) < 1 || created["next_run_at"] == nil {
			t.Fatalf("defaults: %v", created)
		}
		f := created["filters"].(map[string]any)
		if f["file_type"] != "csv" || f["locale"] != "de" || f["timezone"] != "Europe/Berlin" {
			t.Fatalf("filters: %v", f)
		}

		// Read: the secret is never shown again.
		res, got := doJSON(t, env, http.MethodGet, schedulesPath+"/"+id, key, nil)
		if res.StatusCode != http.StatusOK || got["webhook_secret"] != nil || got["name"] != "Weekly logins" {
			t.Fatalf("get: %d %v", res.StatusCode, got)
		}

		// Partial update.
		res, got = doJSON(t, env, http.MethodPatch, schedulesPath+"/"+id, key,
			map[string]any{"enabled": false, "filters": map[string]any{"file_type": "pdf"}})
		if res.StatusCode != http.StatusOK || got["enabled"] != false || got["name"] != "Weekly logins" ||
			got["filters"].(map[string]any)["file_type"] != "pdf" || got["filters"].(map[string]any)["locale"] != "de" ||
			got["next_run_at"] != nil {
			t.Fatalf("patch: %d %v", res.StatusCode, got)
		}

		// Validation names the field.
		for _, c := range []struct {
			method, path string
			body         any
			param        string
		}{
			{http.MethodPost, schedulesPath, map[string]any{"name": "x", "cron": "61 * * * *", "timezone": "UTC", "window": map[string]any{"kind": "previous_day"}}, "cron"},
			{http.MethodPost, schedulesPath, map[string]any{"name": "x", "cron": "0 6 * * *", "timezone": "Mars/Olympus", "window": map[string]any{"kind": "previous_day"}}, "timezone"},
			{http.MethodPost, schedulesPath, map[string]any{"name": "x", "cron": "0 6 * * *", "timezone": "UTC", "window": map[string]any{"kind": "fortnight"}}, "window.kind"},
			{http.MethodPost, schedulesPath, map[string]any{"name": "x", "cron": "0 6 * * *", "timezone": "UTC", "window": map[string]any{"kind": "last_hours"}}, "window.hours"},
			{http.MethodPost, schedulesPath, map[string]any{"name": "", "cron": "0 6 * * *", "timezone": "UTC", "window": map[string]any{"kind": "previous_day"}}, "name"},
			{http.MethodPatch, schedulesPath + "/" + id, map[string]any{"filters": map[string]any{"event_type": []string{""}}}, "filters.event_type"},
			{http.MethodPatch, schedulesPath + "/" + id, map[string]any{"filters": map[string]any{"metadata": map[string]any{"nope": []string{"x"}}}}, "filters.metadata[nope]"},
			{http.MethodPatch, schedulesPath + "/" + id, map[string]any{"filters": map[string]any{"locale": "xx"}}, "filters.locale"},
			{http.MethodPatch, schedulesPath + "/" + id, map[string]any{"filters": map[string]any{"paper": "b5"}}, "filters.paper"},
			{http.MethodPatch, schedulesPath + "/" + id, map[string]any{"retention_days": 0}, "retention_days"},
			{http.MethodPatch, schedulesPath + "/" + id, map[string]any{"cron": "@daily"}, "cron"},
			{http.MethodPatch, schedulesPath + "/" + id, map[string]any{"webhook_url": "ftp://example.com"}, "webhook_url"},
			{http.MethodPatch, schedulesPath + "/" + id, map[string]any{"nmae": "typo"}, "nmae"}, //nolint:misspell // the typo is the point: unknown fields are refused
			{http.MethodPatch, schedulesPath + "/" + id, map[string]any{"filters": map[string]any{"range_start": "2026-01-01T00:00:00Z"}}, "filters.range_start"},
			{http.MethodPatch, schedulesPath + "/" + id, map[string]any{"window": map[string]any{"kind": "previous_day", "size": 1}}, "window.size"},
			{http.MethodPatch, schedulesPath + "/" + id, map[string]any{"retention_days": "ten"}, "retention_days"},
			{http.MethodPatch, schedulesPath + "/" + id, `{"name": "x"`, "body"},
			{http.MethodGet, schedulesPath + "?limit=100000", nil, "limit"},
			{http.MethodGet, schedulesPath + "?cursor=garbage", nil, "cursor"},
		} {
			res, body := doJSON(t, env, c.method, c.path, key, c.body)
			if res.StatusCode != http.StatusBadRequest || errParam(body) != c.param {
				t.Errorf("%s %s %v: %d %v, want 400 naming %s", c.method, c.path, c.body, res.StatusCode, body, c.param)
			}
		}

		// SSRF: a loopback webhook is refused when private addresses are not
		// allowed (the default).
		body := weekly()
		body["webhook_url"] = "http://127.0.0.1:9/hook"
		if res, got := doJSON(t, env, http.MethodPost, schedulesPath, key, body); res.StatusCode != http.StatusBadRequest ||
			errParam(got) != "webhook_url" {
			t.Fatalf("loopback webhook: %d %v", res.StatusCode, got)
		}
		body["webhook_url"] = "http://localhost/hook"
		if res, got := doJSON(t, env, http.MethodPost, schedulesPath, key, body); res.StatusCode != http.StatusBadRequest ||
			errParam(got) != "webhook_url" {
			t.Fatalf("localhost webhook: %d %v", res.StatusCode, got)
		}

		// Tenant isolation: another tenant's schedule does not exist.
		for _, c := range []struct{ method, path string }{
			{http.MethodGet, schedulesPath + "/" + id}, {http.MethodPatch, schedulesPath + "/" + id},
			{http.MethodDelete, schedulesPath + "/" + id}, {http.MethodPost, schedulesPath + "/" + id + "/run"},
			{http.MethodGet, schedulesPath + "/" + id + "/deliveries"},
		} {
			if res, _ := doJSON(t, env, c.method, c.path, other, map[string]any{"name": "mine"}); res.StatusCode != http.StatusNotFound {
				t.Errorf("other tenant %s %s: %d", c.method, c.path, res.StatusCode)
			}
		}
		if _, list := doJSON(t, env, http.MethodGet, schedulesPath, other, nil); len(list["schedules"].([]any)) != 0 {
			t.Fatalf("other tenant lists %v", list)
		}

		// Pagination: newest first, an opaque cursor.
		ids := []string{id}
		for i := range 4 {
			b := weekly()
			b["name"] = "s" + string(rune('a'+i))
			_, c := doJSON(t, env, http.MethodPost, schedulesPath, key, b)
			ids = append([]string{c["id"].(string)}, ids...)
		}
		var seen []string
		next := schedulesPath + "?limit=2"
		for next != "" {
			res, page := doJSON(t, env, http.MethodGet, next, key, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("list: %d %v", res.StatusCode, page)
			}
			for _, s := range page["schedules"].([]any) {
				seen = append(seen, s.(map[string]any)["id"].(string))
			}
			next = ""
			if c, _ := page["next_cursor"].(string); c != "" {
				next = schedulesPath + "?limit=2&cursor=" + c
			}
		}
		if strings.Join(seen, ",") != strings.Join(ids, ",") {
			t.Fatalf("paged ids %v, want %v", seen, ids)
		}

		// A PDF schedule on Letter: its report is Letter and names the
		// schedule in its title block (de: "Zeitplan").
		if res, got := doJSON(t, env, http.MethodGet, schedulesPath+"/"+id, key, nil); res.StatusCode != http.StatusOK ||
			got["filters"].(map[string]any)["paper"] != "a4" {
			t.Fatalf("a PDF schedule's default paper: %d %v", res.StatusCode, got)
		}
		res, got = doJSON(t, env, http.MethodPatch, schedulesPath+"/"+id, key, map[string]any{"filters": map[string]any{"paper": "Letter"}})
		if res.StatusCode != http.StatusOK || got["filters"].(map[string]any)["paper"] != "letter" {
			t.Fatalf("patch paper: %d %v", res.StatusCode, got)
		}
		res, st := doJSON(t, env, http.MethodPost, schedulesPath+"/"+id+"/run", key, nil)
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("run PDF: %d %v", res.StatusCode, st)
		}
		if done := env.WaitExport(key, st["id"].(string)); done["status"] != "completed" {
			t.Fatalf("run-now PDF export: %v", done)
		}
		res, pdf := env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+st["id"].(string)+"/file", key, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("PDF file: %d", res.StatusCode)
		}
		if text := pdftotext(t, pdf); !strings.Contains(text, "Zeitplan") || !strings.Contains(text, "Weekly logins ("+id+")") {
			t.Errorf("the scheduled PDF does not name its schedule:\n%s", text)
		}
		if info := pdfinfo(t, pdf); !strings.Contains(info, "792 x 612 pts (letter)") {
			t.Errorf("the schedule asked for Letter:\n%s", info)
		}

		// Run now: an ordinary export tagged with the schedule.
		doJSON(t, env, http.MethodPatch, schedulesPath+"/"+id, key, map[string]any{"filters": map[string]any{"file_type": "csv"}})
		env.Ingest(key, fixture())
		res, st = doJSON(t, env, http.MethodPost, schedulesPath+"/"+id+"/run", key, nil)
		if res.StatusCode != http.StatusAccepted || st["schedule_id"] != id || st["occurrence"] == nil ||
			res.Header.Get("Location") != "/v5/audit-sentinel/exports/"+st["id"].(string) {
			t.Fatalf("run: %d %v Location %q", res.StatusCode, st, res.Header.Get("Location"))
		}
		if done := env.WaitExport(key, st["id"].(string)); done["status"] != "completed" {
			t.Fatalf("run-now export: %v", done)
		}

		// Delete.
		if res, _ := doJSON(t, env, http.MethodDelete, schedulesPath+"/"+id, key, nil); res.StatusCode != http.StatusNoContent {
			t.Fatalf("delete: %d", res.StatusCode)
		}
		if res, _ := doJSON(t, env, http.MethodGet, schedulesPath+"/"+id, key, nil); res.StatusCode != http.StatusNotFound {
			t.Fatalf("get after delete: %d", res.StatusCode)
		}
	})
}

// receiver is a webhook endpoint that checks signatures and fails its
// first `failures` deliveries.
type receiver struct {
	mu       sync.Mutex
	secret   string
	failures int
	calls    int
	events   []webhook.Event
	done     chan struct{}
	errs     []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if err := webhook.Verify(r.secret, req.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil {
		r.errs = append(r.errs, err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev webhook.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID != req.Header.Get(webhook.EventIDHeader) {
		r.errs = append(r.errs, "bad event")
	}
	if r.calls <= r.failures {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	r.events = append(r.events, ev)
	w.WriteHeader(http.StatusNoContent)
	if len(r.events) == 1 {
		close(r.done)
	}
}

func TestScheduleWebhook(t *testing.T) {
	env := apptest.Boot(t, apptest.Options{Database: "postgres", Storage: "file",
		Env: map[string]string{"WEBHOOK_ALLOW_PRIVATE": "true", "PUBLIC_BASE_URL": "https://audit.example.com"}})
	key := env.Key("acme")
	env.Ingest(key, fixture())
	rcv := &receiver{failures: 2, done: make(chan struct{})}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)

	body := weekly()
	body["webhook_url"] = srv.URL + "/hooks/audit"
	body["window"] = map[string]any{"kind": "last_hours", "hours": 8784}
	res, created := doJSON(t, env, http.MethodPost, schedulesPath, key, body)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %v", res.StatusCode, created)
	}
	id := created["id"].(string)
	rcv.mu.Lock()
	rcv.secret = created["webhook_secret"].(string)
	rcv.mu.Unlock()

	_, st := doJSON(t, env, http.MethodPost, schedulesPath+"/"+id+"/run", key, nil)
	exportID := st["id"].(string)
	select {
	case <-rcv.done:
	case <-time.After(time.Minute):
		t.Fatal("webhook not delivered within a minute")
	}
	rcv.mu.Lock()
	ev, calls, errs := rcv.events[0], rcv.calls, rcv.errs
	rcv.mu.Unlock()
	if len(errs) > 0 || calls != 3 {
		t.Fatalf("receiver: %d calls, errors %v", calls, errs)
	}
	done := env.WaitExport(key, exportID)
	if ev.Type != webhook.TypeExportCompleted || ev.ExportID != exportID || ev.ScheduleID != id || ev.Status != "completed" ||
		ev.SHA256 != done["sha256"] || ev.RowCount != int64(done["rows_written"].(float64)) || ev.SizeBytes == 0 ||
		ev.FileURL != "https://audit.example.com/v5/audit-sentinel/exports/"+exportID+"/file" || ev.Occurrence == nil {
		t.Fatalf("event %+v\nexport %v", ev, done)
	}

	// Every attempt is visible, newest first; the third succeeded.
	attempts := waitAttempts(t, env, schedulesPath+"/"+id+"/deliveries", key, 3)
	for i, a := range attempts {
		a := a.(map[string]any)
		wantStatus, wantOK := float64(http.StatusServiceUnavailable), false
		if i == 0 {
			wantStatus, wantOK = http.StatusNoContent, true
		}
		if a["attempt"].(float64) != float64(3-i) || a["status_code"] != wantStatus || a["succeeded"] != wantOK ||
			a["delivery_id"] != ev.ID || a["export_id"] != exportID {
			t.Fatalf("attempt %d: %v", i, a)
		}
	}
	_, page := doJSON(t, env, http.MethodGet, schedulesPath+"/"+id+"/deliveries?limit=2", key, nil)
	c, _ := page["next_cursor"].(string)
	_, rest := doJSON(t, env, http.MethodGet, schedulesPath+"/"+id+"/deliveries?limit=2&cursor="+c, key, nil)
	if len(page["attempts"].([]any)) != 2 || len(rest["attempts"].([]any)) != 1 {
		t.Fatalf("paged attempts: %v then %v", page, rest)
	}
}

// waitAttempts polls a deliveries listing until it shows n attempts (they
// are recorded as the deliverer goes) and returns them, newest first.
func waitAttempts(t *testing.T, env *apptest.Env, path, key string, n int) []any {
	t.Helper()
	var attempts []any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		res, list := doJSON(t, env, http.MethodGet, path, key, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("deliveries: %d %v", res.StatusCode, list)
		}
		if attempts = list["attempts"].([]any); len(attempts) == n {
			return attempts
		}
	}
	t.Fatalf("attempts: want %d, have %v", n, attempts)
	return nil
}
