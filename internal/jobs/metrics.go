package jobs

import (
	"context"
	"errors"
	"slices"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the task side's Prometheus metrics: exports that failed for
// good and task retries. A nil *Metrics records nothing.
type Metrics struct {
	failed  *prometheus.CounterVec
	retries *prometheus.CounterVec
}

// NewMetrics registers the task metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		failed: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_exports_failed_total",
			Help: "Exports a worker recorded as failed for good, by error code (invalid_argument etc.: the request can never succeed; internal: retries exhausted).",
		}, []string{"code"}),
		retries: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_task_retries_total",
			Help: "Task attempts that failed and were handed back to the queue to run again, by task type.",
		}, []string{"type"}),
	}
}

func (m *Metrics) exportFailed(code string) {
	if m != nil {
		m.failed.WithLabelValues(code).Inc()
	}
}

func (m *Metrics) retrying(taskType string) {
	if m != nil {
		m.retries.WithLabelValues(taskType).Inc()
	}
}

// Queues are the queues QueueCollector reports.
var Queues = []string{QueueExports, QueueWebhooks, QueueMaintenance}

// QueueCollector reports each queue's tasks by state and the age of its
// oldest pending task, read from Redis by asynq's Inspector at every
// scrape (a few cheap calls per queue).
type QueueCollector struct {
	insp    *asynq.Inspector
	tasks   *prometheus.Desc
	latency *prometheus.Desc
	up      *prometheus.Desc
}

var _ prometheus.Collector = (*QueueCollector)(nil)

// NewQueueCollector returns a collector on the given Redis connection;
// Close releases it.
func NewQueueCollector(opt asynq.RedisConnOpt) *QueueCollector {
	return &QueueCollector{
		insp: asynq.NewInspector(opt),
		tasks: prometheus.NewDesc("sentinel_queue_tasks",
			"Tasks in the queue by state (pending, active, scheduled, retry, archived).", []string{"queue", "state"}, nil),
		latency: prometheus.NewDesc("sentinel_queue_latency_seconds",
			"Age of the queue's oldest pending task: how long the next task to start has waited.", []string{"queue"}, nil),
		up: prometheus.NewDesc("sentinel_queue_inspect_up",
			"1 when the queue's state could be read from Redis at this scrape, 0 when not.", []string{"queue"}, nil),
	}
}

// Close releases the inspector's Redis connection.
func (q *QueueCollector) Close() error { return q.insp.Close() }

// Describe implements prometheus.Collector.
func (q *QueueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- q.tasks
	ch <- q.latency
	ch <- q.up
}

// Collect implements prometheus.Collector. A queue nothing was ever
// enqueued on does not exist in Redis yet: it reports zeros.
func (q *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	known, listErr := q.insp.Queues()
	for _, name := range Queues {
		info, err := &asynq.QueueInfo{Queue: name}, listErr
		if err == nil && slices.Contains(known, name) {
			info, err = q.insp.GetQueueInfo(name)
		}
		if err != nil {
			ch <- prometheus.MustNewConstMetric(q.up, prometheus.GaugeValue, 0, name)
			continue
		}
		ch <- prometheus.MustNewConstMetric(q.up, prometheus.GaugeValue, 1, name)
		for state, n := range map[string]int{
			"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived,
		} {
			ch <- prometheus.MustNewConstMetric(q.tasks, prometheus.GaugeValue, float64(n), name, state)
		}
		ch <- prometheus.MustNewConstMetric(q.latency, prometheus.GaugeValue, info.Latency.Seconds(), name)
	}
}

// retryOrNot counts a failed attempt the queue will run again.
func (s *Server) retryOrNot(ctx context.Context, taskType string, err error) {
	if err == nil || errors.Is(err, asynq.SkipRetry) {
		return
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	if retried < maxRetry {
		s.cfg.Metrics.retrying(taskType)
	}
}
