package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/auditsentinel/sentinel/api"
	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/console"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/jobs"
	"github.com/auditsentinel/sentinel/internal/live"
	"github.com/auditsentinel/sentinel/internal/manifest"
	"github.com/auditsentinel/sentinel/internal/render/formats"
	"github.com/auditsentinel/sentinel/internal/selfaudit"
	"github.com/auditsentinel/sentinel/internal/version"
)

// API is the api process: the HTTP server and, in embedded mode, a worker.
type API struct {
	cfg    config.Config
	logger *slog.Logger
	deps   *Deps
	queue  *jobs.Client
	worker *Worker
	http   *http.Server
	ln     net.Listener
	served chan error
	// audit records the service's own use (package selfaudit); stopAudit
	// ends its retry loop, which stores what is still pending.
	audit     *selfaudit.Recorder
	stopAudit context.CancelFunc
	auditDone chan struct{}
	// Metrics is what GET /metrics serves (and, in embedded mode, the
	// worker's metrics too).
	Metrics *processMetrics
}

// NewAPI builds the api process on connected deps. In embedded mode it also
// builds the in-process worker.
func NewAPI(cfg config.Config, logger *slog.Logger, deps *Deps) *API {
	checks := depChecks(deps)
	a := &API{cfg: cfg, logger: logger, deps: deps, queue: newQueue(deps),
		audit: selfaudit.NewRecorder(deps.Store, logger), Metrics: newProcessMetrics(deps.Redis, checks)}
	svc := &export.Service{
		Metrics: a.Metrics.Export,
		Store:   deps.Store, Values: deps.Store, Queue: a.queue, Logger: logger, Now: time.Now,
		ReuseWindow: cfg.ExportReuseWindow, PDFMaxEvents: int64(cfg.PDFMaxEvents),
		MaxActivePerTenant:  int64(cfg.ExportMaxActivePerTenant),
		WebhookAllowPrivate: cfg.WebhookAllowPrivate,
	}
	if src := deps.LiveReader(cfg); src != nil {
		svc.Live = &live.Follower{Source: src, Records: deps.Store, Files: deps.Bucket, Logger: logger,
			Metrics: a.Metrics.Live}
	}
	var signer *manifest.Signer
	if cfg.SigningKey != nil {
		// Validate checked the key's size, the one thing NewSigner checks.
		signer, _ = manifest.NewSigner(cfg.SigningKey)
	}
	retired := manifest.PublicKeys{}
	for _, k := range cfg.RetiredSigningKeys {
		retired.Add(k)
	}
	h := httpapi.New(httpapi.Config{
		Logger: logger, Store: deps.Store, Exports: svc, Files: deps.Bucket, Checks: checks,
		ExportWait: cfg.ExportWait, MaxWait: config.MaxExportWait, OpenAPI: api.OpenAPI,
		Archives: deps.Store, Objects: deps.Bucket, Signer: signer, PublicKeys: retired, Version: version.Get(),
		Schedules: scheduleService(cfg, logger, deps, a.queue), Webhooks: deps.Store,
		Feed: deps.Store, SelfAudit: a.audit, Retention: deps.Store, Registry: a.Metrics.Registry, Tracer: deps.Tracer,
	})
	a.http = &http.Server{
		Handler:           withConsole(h, logger, deps, svc, a.audit),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // ingest bodies may be large
		// Downloads clear their own write deadline; everything else must
		// finish within the longest allowed wait plus some slack.
		WriteTimeout: config.MaxExportWait + 30*time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if deps.Embedded {
		a.worker = newWorker(cfg, logger, deps, a.Metrics)
	}
	return a
}

// withConsole serves the browser console at /console/ beside the API, and
// sends a browser that opens the bare address there; every other path is
// the API's.
func withConsole(api http.Handler, logger *slog.Logger, deps *Deps, svc *export.Service, rec console.Recorder) http.Handler {
	con := console.New(console.Config{
		API: api, Keys: deps.Store, Exports: svc, Sessions: &console.Sessions{Redis: deps.rdb}, Audit: rec,
		Logger: logger.With("component", "console"), Now: time.Now,
	})
	mux := http.NewServeMux()
	mux.Handle(console.Base, con)
	mux.Handle("GET /{$}", http.RedirectHandler(console.Base, http.StatusSeeOther))
	mux.Handle("/", api)
	return mux
}

// Start listens on HTTP_ADDR (":0" picks a free port) and serves in the
// background; the embedded worker starts too.
func (a *API) Start() error {
	if a.worker != nil {
		if err := a.worker.Start(); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR %s: %w", a.cfg.HTTPAddr, err)
	}
	a.ln = ln
	ctx, cancel := context.WithCancel(context.Background())
	a.stopAudit, a.auditDone = cancel, make(chan struct{})
	go func() { defer close(a.auditDone); a.audit.Run(ctx, 5*time.Second) }()
	a.served = make(chan error, 1)
	go func() { a.served <- a.http.Serve(ln) }()
	a.logger.Info("api listening", "addr", ln.Addr().String(), "embedded_worker", a.worker != nil)
	return nil
}

// Addr is the address the server listens on.
func (a *API) Addr() string { return a.ln.Addr().String() }

// Close shuts the server down gracefully, then the worker and the queue
// client. Deps are the caller's to close.
func (a *API) Close(ctx context.Context) error {
	var errs []error
	if a.ln != nil {
		if err := a.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		if err := <-a.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if a.stopAudit != nil {
		a.stopAudit()
		<-a.auditDone
	}
	if a.worker != nil {
		a.worker.Shutdown()
	}
	errs = append(errs, a.queue.Close(), a.Metrics.Close())
	return errors.Join(errs...)
}

// Worker is the worker process: asynq server running exports, webhook
// deliveries and the periodic sweeper, and the schedule dispatcher.
type Worker struct {
	srv       *jobs.Server
	queue     *jobs.Client
	schedules *dispatchLoop
	audit     *auditLoop
	sweeper   *export.Sweeper // run by srv; kept for tests of its wiring
	// Metrics are the worker's; an embedded worker's are the api's.
	Metrics     *processMetrics
	ownsMetrics bool
}

// NewWorker builds a worker on connected deps, with a metrics registry of
// its own.
func NewWorker(cfg config.Config, logger *slog.Logger, deps *Deps) *Worker {
	w := newWorker(cfg, logger, deps, newProcessMetrics(deps.Redis, depChecks(deps)))
	w.ownsMetrics = true
	return w
}

// newWorker builds a worker recording on m.
func newWorker(cfg config.Config, logger *slog.Logger, deps *Deps, m *processMetrics) *Worker {
	queue := newQueue(deps)
	runner := &export.Runner{
		Tracer: deps.Tracer,
		Store:  deps.Store, Bucket: deps.Bucket, Renderers: formats.Registry(cfg.PDFMaxEvents), Logger: logger,
		Now: time.Now, Retention: cfg.ExportRetention, PDFMaxEvents: int64(cfg.PDFMaxEvents),
		Live: deps.LivePublisher(cfg, logger), Version: version.Get(), Metrics: m.Export, Policies: deps.Store,
		ScheduleName: func(ctx context.Context, tenantID, id string) (string, error) {
			sc, err := deps.Store.GetSchedule(ctx, tenantID, id)
			return sc.Name, err
		},
	}
	notifier := newNotifier(cfg, logger, deps, queue)
	notifier.Metrics = m.Webhook
	exportDone := notifier.ExportDone
	if runner.Live != nil {
		// Waiting GETs learn at once that an export is done.
		exportDone = func(ctx context.Context, tenantID, exportID string) {
			runner.Live.End(ctx, exportID)
			notifier.ExportDone(ctx, tenantID, exportID)
		}
	}
	audit := &auditLoop{rec: selfaudit.NewRecorder(deps.Store, logger)}
	exportDone = auditExportDone(deps.Store, audit.rec, logger, exportDone)
	sweeper := &export.Sweeper{
		Store: deps.Store, Bucket: deps.Bucket, Queue: queue, Logger: logger.With("component", "sweeper"), Now: time.Now,
		OnFailed: exportDone, Metrics: m.Export, Retention: deps.Store, Audit: audit.rec,
		OrphanScanEvery: cfg.SweepOrphanScanEvery, UploadScanEvery: cfg.SweepUploadScanEvery,
		PurgeEvery: cfg.PurgeEvery, PurgeDuty: cfg.PurgeDuty,
		Leases: deps.Leases(),
	}
	srv := jobs.NewServer(jobs.ServerConfig{
		Redis: deps.Redis, Concurrency: cfg.WorkerConcurrency, Runner: runner, Failer: deps.Store,
		Sweeper: sweeper, IsPermanent: export.Permanent, Logger: logger, Now: time.Now, SweepEvery: cfg.SweepEvery,
		OnExportDone: exportDone, Webhooks: notifier, Metrics: m.Jobs, Tracer: deps.Tracer,
	})
	return &Worker{srv: srv, queue: queue, schedules: newDispatchLoop(logger, deps, queue), audit: audit, sweeper: sweeper, Metrics: m}
}

// newQueue is a queue client whose enqueues join the caller's trace.
func newQueue(deps *Deps) *jobs.Client {
	q := jobs.NewClient(deps.Redis)
	q.Tracer = deps.Tracer
	return q
}

// Start begins processing tasks and firing schedules.
func (w *Worker) Start() error {
	if err := w.srv.Start(); err != nil {
		return err
	}
	w.schedules.start()
	w.audit.start()
	return nil
}

// Shutdown stops firing schedules and taking tasks, and waits for running
// ones.
func (w *Worker) Shutdown() {
	w.schedules.stop()
	w.srv.Shutdown()
	w.audit.stop()
	_ = w.queue.Close()
	if w.ownsMetrics {
		_ = w.Metrics.Close()
	}
}
