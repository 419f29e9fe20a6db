package httpapi

import (
	"context"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
)

// sessionKeyCtx carries a key the console already authenticated.
type sessionKeyCtx struct{}

// WithAPIKey returns ctx carrying k as the authenticated key of a request
// made in-process. The console (package console) authenticates a browser
// by its session cookie, then calls this API with the session's key in
// the request's context: a browser cannot put it there, and the API keeps
// one way of answering, with the same views and error messages.
func WithAPIKey(ctx context.Context, k audit.APIKey) context.Context {
	return context.WithValue(ctx, sessionKeyCtx{}, k)
}

// ParseExportQuery reads the export endpoint's query string exactly as GET
// /events/export does, so the console's export form is refused with the
// API's own messages and parameter names.
func ParseExportQuery(raw string) (audit.ExportParams, export.Options, error) {
	return parseExportQuery(raw)
}
