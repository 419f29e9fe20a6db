package export

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the export lifecycle's Prometheus metrics, declared once here
// and registered on the registry the process serves. Labels are bounded
// (file type, outcome, action kind); tenants and export ids never become
// labels: an operator looking for a noisy tenant reads the "export
// requested"/"export completed" log lines (they carry tenant and export_id)
// or lists the tenant's exports (GET /exports). A nil *Metrics records
// nothing, so tests and tools need not build one.
type Metrics struct {
	requested *prometheus.CounterVec
	started   *prometheus.CounterVec
	completed *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	store     *prometheus.HistogramVec
	rows      *prometheus.HistogramVec
	bytes     *prometheus.CounterVec
	inFlight  prometheus.Gauge
	sweeps    *prometheus.CounterVec
	swept     *prometheus.CounterVec
}

// NewMetrics registers the export metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		requested: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_exports_requested_total",
			Help: "Export requests answered with an export record, by file type and outcome (created: a new export was queued; reused: an identical queued, running or recent one answered).",
		}, []string{"file_type", "outcome"}),
		started: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_exports_started_total",
			Help: "Export attempts a worker started, by file type (a retried export counts once per attempt).",
		}, []string{"file_type"}),
		completed: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_exports_completed_total",
			Help: "Exports a worker completed and stored, by file type.",
		}, []string{"file_type"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sentinel_export_duration_seconds",
			Help:    "Time from a worker starting an export attempt to its file being stored, for completed exports.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
		}, []string{"file_type"}),
		store: f.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sentinel_export_store_seconds",
			Help: "Of sentinel_export_duration_seconds, the time after the last byte was rendered: the object store " +
				"finishing the upload (S3 CompleteMultipartUpload; a store that assembles the parts by copying them " +
				"takes time in proportion to the file) and the database recording it. A waiting download ends only after it.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"file_type"}),
		rows: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sentinel_export_rows",
			Help:    "Events in each completed export.",
			Buckets: []float64{0, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8},
		}, []string{"file_type"}),
		bytes: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_export_bytes_total",
			Help: "Bytes of completed export files written to storage.",
		}, []string{"file_type"}),
		inFlight: f.NewGauge(prometheus.GaugeOpts{
			Name: "sentinel_exports_in_flight",
			Help: "Export attempts this worker is running now.",
		}),
		sweeps: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_sweeper_runs_total",
			Help: "Sweeper passes, by outcome (ok, error: some step failed and was logged).",
		}, []string{"outcome"}),
		swept: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_sweeper_actions_total",
			Help: "Things the sweeper did, by kind (expired, requeued, failed_silent, aborted_upload, deleted_orphan, purged_event, held_back: an expiry a legal hold stopped).",
		}, []string{"kind"}),
	}
}

// Sweeper action kinds.
const (
	sweptExpired       = "expired"
	sweptRequeued      = "requeued"
	sweptFailedSilent  = "failed_silent"
	sweptAbortedUpload = "aborted_upload"
	sweptDeletedOrphan = "deleted_orphan"
	sweptPurgedEvent   = "purged_event"
	sweptHeldBack      = "held_back"
	sweptDeferred      = "deferred" // storage retains the object (Object Lock)
)

func (m *Metrics) exportRequested(fileType string, created bool) {
	if m == nil {
		return
	}
	outcome := "reused"
	if created {
		outcome = "created"
	}
	m.requested.WithLabelValues(fileType, outcome).Inc()
}

// attemptStarted counts an attempt and returns the function that ends it.
func (m *Metrics) attemptStarted(fileType string) (done func()) {
	if m == nil {
		return func() {}
	}
	m.started.WithLabelValues(fileType).Inc()
	m.inFlight.Inc()
	return m.inFlight.Dec
}

// exportCompleted records a completed export that took d in all, store of
// it after its last byte was rendered.
func (m *Metrics) exportCompleted(fileType string, d, store time.Duration, rows, bytes int64) {
	if m == nil {
		return
	}
	m.completed.WithLabelValues(fileType).Inc()
	m.duration.WithLabelValues(fileType).Observe(d.Seconds())
	m.store.WithLabelValues(fileType).Observe(store.Seconds())
	m.rows.WithLabelValues(fileType).Observe(float64(rows))
	m.bytes.WithLabelValues(fileType).Add(float64(bytes))
}

func (m *Metrics) sweptOne(kind string) {
	if m != nil {
		m.swept.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) sweptMany(kind string, n int64) {
	if m != nil && n > 0 {
		m.swept.WithLabelValues(kind).Add(float64(n))
	}
}

func (m *Metrics) sweepDone(err error) {
	if m == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.sweeps.WithLabelValues(outcome).Inc()
}
