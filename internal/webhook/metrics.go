package webhook

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the webhook deliverer's Prometheus metrics. Receivers'
// hosts are not labels (tenants choose them, so they are unbounded): the
// "webhook attempt failed" log lines carry webhook_host, and an export's
// attempts are listed at GET /exports/{id}/deliveries. A nil *Metrics
// records nothing.
type Metrics struct {
	deliveries *prometheus.CounterVec
	attempts   *prometheus.HistogramVec
}

// NewMetrics registers the webhook metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		deliveries: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_webhook_deliveries_total",
			Help: "Webhook deliveries by outcome: delivered, gave_up (every attempt its bounds allowed failed), refused (forbidden address or invalid URL), interrupted (the worker stopped; the task runs again).",
		}, []string{"outcome"}),
		attempts: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sentinel_webhook_delivery_attempts",
			Help:    "Attempts one delivery took, by outcome.",
			Buckets: []float64{1, 2, 3, 4, 5, 6, 8, 10},
		}, []string{"outcome"}),
	}
}

func (m *Metrics) delivered(attempts int, err error) {
	if m == nil {
		return
	}
	outcome := "delivered"
	switch {
	case err == nil:
	case errors.Is(err, ErrGaveUp):
		outcome = "gave_up"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		outcome = "interrupted"
	default:
		outcome = "refused"
	}
	m.deliveries.WithLabelValues(outcome).Inc()
	m.attempts.WithLabelValues(outcome).Observe(float64(attempts))
}
