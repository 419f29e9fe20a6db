package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/tracing"
	"github.com/auditsentinel/sentinel/internal/version"
)

// shutdownGrace is how long Close lets requests in flight finish.
const shutdownGrace = 30 * time.Second

// Main is the api binary once its flags and environment are read: cmd/api
// fills it in and calls Run, then Close; tests do the same on port :0, so
// nothing the binary does at start-up is out of their reach.
type Main struct {
	Config config.Config
	Logger *slog.Logger
	// Demo seeds a demo tenant, key and events on first start (-demo) and
	// prints the banner with the key and a working curl line to Stdout.
	Demo   bool
	Stdout io.Writer
	// Tracing, when set, is what the process traces with (a test's span
	// recorder); nil: what Config.Tracing says, set by Run.
	Tracing *tracing.Tracing
	// StartRedis starts the in-process Redis of embedded mode (REDIS_URL
	// unset); nil refuses that mode.
	StartRedis StartRedis

	// Set by Run, for tests.
	Deps        *Deps
	API         *API
	debug       *sideServer
	ownsTracing bool
}

// startTracing settles *t from cfg unless it is set, and returns the
// logger to use: one that stamps trace_id and span_id on lines logged in a
// span, when tracing is on. owned reports whether the caller must shut
// *t down.
func startTracing(ctx context.Context, t **tracing.Tracing, cfg config.Config, service string,
	logger *slog.Logger) (_ *slog.Logger, owned bool, err error) {
	if *t == nil {
		if *t, err = tracing.New(ctx, cfg.Tracing, service, version.Get()); err != nil {
			return logger, false, err
		}
		owned = true
	}
	if !(*t).Enabled() {
		return logger, owned, nil
	}
	logger = slog.New(tracing.LogHandler(logger.Handler()))
	logger.Info("tracing on", "otlp_protocol", cfg.Tracing.Protocol, "otlp_endpoint", cfg.Tracing.Endpoint)
	return logger, owned, nil
}

// stopTracing exports the spans still buffered, within a few seconds.
func stopTracing(t *tracing.Tracing) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return t.Shutdown(ctx)
}

// tracer is what Deps.Tracer gets: nil when tracing is off, so the parts
// skip their tracing altogether.
func tracer(t *tracing.Tracing) trace.TracerProvider {
	if !t.Enabled() {
		return nil
	}
	return t.Provider()
}

