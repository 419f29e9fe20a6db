package app_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/schedule"
)

// errorOf decodes an ErrorBody.
func errorOf(t *testing.T, body []byte) httpapi.ErrorDetail {
	t.Helper()
	var b struct {
		Error struct {
			httpapi.ErrorDetail
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("not an error body: %v: %s", err, body)
	}
	b.Error.ErrorDetail.Details = b.Error.Details
	return b.Error.ErrorDetail
}

// TestEveryRouteAgainstEveryScope sends every API route a request with a
// key of each single scope: a key without the route's scope (and without
// admin) gets 403 naming it; any other key gets past the check (whatever
// the handler then answers). New routes join by themselves, through
// Routes().
func TestEveryRouteAgainstEveryScope(t *testing.T) {
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file", NoWorker: true})
	keys := map[audit.Scope]string{}
	for _, s := range audit.Scopes {
		keys[s] = env.ScopedKey("acme", s)
	}
	routes := httpapi.New(httpapi.Config{Logger: slog.New(slog.DiscardHandler), Schedules: &schedule.Service{}}).Routes()
	n := 0
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		if !strings.HasPrefix(path, httpapi.Prefix+"/") {
			continue
		}
		n++
		if httpapi.PublicRoute(r) {
			continue // TestSigningKeysNeedNoKey (httpapi)
		}
		need, ok := httpapi.RouteScope(r)
		if !ok {
			t.Errorf("%s has no scope", r)
			continue
		}
		concrete := strings.ReplaceAll(path, "{id}", "00000000-0000-7000-8000-000000000000")
		for _, s := range audit.Scopes {
			// respond-async: an allowed export request answers at once
			// instead of waiting for a worker this test does not run.
			res, body := env.Do(method, concrete, keys[s], nil, "Prefer", "respond-async")
			allowed := s == need || s == audit.ScopeAdmin
			if !allowed {
				if res.StatusCode != http.StatusForbidden {
					t.Errorf("%s with only %s: %d, want 403 (needs %s)", r, s, res.StatusCode, need)
					continue
				}
				if method == http.MethodHead {
					continue // no body
				}
				e := errorOf(t, body)
				if e.Code != audit.EFORBIDDEN || !strings.Contains(e.Message, string(need)) ||
					e.Details.(map[string]any)["required_scope"] != string(need) {
					t.Errorf("%s with only %s: 403 %s; want code forbidden naming %s", r, s, body, need)
				}
				continue
			}
			if res.StatusCode == http.StatusForbidden || res.StatusCode == http.StatusUnauthorized {
				t.Errorf("%s with %s: %d %s; the key has the scope", r, s, res.StatusCode, body)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d API routes exercised", n)
	}
	// An unknown path under the prefix is still 404 to a valid key, and
	// 401 without one.
	if res, _ := env.Do(http.MethodGet, httpapi.Prefix+"/nothing-here", keys[audit.ScopeEventsRead], nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: %d, want 404", res.StatusCode)
	}
	if res, _ := env.Do(http.MethodGet, httpapi.Prefix+"/nothing-here", "", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown path without a key: %d, want 401", res.StatusCode)
	}
}

// TestUnusableKeysLookAlike: unknown, revoked and expired keys get the same
// 401, so a caller cannot tell which secrets were ever valid.
func TestUnusableKeysLookAlike(t *testing.T) {
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file", NoWorker: true})
	revoked := env.Key("acme")
	keys, err := env.Deps.Store.ListAPIKeys(t.Context(), "acme")
	apptest.Must(t, err)
	apptest.Must(t, env.Deps.Store.RevokeAPIKey(t.Context(), keys[0].ID, time.Now()))

	// A key that expires in a moment works until then.
	soon := time.Now().Add(1500 * time.Millisecond)
	expiring := createKey(t, env, env.Key("acme"), `{"name":"soon","scopes":["events:read"],"expires_at":"`+soon.UTC().Format(time.RFC3339Nano)+`"}`)
	if res, body := env.Do(http.MethodGet, httpapi.Prefix+"/exports", expiring, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("key before its expiry: %d %s", res.StatusCode, body)
	}
	time.Sleep(time.Until(soon) + 50*time.Millisecond) // the server's own clock decides

	var messages []string
	for name, k := range map[string]string{"unknown": "ask_" + strings.Repeat("0", 64), "revoked": revoked, "expired": expiring} {
		res, body := env.Do(http.MethodGet, httpapi.Prefix+"/exports", k, nil)
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s key: %d %s", name, res.StatusCode, body)
			continue
		}
		e := errorOf(t, body)
		if e.Code != audit.EUNAUTHORIZED {
			t.Errorf("%s key: %s", name, body)
		}
		messages = append(messages, e.Message)
	}
	if len(slices.Compact(messages)) != 1 {
		t.Errorf("unknown, revoked and expired keys are told apart: %q", messages)
	}
}

// createKey posts body to /api-keys with admin and returns the secret.
func createKey(t *testing.T, env *apptest.Env, admin, body string) string {
	t.Helper()
	res, b := env.Do(http.MethodPost, httpapi.Prefix+"/api-keys", admin, strings.NewReader(body), "Content-Type", "application/json")
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create key %s: %d %s", body, res.StatusCode, b)
	}
	secret := jsonField(t, b, "secret")
	if !strings.HasPrefix(secret, "ask_") {
		t.Fatalf("created key has no secret: %s", b)
	}
	return secret
}

