package app_test

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/httpapi"
)

// TestOpenAPIScopes checks that every operation under the API prefix names
// in its security requirement exactly the scope the router enforces
// (httpapi.RouteScope), documents the 403, and that the key schemas match
// the structs the handlers write.
func TestOpenAPIScopes(t *testing.T) {
	doc := loadOpenAPI(t)
	n := 0
	for _, op := range docOperations(doc) {
		method, path, _ := strings.Cut(op, " ")
		if !strings.HasPrefix(path, httpapi.Prefix+"/") {
			continue
		}
		n++
		o := doc.Paths.Find(path).GetOperation(method)
		if httpapi.PublicRoute(op) {
			if o.Security == nil || len(*o.Security) != 0 {
				t.Errorf("%s is public: its security must be [], not %v", op, o.Security)
			}
			continue
		}
		want, ok := httpapi.RouteScope(op)
		if !ok {
			t.Errorf("%s: no scope in the router's table", op)
			continue
		}
		if o.Security == nil || len(*o.Security) != 1 || len((*o.Security)[0]) != 1 ||
			!slices.Equal((*o.Security)[0]["apikey"], []string{string(want)}) {
			var got any
			if o.Security != nil {
				got = *o.Security
			}
			t.Errorf("%s: security %v, want apikey: [%s]", op, got, want)
		}
		if o.Responses.Status(http.StatusForbidden) == nil {
			t.Errorf("%s: 403 is not documented", op)
		}
	}
	if n < 20 {
		t.Fatalf("only %d operations checked", n)
	}
	var scopes []string
	for _, v := range doc.Components.Schemas["Scope"].Value.Enum {
		scopes = append(scopes, v.(string))
	}
	if !slices.Equal(scopes, audit.ScopeNames()) {
		t.Errorf("Scope enum: document has %q, code has %q", scopes, audit.ScopeNames())
	}
	if !slices.Contains(doc.Components.Schemas["ErrorDetail"].Value.Properties["code"].Value.Enum, any(audit.EFORBIDDEN)) {
		t.Error("ErrorDetail.code lacks forbidden")
	}
	for name, v := range map[string]any{
		"APIKey":        httpapi.APIKeyView{},
		"CreatedAPIKey": httpapi.CreatedAPIKey{},
		"APIKeyList":    httpapi.APIKeyList{},
		"KeyWindow":     httpapi.WindowView{},
		"Requester":     audit.Requester{},
	} {
		fields, required := jsonFields(reflect.TypeOf(v))
		props, req := schemaFields(doc.Components.Schemas[name].Value)
		if !slices.Equal(props, fields) || !slices.Equal(req, required) {
			t.Errorf("%s: document has %q (required %q), code has %q (required %q)", name, props, req, fields, required)
		}
	}
}

// contractScopes checks real 403s and the key routes against the
// document (called from contractMain, on PostgreSQL and S3).
func contractScopes(t *testing.T, c *contract) {
	admin := c.env.Key("acme")
	ct := []string{"Content-Type", "application/json"}
	kp := apiPrefix + "/api-keys"
	_, body := c.do(exchange{method: "POST", path: kp, key: admin, header: ct, status: 201,
		body: `{"name":"ingest","scopes":["events:write"]}`})
	ingest, ingestID := jsonField(t, body, "secret"), jsonField(t, body, "id")
	c.do(exchange{method: "POST", path: kp, key: admin, header: ct, status: 201,
		body: `{"name":"Q1 auditor","scopes":["events:read","schedules:read"],"expires_at":"` +
			time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `","window":"2026-01-01/2026-03-31"}`})
	c.do(exchange{method: "POST", path: kp, key: admin, header: ct, status: 400, invalid: true, body: `{"name":"x","scopes":["root"]}`})
	c.do(exchange{method: "POST", path: kp, key: admin, header: ct, status: 400, body: `{"name":"x","scopes":["events:write"],"window":"2026-01-01/2026-03-31"}`})
	c.do(exchange{method: "POST", path: kp, key: admin, header: ct, status: 413, invalid: true,
		body: `{"name":"` + strings.Repeat("n", httpapi.MaxSmallBody) + `","scopes":["admin"]}`})
	c.do(exchange{method: "POST", path: kp, header: ct, status: 401, invalid: true, body: `{"scopes":["admin"]}`})
	c.do(exchange{method: "GET", path: kp, key: admin, status: 200})
	c.do(exchange{method: "GET", path: apiPrefix + "/exports?requested_by=key:" + ingestID, key: admin, status: 200})
	c.do(exchange{method: "GET", path: apiPrefix + "/exports?requested_by=someone", key: admin, status: 400, invalid: true})
	c.do(exchange{method: "GET", path: kp, status: 401, invalid: true})

	// The ingest key reaches nothing but ingest: 403 from every family.
	c.do(exchange{method: "GET", path: kp, key: ingest, status: 403})
	c.do(exchange{method: "POST", path: kp, key: ingest, header: ct, status: 403, body: `{"scopes":["admin"]}`})
	c.do(exchange{method: "GET", path: sampleCSV, key: ingest, status: 403})
	c.do(exchange{method: "GET", path: apiPrefix + "/exports", key: ingest, status: 403})
	c.do(exchange{method: "GET", path: apiPrefix + "/export-schedules", key: ingest, status: 403})
	c.do(exchange{method: "POST", path: apiPrefix + "/webhook-secret", key: ingest, status: 403})
	// Except the public keys, which any key (or none) may read.
	c.do(exchange{method: "GET", path: apiPrefix + "/signing-keys", key: ingest, status: 200})

	c.do(exchange{method: "DELETE", path: kp + "/" + ingestID, key: ingest, status: 403})
	c.do(exchange{method: "DELETE", path: kp + "/" + ingestID, key: c.env.Key("globex"), status: 404})
	c.do(exchange{method: "DELETE", path: kp + "/" + ingestID, key: admin, status: 204})
	c.do(exchange{method: "DELETE", path: kp + "/" + ingestID, status: 401, invalid: true})
	c.do(exchange{method: "GET", path: apiPrefix + "/exports", key: ingest, status: 401})
}