// Run connects everything Config names, seeds the demo when asked, settles
// the manifest signing key and starts serving; it returns once the server
// listens. Call Close afterwards even when Run fails: it releases what Run
// had opened.
func (m *Main) Run(ctx context.Context) (err error) {
	if m.Logger, m.ownsTracing, err = startTracing(ctx, &m.Tracing, m.Config, "audit-sentinel-api", m.Logger); err != nil {
		return err
	}
	m.Logger.Info("starting api", "config", m.Config)
	if m.Deps, err = Open(ctx, m.Config, m.Logger, m.StartRedis); err != nil {
		return err
	}
	m.Deps.Tracer = tracer(m.Tracing)
	var banner string
	if m.Demo {
		if banner, err = SeedDemo(ctx, m.Config, m.Deps, m.Logger); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	if m.Config.SigningKey, err = EnsureSigningKey(m.Config, m.Deps.Embedded, m.Logger); err != nil {
		return err
	}
	api := NewAPI(m.Config, m.Logger, m.Deps)
	if err := api.Start(); err != nil {
		// The embedded worker may have started before the listen failed.
		_ = api.Close(ctx)
		return err
	}
	m.API = api
	if m.debug, err = startDebug(m.Config, m.Logger); err != nil {
		return err
	}
	if banner != "" && m.Stdout != nil {
		fmt.Fprint(m.Stdout, DemoBanner(banner, api.Addr()))
	}
	return nil
}

// Addr is the address the server listens on, once Run succeeded.
func (m *Main) Addr() string { return m.API.Addr() }

// DebugAddr is where the api serves /debug/pprof/ ("" without DEBUG_ADDR),
// once Run succeeded.
func (m *Main) DebugAddr() string { return m.debug.addr() }

// startDebug serves Go's profiles on cfg.DebugAddr; nil when it is unset.
func startDebug(cfg config.Config, logger *slog.Logger) (*sideServer, error) {
	if cfg.DebugAddr == "" {
		return nil, nil
	}
	s, err := serveSide(cfg.DebugAddr, "DEBUG_ADDR", newDebugHandler(), logger)
	if err != nil {
		return nil, err
	}
	logger.Warn("profiles listening without authentication; keep DEBUG_ADDR off public networks",
		"addr", s.addr(), "path", "/debug/pprof/")
	return s, nil
}

// Close shuts the server down gracefully (requests in flight get 30s), then
// the embedded worker, then every connection Run opened.
func (m *Main) Close() error {
	errs := []error{closeSide(&m.debug)}
	if m.API != nil {
		m.Logger.Info("shutting down")
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		errs = append(errs, m.API.Close(ctx))
		m.API = nil
	}
	if m.Deps != nil {
		errs = append(errs, m.Deps.Close())
		m.Deps = nil
	}
	if m.ownsTracing {
		errs = append(errs, stopTracing(m.Tracing))
		m.ownsTracing = false
	}
	return errors.Join(errs...)
}

// WorkerMain is the worker binary once its flags and environment are read,
// as Main is the api's.
type WorkerMain struct {
	Config config.Config
	Logger *slog.Logger
	// SoftMemoryLimit sizes the Go runtime's memory limit to the work. It
	// is process-wide, so only the binary sets it (when GOMEMLIMIT is
	// unset); tests sharing a process leave it off.
	SoftMemoryLimit bool
	// Tracing is as Main's.
	Tracing *tracing.Tracing

	// Set by Run, for tests.
	Deps        *Deps
	Worker      *Worker
	metrics     *sideServer
	debug       *sideServer
	ownsTracing bool
}

// Run connects everything Config names and starts taking tasks and firing
// schedules; it returns once the worker runs. Call Close afterwards even
// when Run fails.
func (m *WorkerMain) Run(ctx context.Context) (err error) {
	if m.SoftMemoryLimit {
		// Without a limit the garbage collector lets the heap grow to
		// twice what is live, which doubles a worker's footprint for
		// nothing. GOMEMLIMIT overrides it. What an export holds is
		// bounded (its share of the S3 part buffers, which all uploads
		// share, its live-stream queue, a row buffer): 72 MiB for the
		// process and 12 MiB for each export it may run keep eight
		// concurrent CSV exports under 200 MiB (issue 12); 50 MiB per
		// export let the heap double past that. Since the part buffers
		// moved out of the heap (objstore/s3, through package offheap) the limit
		// no longer counts them, so it leaves the heap room it did not
		// have: measured, eight exports peak at ~135 MiB RSS without it
		// binding, since each holds less (smaller live chunks, fewer
		// row batches waiting, one spare part buffer for all).
		limit := max(int64(100)<<20, int64(72)<<20+int64(m.Config.WorkerConcurrency)*(12<<20))
		debug.SetMemoryLimit(limit)
		m.Logger.Info("soft memory limit set", "bytes", limit, "override_with", "GOMEMLIMIT")
	}
	if m.Logger, m.ownsTracing, err = startTracing(ctx, &m.Tracing, m.Config, "audit-sentinel-worker", m.Logger); err != nil {
		return err
	}
	if m.Deps, err = Open(ctx, m.Config, m.Logger, nil); err != nil {
		return fmt.Errorf("open: %w", err)
	}
	m.Deps.Tracer = tracer(m.Tracing)
	w := NewWorker(m.Config, m.Logger, m.Deps)
	if err := w.Start(); err != nil {
		w.Shutdown() // what did start, and the queue client
		return fmt.Errorf("start: %w", err)
	}
	m.Worker = w
	if m.Config.MetricsAddr != "" {
		if m.metrics, err = serveSide(m.Config.MetricsAddr, "METRICS_ADDR", newMetricsHandler(w.Metrics, depChecks(m.Deps)), m.Logger); err != nil {
			return err
		}
		m.Logger.Info("worker metrics listening", "addr", m.metrics.addr(), "paths", "/metrics /healthz /readyz")
	}
	if m.debug, err = startDebug(m.Config, m.Logger); err != nil {
		return err
	}
	m.Logger.Info("worker started", "concurrency", m.Config.WorkerConcurrency)
	return nil
}

// MetricsAddr is where the worker serves /metrics ("" without
// METRICS_ADDR), once Run succeeded.
func (m *WorkerMain) MetricsAddr() string { return m.metrics.addr() }

// DebugAddr is where the worker serves /debug/pprof/ ("" without
// DEBUG_ADDR), once Run succeeded.
func (m *WorkerMain) DebugAddr() string { return m.debug.addr() }

// Close stops taking tasks, waits for running exports (up to asynq's
// shutdown timeout, after which they return to the queue) and closes every
// connection Run opened.
func (m *WorkerMain) Close() error {
	errs := []error{closeSide(&m.metrics), closeSide(&m.debug)}
	if m.Worker != nil {
		m.Logger.Info("worker shutting down; running exports get up to 25s, then return to the queue")
		m.Worker.Shutdown()
		m.Worker = nil
	}
	if m.Deps != nil {
		errs = append(errs, m.Deps.Close())
		m.Deps = nil
	}
	if m.ownsTracing {
		errs = append(errs, stopTracing(m.Tracing))
		m.ownsTracing = false
	}
	return errors.Join(errs...)
}
