package httpapi

import (
	"net/http"
	"path"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/selfaudit"
)

// audited is what a successful request of a route records into the
// tenant's stream (package selfaudit).
type audited struct {
	eventType, subType string
	// ok lists the statuses that mean the action happened.
	ok []int
	// subject says which path parameter, header or context value names the
	// thing acted on: "id" (path), "location" (last segment of Location),
	// "export" (the export the request attached to).
	subject string
}

// auditedRoutes is the one table of the actions the API audits; the worker
// records completed and failed exports (internal/app). Keyed as
// routeScopes.
var auditedRoutes = map[string]audited{
	"GET " + Prefix + "/events/export": {audit.SelfAuditExportType, "requested", []int{200, 202, 206, 304}, "export"},
	// The downloads: the export endpoint's file answers too (see
	// auditDownload).
	"GET " + Prefix + "/exports/{id}/file":         {audit.SelfAuditExportType, "downloaded", []int{200, 206}, "id"},
	"GET " + Prefix + "/exports/{id}/download-url": {audit.SelfAuditExportType, "link_issued", []int{200}, "id"},
	"DELETE " + Prefix + "/exports/{id}":           {audit.SelfAuditExportType, "deleted", []int{204}, "id"},

	"POST " + Prefix + "/export-schedules":          {"schedule", "created", []int{201}, "location"},
	"PATCH " + Prefix + "/export-schedules/{id}":    {"schedule", "changed", []int{200}, "id"},
	"DELETE " + Prefix + "/export-schedules/{id}":   {"schedule", "deleted", []int{204}, "id"},
	"POST " + Prefix + "/export-schedules/{id}/run": {"schedule", "run", []int{202}, "id"},

	"POST " + Prefix + "/webhook-secret":  {"webhook_secret", "rotated", []int{201}, ""},
	"POST " + Prefix + "/api-keys":        {"api_key", "created", []int{201}, "location"},
	"DELETE " + Prefix + "/api-keys/{id}": {"api_key", "revoked", []int{204}, "id"},

	"PUT " + Prefix + "/retention":           {audit.SelfAuditRetentionType, "changed", []int{200}, ""},
	"POST " + Prefix + "/legal-holds":        {audit.SelfAuditHoldType, "created", []int{201}, "location"},
	"DELETE " + Prefix + "/legal-holds/{id}": {audit.SelfAuditHoldType, "released", []int{200}, "id"},
}

const ctxKeyAuditMeta = "sentinel.audit_meta"

// addAuditMeta adds metadata to the request's self-audit event.
func addAuditMeta(c echo.Context, kv ...string) {
	m, _ := c.Get(ctxKeyAuditMeta).(map[string]string)
	if m == nil {
		m = map[string]string{}
		c.Set(ctxKeyAuditMeta, m)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
}

// selfAudit records the request's action, when its route is audited and
// it succeeded. It runs after the response is written and cannot fail it:
// the recorder keeps what it could not store for a retry.
func (s *Server) selfAudit(c echo.Context) {
	route := routeName(c.Request().Method, c.Path())
	a, ok := auditedRoutes[route]
	status := c.Response().Status
	if !ok || !containsInt(a.ok, status) {
		return
	}
	k := keyOf(c)
	var subject string
	switch a.subject {
	case "id":
		subject = c.Param("id")
	case "location":
		if loc := c.Response().Header().Get(echo.HeaderLocation); loc != "" {
			subject = path.Base(loc)
		}
	case "export":
		subject, _ = c.Get(ctxKeyExportID).(string)
	}
	meta := map[string]string{}
	if m, _ := c.Get(ctxKeyAuditMeta).(map[string]string); m != nil {
		for key, v := range m {
			meta[key] = v
		}
	}
	if subject != "" {
		meta[a.eventType+"_id"] = subject
	}
	meta["request_id"] = c.Response().Header().Get(echo.HeaderXRequestID)
	desc := a.eventType + " " + a.subType
	if subject != "" {
		desc += ": " + subject
	}
	s.cfg.SelfAudit.Record(c.Request().Context(), selfaudit.Event(k.TenantID, a.eventType, a.subType, subject,
		selfaudit.KeyActor(k), s.cfg.Now(), desc, meta))
	// The export endpoint answered with the file: that is a download too.
	if route == "GET "+Prefix+"/events/export" && (status == http.StatusOK || status == http.StatusPartialContent) && subject != "" {
		s.cfg.SelfAudit.Record(c.Request().Context(), selfaudit.Event(k.TenantID, audit.SelfAuditExportType, "downloaded", subject,
			selfaudit.KeyActor(k), s.cfg.Now(), "export downloaded: "+subject, meta))
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
