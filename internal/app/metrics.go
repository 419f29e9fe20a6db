package app

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/jobs"
	"github.com/auditsentinel/sentinel/internal/live"
	"github.com/auditsentinel/sentinel/internal/version"
	"github.com/auditsentinel/sentinel/internal/webhook"
)

// processMetrics is one process's registry and the metrics every package
// declared on it. The api builds one; in embedded mode its worker shares
// it, so GET /metrics covers both. A separate worker builds its own and
// serves it on METRICS_ADDR.
type processMetrics struct {
	Registry *namingRegistry
	Export   *export.Metrics
	Jobs     *jobs.Metrics
	Webhook  *webhook.Metrics
	// Live counts live export responses (the follower runs in the api).
	Live  *live.Metrics
	queue *jobs.QueueCollector
}

func newProcessMetrics(redis asynq.RedisConnOpt, checks []httpapi.Check) *processMetrics {
	reg := &namingRegistry{Registry: prometheus.NewRegistry(), names: map[string]bool{}}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	promauto.With(reg).NewGauge(prometheus.GaugeOpts{
		Name: "sentinel_build_info", Help: "Always 1; the version label says which build runs.",
		ConstLabels: prometheus.Labels{"version": version.Get()},
	}).Set(1)
	m := &processMetrics{
		Registry: reg, Export: export.NewMetrics(reg), Jobs: jobs.NewMetrics(reg), Webhook: webhook.NewMetrics(reg),
		Live:  live.NewMetrics(reg),
		queue: jobs.NewQueueCollector(redis),
	}
	reg.MustRegister(m.queue, &readinessCollector{checks: checks, desc: prometheus.NewDesc("sentinel_dependency_up",
		"1 when the dependency answered its readiness check at this scrape (as /readyz asks it), 0 when not.",
		[]string{"dependency"}, nil)})
	return m
}

func (m *processMetrics) Close() error { return m.queue.Close() }

// readinessCollector pings every dependency at scrape time, so an alert
// on sentinel_dependency_up == 0 sees what /readyz would answer.
type readinessCollector struct {
	checks []httpapi.Check
	desc   *prometheus.Desc
}

func (r *readinessCollector) Describe(ch chan<- *prometheus.Desc) { ch <- r.desc }

func (r *readinessCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range r.checks {
		wg.Go(func() {
			up := 1.0
			if c.Ping(ctx) != nil {
				up = 0
			}
			ch <- prometheus.MustNewConstMetric(r.desc, prometheus.GaugeValue, up, c.Name)
		})
	}
	wg.Wait()
}

func depChecks(deps *Deps) []httpapi.Check {
	return []httpapi.Check{
		{Name: "database", Ping: deps.Store.Ping},
		{Name: "redis", Ping: deps.PingRedis},
		{Name: "storage", Ping: deps.Bucket.Ping},
	}
}

// WorkerPaths are the paths a worker serves on METRICS_ADDR.
var WorkerPaths = []string{"/metrics", "/healthz", "/readyz"}

// MetricNames lists the name of every metric the api and the worker serve
// (Go and process collectors included), sorted; a histogram is listed by
// its base name. The dashboards' and alerts' test checks against it.
func MetricNames() []string {
	m := newProcessMetrics(asynq.RedisClientOpt{Addr: "127.0.0.1:1"}, nil)
	defer m.Close()
	httpapi.New(httpapi.Config{Registry: m.Registry, Logger: slog.New(slog.DiscardHandler)})
	names := slices.Sorted(maps.Keys(m.Registry.names))
	return names
}

// namingRegistry is a registry that remembers the names of what is
// registered on it (a prometheus.Registry does not tell, and a vector
// without children is absent from what it gathers).
type namingRegistry struct {
	*prometheus.Registry
	names map[string]bool
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (r *namingRegistry) Register(c prometheus.Collector) error {
	if err := r.Registry.Register(c); err != nil {
		return err
	}
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			r.names[m[1]] = true
		}
	}
	return nil
}

func (r *namingRegistry) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

func newMetricsHandler(m *processMetrics, checks []httpapi.Check) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		for _, c := range checks {
			if c.Ping(ctx) != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"ready":false,"unavailable":"` + c.Name + `"}` + "\n"))
				return
			}
		}
		_, _ = w.Write([]byte(`{"ready":true}` + "\n"))
	})
	return mux
}
