package app_test

import (
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// contractRetention exercises /retention and /legal-holds against the
// document, and the 409s of DELETE /exports/{id} that holds and minimum
// retention cause.
func contractRetention(t *testing.T, c *contract) {
	admin := c.env.Key("acme")
	reader := c.env.ScopedKey("acme", audit.ScopeEventsRead, audit.ScopeExportsManage)
	ct := []string{"Content-Type", "application/json"}
	rp, hp := apiPrefix+"/retention", apiPrefix+"/legal-holds"

	c.do(exchange{method: "GET", path: rp, key: admin, status: 200})
	c.do(exchange{method: "PUT", path: rp, key: admin, header: ct, status: 200, body: `{"event_days":3650,"archive_min_days":1}`})
	_, body := c.do(exchange{method: "PUT", path: rp, key: admin, header: ct, status: 200, body: `{"event_days":3000}`})
	if !strings.Contains(string(body), `"archive_min_days":1`) {
		t.Errorf("PUT /retention without archive_min_days reset it: %s", body)
	}
	c.do(exchange{method: "PUT", path: rp, key: admin, header: ct, status: 400, invalid: true, body: `{"event_days":-1}`})
	c.do(exchange{method: "PUT", path: rp, key: admin, header: ct, status: 400, invalid: true, body: `{}`})
	c.do(exchange{method: "PUT", path: rp, key: admin, header: ct, status: 400, invalid: true, body: `{"days":3}`})
	c.do(exchange{method: "GET", path: rp, key: reader, status: 403})
	c.do(exchange{method: "PUT", path: rp, key: reader, header: ct, status: 403, body: `{"event_days":1}`})
	c.do(exchange{method: "GET", path: rp, status: 401, invalid: true})

	// An archive of April 2026, and a hold on the first half of April.
	res, _ := c.do(exchange{method: "GET", key: admin, status: 200,
		path: apiPrefix + "/events/export?file_type=csv&range_start=2026-04-01T00:00:00Z&range_end=2026-04-30T23:59:59Z"})
	exp := apiPrefix + "/exports/" + res.Header.Get("X-Export-Id")
	_, body = c.do(exchange{method: "POST", path: hp, key: admin, header: ct, status: 201,
		body: `{"name":"Case 17","range_start":"2026-04-01T00:00:00Z","range_end":"2026-04-15T00:00:00Z"}`})
	holdID := jsonField(t, body, "id")
	c.do(exchange{method: "POST", path: hp, key: admin, header: ct, status: 400, invalid: true, body: `{"range_start":"April"}`})
	c.do(exchange{method: "POST", path: hp, key: admin, header: ct, status: 400,
		body: `{"range_start":"2026-04-15T00:00:00Z","range_end":"2026-04-01T00:00:00Z"}`})
	c.do(exchange{method: "POST", path: hp, key: reader, header: ct, status: 403, body: `{}`})
	c.do(exchange{method: "GET", path: hp, key: admin, status: 200})
	c.do(exchange{method: "GET", path: hp + "?include_released=maybe", key: admin, status: 400, invalid: true})
	c.do(exchange{method: "GET", path: hp, key: reader, status: 403})

	// Held: 409 naming the hold.
	_, body = c.do(exchange{method: "DELETE", path: exp, key: reader, status: 409})
	if !strings.Contains(string(body), holdID) || !strings.Contains(string(body), "Case 17") || !strings.Contains(string(body), `"code":"conflict"`) {
		t.Errorf("DELETE of a held archive: %s; want a conflict naming hold %s", body, holdID)
	}
	c.do(exchange{method: "DELETE", path: hp + "/" + holdID, key: reader, status: 403})
	c.do(exchange{method: "DELETE", path: hp + "/" + holdID, key: c.env.Key("globex"), status: 404})
	c.do(exchange{method: "DELETE", path: hp + "/" + holdID, key: admin, status: 200})
	_, body = c.do(exchange{method: "DELETE", path: hp + "/" + holdID, key: admin, status: 200})
	if jsonField(t, body, "released_at") == "" {
		t.Errorf("released hold: %s", body)
	}
	c.do(exchange{method: "GET", path: hp + "?include_released=true", key: admin, status: 200})
	// Released, the archive is still within its one-day minimum retention.
	_, body = c.do(exchange{method: "DELETE", path: exp, key: reader, status: 409})
	if !strings.Contains(string(body), "minimum retention") || !strings.Contains(string(body), "retained_until") {
		t.Errorf("DELETE within the minimum retention: %s", body)
	}
	c.do(exchange{method: "PUT", path: rp, key: admin, header: ct, status: 200, body: `{"event_days":0,"archive_min_days":0}`})
	c.do(exchange{method: "DELETE", path: exp, key: reader, status: 204})

	// Each change is in the tenant's stream.
	var got []string
	err := c.env.Deps.Store.StreamEvents(t.Context(), audit.Filter{TenantID: "acme", SystemSources: []string{audit.SelfAuditSource},
		EventTypes: []string{audit.SelfAuditRetentionType, audit.SelfAuditHoldType}}, func(e *audit.Event) error {
		got = append(got, e.EventType+"/"+e.SubType)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "retention/changed retention/changed legal_hold/created legal_hold/released legal_hold/released retention/changed"
	if strings.Join(got, " ") != want {
		t.Errorf("self-audit of retention and holds = %v, want %s", got, want)
	}
}
