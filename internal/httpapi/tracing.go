package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/auditsentinel/sentinel/internal/tracing"
)

// tracerName names the spans this package starts.
const tracerName = "github.com/auditsentinel/sentinel/internal/httpapi"

// traceRequests makes every request a server span named by its route
// template ("GET /v5/audit-sentinel/events/export"), the child of a caller's
// span when the request carries a W3C traceparent. What the handler does
// (enqueueing an export, the worker's task after it) joins that trace
// through the request's context. Written here rather than taken from
// contrib's otelecho, whose last release (v0.60.0) pins an OpenTelemetry
// far older than ours: it is the few lines below.
func (s *Server) traceRequests(tp trace.TracerProvider) echo.MiddlewareFunc {
	tracer := tracing.Tracer(tp, tracerName)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			ctx := tracing.Propagator().Extract(req.Context(), propagation.HeaderCarrier(req.Header))
			ctx, span := tracer.Start(ctx, req.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(
					attribute.String("http.request.method", req.Method),
					attribute.String("http.route", route),
					attribute.String("url.path", req.URL.Path),
					attribute.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				))
			defer span.End()
			c.SetRequest(req.WithContext(ctx))
			err := next(c)
			if err != nil {
				c.Error(err) // render now so the status below is the one sent
			}
			status := c.Response().Status
			span.SetAttributes(attribute.Int("http.response.status_code", status))
			if t := tenantOf(c); t != "" {
				span.SetAttributes(attribute.String("tenant", t))
			}
			if id, _ := c.Get(ctxKeyExportID).(string); id != "" {
				span.SetAttributes(attribute.String("export_id", id))
			}
			if status >= http.StatusInternalServerError {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			return nil
		}
	}
}
