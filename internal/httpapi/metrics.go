package httpapi

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpMetrics are the HTTP layer's Prometheus metrics. The route label is
// the route template (/v5/audit-sentinel/exports/:id), never the path, so
// its values are bounded by the routes registered; requests no route
// matched share "unmatched".
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	f := promauto.With(reg)
	return &httpMetrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_http_requests_total",
			Help: "HTTP requests by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sentinel_http_request_duration_seconds",
			Help: "HTTP request latency by route template and method, to the end of the body (a download or a live export counts its whole transfer).",
			// Export GETs wait up to EXPORT_WAIT (20 s by default) and more
			// with Prefer: wait.
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120},
		}, []string{"route", "method"}),
	}
}

// measure observes every request once its status is final. It runs
// outside logRequests, which renders errors, so the status it reads is the
// one sent.
func (s *Server) measure(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		method := c.Request().Method
		s.metrics.requests.WithLabelValues(route, method, strconv.Itoa(c.Response().Status)).Inc()
		s.metrics.duration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		return nil
	}
}

// serveMetrics is GET /metrics: what the process's registry gathers, in
// the Prometheus text format.
func serveMetrics(g prometheus.Gatherer) echo.HandlerFunc {
	h := promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return echo.WrapHandler(h)
}
