package live

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the live relay's Prometheus metrics on the API side. A nil
// *Metrics records nothing.
type Metrics struct {
	active   prometheus.Gauge
	finished *prometheus.CounterVec
}

// NewMetrics registers the live relay's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		active: f.NewGauge(prometheus.GaugeOpts{
			Name: "sentinel_live_responses_active",
			Help: "Export responses being streamed while their export renders.",
		}),
		finished: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_live_responses_total",
			Help: "Live export responses by how they ended: live (every byte from the stream), from_storage (the stream missed bytes and the rest came from the stored file), aborted (the export failed or the bytes differed: the connection was cut), client_gone.",
		}, []string{"outcome"}),
	}
}

// Live response outcomes.
const (
	outcomeLive        = "live"
	outcomeFromStorage = "from_storage"
	outcomeAborted     = "aborted"
	outcomeClientGone  = "client_gone"
)

// copyStarted counts a live response under way; end records how it ended.
func (m *Metrics) copyStarted() (end func(err error, fromStorage bool)) {
	if m == nil {
		return func(error, bool) {}
	}
	m.active.Inc()
	return func(err error, fromStorage bool) {
		m.active.Dec()
		outcome := outcomeLive
		switch {
		case errors.Is(err, ErrAborted):
			outcome = outcomeAborted
		case err != nil:
			outcome = outcomeClientGone
		case fromStorage:
			outcome = outcomeFromStorage
		}
		m.finished.WithLabelValues(outcome).Inc()
	}
}
