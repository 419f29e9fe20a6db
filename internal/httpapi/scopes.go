package httpapi

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// routeScopes is the one table of which scope each API route needs, keyed
// as Routes() names them. A route missing here is refused to every key (it
// answers 404 as if it did not exist), and TestEveryRouteHasAScope fails,
// so a new route cannot ship open by accident. api/openapi.yaml repeats
// the scope of every operation in its security requirement, checked
// against this table.
var routeScopes = map[string]audit.Scope{
	"POST " + Prefix + "/events": audit.ScopeEventsWrite,
	// The feed reads events as exports do.
	"GET " + Prefix + "/events": audit.ScopeEventsRead,

	"GET " + Prefix + "/events/export":           audit.ScopeEventsRead,
	"GET " + Prefix + "/exports":                 audit.ScopeEventsRead,
	"GET " + Prefix + "/exports/{id}":            audit.ScopeEventsRead,
	"GET " + Prefix + "/exports/{id}/file":       audit.ScopeEventsRead,
	"HEAD " + Prefix + "/exports/{id}/file":      audit.ScopeEventsRead,
	"GET " + Prefix + "/exports/{id}/manifest":   audit.ScopeEventsRead,
	"GET " + Prefix + "/exports/{id}/deliveries": audit.ScopeEventsRead,
	// A presigned link is a bearer capability that outlives the key's
	// checks (window, revocation): handing one out is management.
	"DELETE " + Prefix + "/exports/{id}":           audit.ScopeExportsManage,
	"GET " + Prefix + "/exports/{id}/download-url": audit.ScopeExportsManage,

	"GET " + Prefix + "/export-schedules":                 audit.ScopeSchedulesRead,
	"GET " + Prefix + "/export-schedules/{id}":            audit.ScopeSchedulesRead,
	"GET " + Prefix + "/export-schedules/{id}/deliveries": audit.ScopeSchedulesRead,
	"POST " + Prefix + "/export-schedules":                audit.ScopeSchedulesWrite,
	"PATCH " + Prefix + "/export-schedules/{id}":          audit.ScopeSchedulesWrite,
	"DELETE " + Prefix + "/export-schedules/{id}":         audit.ScopeSchedulesWrite,
	"POST " + Prefix + "/export-schedules/{id}/run":       audit.ScopeSchedulesWrite,

	"POST " + Prefix + "/webhook-secret":  audit.ScopeAdmin,
	"GET " + Prefix + "/api-keys":         audit.ScopeAdmin,
	"POST " + Prefix + "/api-keys":        audit.ScopeAdmin,
	"DELETE " + Prefix + "/api-keys/{id}": audit.ScopeAdmin,
	"GET " + Prefix + "/retention":        audit.ScopeAdmin,
	"PUT " + Prefix + "/retention":        audit.ScopeAdmin,
	// Listing holds too: that a legal matter exists is itself sensitive.
	"GET " + Prefix + "/legal-holds":         audit.ScopeAdmin,
	"POST " + Prefix + "/legal-holds":        audit.ScopeAdmin,
	"DELETE " + Prefix + "/legal-holds/{id}": audit.ScopeAdmin,
}

// publicRoutes are the routes under Prefix that need no key at all, each
// public by nature: the public keys that verify manifests (offline, by
// people who may hold no key) and the NDJSON line schema, which a pipeline
// validates files with before (and without) holding a key.
// TestEveryRouteHasAScope accepts a route without a scope only when it is
// listed here.
var publicRoutes = map[string]bool{
	"GET " + Prefix + "/signing-keys":              true,
	"GET " + Prefix + "/schemas/event.ndjson.json": true,
}

// PublicRoute reports whether route ("METHOD /path" as Routes() writes it)
// is served without a key.
func PublicRoute(route string) bool { return publicRoutes[route] }

// RouteScope returns the scope route ("METHOD /path" as Routes() writes
// it) needs, and whether it has one.
func RouteScope(route string) (audit.Scope, bool) {
	s, ok := routeScopes[route]
	return s, ok
}

// routeName writes an echo route as "METHOD /path" with {name} path
// parameters, the form of the OpenAPI document and of routeScopes.
func routeName(method, path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if name, ok := strings.CutPrefix(p, ":"); ok {
			parts[i] = "{" + name + "}"
		}
	}
	return method + " " + strings.Join(parts, "/")
}

// authorize refuses a request whose key lacks its route's scope. It runs
// after authenticate, so an unknown path under the prefix still answers
// 401 to a request without a valid key and 404 to one with it.
func authorize(c echo.Context, k audit.APIKey) error {
	scope, ok := routeScopes[routeName(c.Request().Method, c.Path())]
	if !ok {
		return echo.ErrNotFound
	}
	if !k.Allows(scope) {
		return audit.Forbidden(scope)
	}
	return nil
}