// TestKeyManagement: an admin creates, lists and revokes keys through the
// API; the secret is shown once; nobody grants what they lack.
func TestKeyManagement(t *testing.T) {
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file", NoWorker: true})
	admin := env.Key("acme")
	other := env.Key("globex")
	kp := httpapi.Prefix + "/api-keys"
	ct := []string{"Content-Type", "application/json"}

	ingest := createKey(t, env, admin, `{"name":"ingest","scopes":["events:write"]}`)
	oneEvent := `{"events":[{"id":"e1","occurred_at":"2026-04-10T00:00:00Z","event_type":"t","sub_type":"s","system_source":"x"}]}`
	if res, body := env.Do(http.MethodPost, httpapi.Prefix+"/events", ingest, strings.NewReader(oneEvent), ct...); res.StatusCode != http.StatusOK {
		t.Fatalf("ingest key ingests: %d %s", res.StatusCode, body)
	}
	if res, body := env.Do(http.MethodGet, exportPath, ingest, nil); res.StatusCode != http.StatusForbidden ||
		!strings.Contains(string(body), "events:read") {
		t.Fatalf("ingest key exports: %d %s", res.StatusCode, body)
	}

	// The list shows every key of the tenant, never a secret.
	res, body := env.Do(http.MethodGet, kp, admin, nil)
	if res.StatusCode != http.StatusOK || strings.Contains(string(body), ingest) || strings.Contains(string(body), `"secret"`) {
		t.Fatalf("list: %d %s", res.StatusCode, body)
	}
	var list httpapi.APIKeyList
	apptest.Must(t, json.Unmarshal(body, &list))
	var ingestID string
	for _, k := range list.Keys {
		if k.Name == "ingest" {
			ingestID = k.ID
			if !slices.Equal(k.Scopes, []string{"events:write"}) || !strings.HasPrefix(ingest, k.Prefix) {
				t.Errorf("listed ingest key: %+v", k)
			}
		}
	}
	if len(list.Keys) != 2 || ingestID == "" {
		t.Fatalf("list: %+v", list)
	}

	// Nobody grants what they lack: a scope, or a longer life.
	limited := createKey(t, env, admin, `{"name":"keys","scopes":["events:read"],"expires_at":"`+
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339)+`"}`)
	_ = limited
	for _, tc := range []struct {
		body   string
		status int
		param  string
	}{
		{`{"name":"x","scopes":["events:read","superuser"]}`, 400, "scopes"},
		{`{"name":"x","scopes":[]}`, 400, "scopes"},
		{`{"name":"x"}`, 400, "scopes"},
		{`{"name":"x","scopes":["events:read"],"colour":"red"}`, 400, "colour"},
		{`{"name":"x","scopes":["events:read"],"expires_at":"2001-01-01T00:00:00Z"}`, 400, "expires_at"},
		{`{"name":"x","scopes":["events:read"],"expires_at":"soon"}`, 400, "expires_at"},
		{`{"name":"x","scopes":["events:write"],"window":"2026-01-01/2026-06-30"}`, 400, "window"},
		{`{"name":"x","scopes":["events:read"],"window":"2026-06-30/2026-01-01"}`, 400, "window"},
		{`{"name":"` + strings.Repeat("n", httpapi.MaxSmallBody) + `"}`, 413, "body"},
	} {
		res, body := env.Do(http.MethodPost, kp, admin, strings.NewReader(tc.body), ct...)
		if res.StatusCode != tc.status || errorOf(t, body).Param != tc.param {
			t.Errorf("create %s: %d %s; want %d naming %s", clip([]byte(tc.body)), res.StatusCode, body, tc.status, tc.param)
		}
	}
	// An admin key that expires cannot mint one that outlives it.
	expAdmin := createKey(t, env, admin, `{"name":"temp admin","scopes":["admin"],"expires_at":"`+
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339)+`"}`)
	for _, b := range []string{
		`{"name":"forever","scopes":["events:read"]}`,
		`{"name":"longer","scopes":["events:read"],"expires_at":"` + time.Now().Add(2*time.Hour).UTC().Format(time.RFC3339) + `"}`,
	} {
		res, body := env.Do(http.MethodPost, kp, expAdmin, strings.NewReader(b), ct...)
		if res.StatusCode != http.StatusForbidden || errorOf(t, body).Param != "expires_at" {
			t.Errorf("expiring admin mints %s: %d %s", b, res.StatusCode, body)
		}
	}
	createKey(t, env, expAdmin, `{"name":"shorter","scopes":["events:read"],"expires_at":"`+
		time.Now().Add(30*time.Minute).UTC().Format(time.RFC3339)+`"}`)

	// Revoking: another tenant's key is 404; the key stops at once.
	if res, _ := env.Do(http.MethodDelete, kp+"/"+ingestID, other, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("other tenant revokes: %d", res.StatusCode)
	}
	if res, body := env.Do(http.MethodDelete, kp+"/"+ingestID, admin, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", res.StatusCode, body)
	}
	if res, _ := env.Do(http.MethodPost, httpapi.Prefix+"/events", ingest, strings.NewReader(oneEvent), ct...); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked key: %d", res.StatusCode)
	}
	if res, _ := env.Do(http.MethodDelete, kp+"/"+ingestID, admin, nil); res.StatusCode != http.StatusNoContent {
		t.Errorf("revoke twice: %d", res.StatusCode)
	}
	if res, _ := env.Do(http.MethodDelete, kp+"/nope", admin, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("revoke unknown: %d", res.StatusCode)
	}
}
