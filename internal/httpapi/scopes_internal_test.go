package httpapi

import (
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/schedule"
)

// TestEveryRouteHasAScope fails when a route under the API prefix is
// registered without an entry in routeScopes (it would be refused to
// every key), or when the table names a route that does not exist.
func TestEveryRouteHasAScope(t *testing.T) {
	srv := New(Config{Logger: slog.New(slog.DiscardHandler), Schedules: &schedule.Service{}})
	routes := srv.Routes()
	n := 0
	for _, r := range routes {
		_, path, _ := strings.Cut(r, " ")
		if !strings.HasPrefix(path, Prefix+"/") {
			continue
		}
		n++
		if PublicRoute(r) {
			continue
		}
		sc, ok := RouteScope(r)
		if !ok {
			t.Errorf("route %s has no scope in routeScopes", r)
			continue
		}
		if !slices.Contains(audit.Scopes, sc) {
			t.Errorf("route %s needs %q, which is no scope", r, sc)
		}
	}
	if n < 20 {
		t.Fatalf("only %d API routes found; the test does not see the router", n)
	}
	for r := range routeScopes {
		if !slices.Contains(routes, r) {
			t.Errorf("routeScopes names %s, which is not served", r)
		}
	}
}

func TestAuditedRoutesExist(t *testing.T) {
	srv := New(Config{Logger: slog.New(slog.DiscardHandler), Schedules: &schedule.Service{}})
	for r := range auditedRoutes {
		if !slices.Contains(srv.Routes(), r) {
			t.Errorf("auditedRoutes names %s, which is not served", r)
		}
	}
}

func TestKeyAllows(t *testing.T) {
	k := audit.APIKey{Scopes: []audit.Scope{audit.ScopeEventsRead}}
	if !k.Allows(audit.ScopeEventsRead) || k.Allows(audit.ScopeEventsWrite) || k.Allows(audit.ScopeAdmin) {
		t.Fatalf("events:read key: %+v", k)
	}
	admin := audit.APIKey{Scopes: []audit.Scope{audit.ScopeAdmin}}
	for _, s := range audit.Scopes {
		if !admin.Allows(s) {
			t.Errorf("admin lacks %s", s)
		}
	}
	if (audit.APIKey{}).Allows(audit.ScopeEventsRead) {
		t.Error("a key without scopes is allowed something")
	}
}
