package httpapi

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/audit"
)

const (
	ctxKeyAPIKey   = "sentinel.apikey"
	ctxKeyExportID = "sentinel.export_id"
)

// authenticate resolves the apikey header to a tenant and checks the key's
// scope for the route (authorize). Every handler under the API prefix reads
// the tenant from here and nowhere else.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if k, ok := c.Request().Context().Value(sessionKeyCtx{}).(audit.APIKey); ok {
			c.Set(ctxKeyAPIKey, k) // authenticated in-process by the console
			return next(c)
		}
		k, err := apikey.Authenticate(c.Request().Context(), s.cfg.Store, c.Request().Header.Get("apikey"), s.cfg.Now())
		if err != nil {
			return err
		}
		c.Set(ctxKeyAPIKey, k)
		if err := authorize(c, k); err != nil {
			return err
		}
		if err := s.checkWindow(c, k); err != nil {
			return err
		}
		if err := next(c); err != nil {
			return err
		}
		s.selfAudit(c)
		return nil
	}
}

// keyOf is the request's authenticated key.
func keyOf(c echo.Context) audit.APIKey {
	k, _ := c.Get(ctxKeyAPIKey).(audit.APIKey)
	return k
}

func tenantOf(c echo.Context) string {
	k, _ := c.Get(ctxKeyAPIKey).(audit.APIKey)
	return k.TenantID
}

// logRequests writes one structured line per request with its id, tenant
// and export id, so a support ticket's request id finds everything.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err) // render now so the status below is the one sent
		}
		req, res := c.Request(), c.Response()
		attrs := []slog.Attr{
			slog.String("request_id", res.Header().Get(echo.HeaderXRequestID)),
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.Int("status", res.Status),
			slog.Int64("bytes", res.Size),
			slog.Duration("duration", time.Since(start)),
		}
		if t := tenantOf(c); t != "" {
			attrs = append(attrs, slog.String("tenant", t))
		}
		if id, _ := c.Get(ctxKeyExportID).(string); id != "" {
			attrs = append(attrs, slog.String("export_id", id))
		}
		level := slog.LevelInfo
		if res.Status >= 500 {
			level = slog.LevelError
		}
		s.logger.LogAttrs(req.Context(), level, "http request", attrs...)
		return nil
	}
}
