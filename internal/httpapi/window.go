package httpapi

import (
	"fmt"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// Auditor keys read within their window (audit.APIKey.Window):
//
//   - An export request is clamped to the window: range_start and
//     range_end are narrowed to it, and the export's status, file header
//     and signed manifest show the range actually exported, so nothing is
//     cut silently. Refusing every request that did not spell out the
//     window would make the common case (everything the audit covers)
//     a guessing game of exact bounds; clamping answers it directly.
//   - A request whose range lies wholly outside the window is 403: an
//     empty file would read as "nothing happened then".
//   - Exports whose range the window does not cover (made by other keys)
//     do not exist for the key: 404 by id, left out of the listing.

// AuthorizeExport is what the export endpoint asks of the key before it
// requests an export: the endpoint's scope, and the key's window, which
// narrows p. The console requests exports without going through the
// route, so it asks the same.
func AuthorizeExport(k audit.APIKey, p audit.ExportParams) (audit.ExportParams, error) {
	if s, _ := RouteScope("GET " + Prefix + "/events/export"); !k.Allows(s) {
		return p, audit.Forbidden(s)
	}
	return clampExport(k, p)
}

// clampExport narrows p to k's window.
func clampExport(k audit.APIKey, p audit.ExportParams) (audit.ExportParams, error) {
	if k.Window == nil {
		return p, nil
	}
	f, ok := k.Window.Clamp(p.Filter)
	if !ok {
		return p, &audit.Error{Code: audit.EFORBIDDEN, Param: "range_start",
			Message: fmt.Sprintf("this API key reads only events from %s to %s; the requested range lies outside it",
				k.Window.Start.Format(time.RFC3339), k.Window.End.Format(time.RFC3339))}
	}
	p.Filter = f
	return p, nil
}

// visibleTo reports whether k may see export e.
func visibleTo(k audit.APIKey, e audit.Export) bool {
	return k.Window == nil || k.Window.Covers(e.Params.Filter)
}

// checkWindow answers 404 to a windowed key for an export outside its
// window, on every /exports/{id} route, before the handler runs.
func (s *Server) checkWindow(c echo.Context, k audit.APIKey) error {
	if k.Window == nil || !strings.HasPrefix(c.Path(), Prefix+"/exports/:id") {
		return nil
	}
	e, err := s.cfg.Store.GetExport(c.Request().Context(), k.TenantID, c.Param("id"))
	if err != nil {
		return err
	}
	if !visibleTo(k, e) {
		return audit.NotFound("export %s not found", e.ID)
	}
	return nil
}
