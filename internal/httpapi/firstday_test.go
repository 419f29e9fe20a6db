package httpapi_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/manifest"
)

// TestWrongMethodIs405WithAllow: a method a known path does not serve is
// 405 naming the methods it does serve in Allow, with the usual JSON error
// body; an unknown path stays 404.
func TestWrongMethodIs405WithAllow(t *testing.T) {
	backends(t, func(t *testing.T, b *hbundle) {
		for _, tc := range []struct {
			method, path string
			allow        []string
		}{
			{http.MethodPut, exportPath, []string{"GET"}},
			{http.MethodPost, exportPath, []string{"GET"}},
			{http.MethodDelete, "/v5/audit-sentinel/events", []string{"GET", "POST"}},
			{http.MethodPatch, "/v5/audit-sentinel/exports/0190f0e0-0000-7000-8000-000000000000", []string{"DELETE", "GET"}},
			{http.MethodPost, "/healthz", []string{"GET"}},
		} {
			res, body := b.do(t, tc.method, tc.path, "")
			if res.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d %s, want 405", tc.method, tc.path, res.StatusCode, body)
				continue
			}
			allow := res.Header.Get("Allow")
			for _, m := range tc.allow {
				if !strings.Contains(allow, m) {
					t.Errorf("%s %s: Allow %q does not name %s", tc.method, tc.path, allow, m)
				}
			}
			if strings.Contains(allow, tc.method) {
				t.Errorf("%s %s: Allow %q names the refused method", tc.method, tc.path, allow)
			}
			var eb httpapi.ErrorBody
			if err := json.Unmarshal(body, &eb); err != nil || eb.Error.Code != audit.EMETHODNOTALLOWED ||
				!strings.Contains(eb.Error.Message, allow) {
				t.Errorf("%s %s: body %s, want a method_not_allowed JSON error naming %q", tc.method, tc.path, body, allow)
			}
		}
		if res, body := b.do(t, http.MethodGet, "/v5/audit-sentinel/nope", ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown path: %d %s, want 404", res.StatusCode, body)
		}
	})
}

// TestSigningKeysNeedNoKey: the signing keys are public keys; anyone
// verifying a manifest may fetch them without an API key.
func TestSigningKeysNeedNoKey(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := manifest.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	backendsWith(t, func(c *httpapi.Config) { c.Signer = signer }, func(t *testing.T, b *hbundle) {
		for _, key := range []string{"", "not-a-key"} {
			req, _ := http.NewRequest(http.MethodGet, b.server.URL+"/v5/audit-sentinel/signing-keys", nil)
			if key != "" {
				req.Header.Set("apikey", key)
			}
			res, err := b.server.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var got httpapi.SigningKeys
			if res.StatusCode != http.StatusOK || json.Unmarshal(body, &got) != nil || len(got.Keys) != 1 {
				t.Errorf("apikey %q: %d %s, want 200 with the one key", key, res.StatusCode, body)
			}
		}
	})
}
