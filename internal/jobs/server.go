package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// ExportRunner runs one export (export.Runner).
type ExportRunner interface {
	Run(ctx context.Context, tenantID, id string) error
}

// ExportFailer records that an export failed for good.
type ExportFailer interface {
	FailExport(ctx context.Context, tenantID, id, code, message string, at time.Time) error
}

// Sweeper does the periodic maintenance (expiry, lost tasks, abandoned
// uploads, orphaned objects).
type Sweeper interface {
	Sweep(ctx context.Context) error
}

// ServerConfig configures the worker side.
type ServerConfig struct {
	Redis       asynq.RedisConnOpt
	Concurrency int
	Runner      ExportRunner
	Failer      ExportFailer
	Sweeper     Sweeper
	// IsPermanent tells errors that must not be retried.
	IsPermanent func(error) bool
	Logger      *slog.Logger
	Now         func() time.Time
	// TaskCheckInterval is how long an idle worker waits before polling the
	// queues again. asynq's default (1 s) would dominate the latency of a
	// small export; 50 ms costs an idle worker ~20 cheap Redis calls a second.
	TaskCheckInterval time.Duration
	// SweepEvery schedules the sweeper (0: no schedule; SWEEP_EVERY in
	// the binaries, default 15 s).
	SweepEvery time.Duration
	// OnExportDone, when set, is called after an export task completed the
	// export or recorded it failed (also for a duplicate delivery of a done
	// export: it must be idempotent). Webhooks hang off it.
	OnExportDone func(ctx context.Context, tenantID, exportID string)
	// Webhooks, when set, runs webhook tasks on their own asynq server with
	// WebhookConcurrency slots (default 8).
	Webhooks           WebhookSender
	WebhookConcurrency int
	// Metrics counts failures and retries; nil: none.
	Metrics *Metrics
	// Tracer traces each task as a consumer span, a child of the span
	// that queued it; nil traces nothing.
	Tracer trace.TracerProvider
}

// Server runs export and maintenance tasks.
type Server struct {
	srv       *asynq.Server
	scheduler *asynq.Scheduler
	mux       *asynq.ServeMux
	cfg       ServerConfig
	hooks     *asynq.Server // webhook tasks; nil without cfg.Webhooks
	hooksMux  *asynq.ServeMux
}

// NewServer builds a worker server.
func NewServer(cfg ServerConfig) *Server {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.TaskCheckInterval <= 0 {
		cfg.TaskCheckInterval = 50 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, mux: asynq.NewServeMux()}
	s.srv = asynq.NewServer(cfg.Redis, asynq.Config{
		Concurrency:       cfg.Concurrency,
		Queues:            map[string]int{QueueExports: 6, QueueMaintenance: 1},
		TaskCheckInterval: cfg.TaskCheckInterval,
		RetryDelayFunc:    RetryDelay,
		Logger:            slogAdapter{cfg.Logger.With("component", "asynq")},
		LogLevel:          asynq.WarnLevel,
		ShutdownTimeout:   25 * time.Second,
		// A permanent failure is not a queue failure: it is recorded on the
		// export and is the client's to fix.
		IsFailure: func(err error) bool { return cfg.IsPermanent == nil || !cfg.IsPermanent(err) },
	})
	s.mux.HandleFunc(TypeExport, func(ctx context.Context, t *asynq.Task) error {
		err := s.handleExport(ctx, t)
		s.retryOrNot(ctx, TypeExport, err)
		return err
	})
	s.hooks, s.hooksMux = newWebhookServer(cfg, s.retryOrNot)
	if cfg.Sweeper != nil {
		s.mux.HandleFunc(TypeSweep, func(ctx context.Context, _ *asynq.Task) error { return cfg.Sweeper.Sweep(ctx) })
		if cfg.SweepEvery > 0 {
			s.scheduler = asynq.NewScheduler(cfg.Redis, &asynq.SchedulerOpts{
				Logger: slogAdapter{cfg.Logger.With("component", "asynq-scheduler")}, LogLevel: asynq.WarnLevel,
			})
		}
	}
	return s
}

// SweepEvery is the sweeper's period (0: this server schedules none).
func (s *Server) SweepEvery() time.Duration {
	if s.scheduler == nil {
		return 0
	}
	return s.cfg.SweepEvery
}

// Start begins processing in the background.
func (s *Server) Start() error {
	if err := s.srv.Start(s.mux); err != nil {
		return fmt.Errorf("jobs: start server: %w", err)
	}
	if s.hooks != nil {
		if err := s.hooks.Start(s.hooksMux); err != nil {
			return fmt.Errorf("jobs: start webhook server: %w", err)
		}
	}
	if s.scheduler != nil {
		spec := fmt.Sprintf("@every %s", s.cfg.SweepEvery)
		// Every replica registers the same periodic task; Unique makes
		// Redis keep one per period, so replicas do not sweep in chorus.
		if _, err := s.scheduler.Register(spec, asynq.NewTask(TypeSweep, nil),
			asynq.Queue(QueueMaintenance), asynq.Unique(s.cfg.SweepEvery*9/10), asynq.MaxRetry(0)); err != nil {
			return fmt.Errorf("jobs: register sweeper: %w", err)
		}
		if err := s.scheduler.Start(); err != nil {
			return fmt.Errorf("jobs: start scheduler: %w", err)
		}
	}
	return nil
}

// Shutdown stops taking tasks and waits for running ones (up to asynq's
// shutdown timeout; unfinished tasks go back to the queue).
func (s *Server) Shutdown() {
	if s.scheduler != nil {
		s.scheduler.Shutdown()
	}
	s.srv.Shutdown()
	if s.hooks != nil {
		s.hooks.Shutdown()
	}
}

func (s *Server) handleExport(ctx context.Context, t *asynq.Task) (err error) {
	var p ExportPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("jobs: bad export payload: %w: %w", err, asynq.SkipRetry)
	}
	ctx, end := startTask(ctx, s.cfg.Tracer, t, p.Trace,
		attribute.String("export_id", p.ExportID), attribute.String("tenant", p.TenantID))
	defer func() { end(err) }()
	log := s.cfg.Logger.With("export_id", p.ExportID, "tenant", p.TenantID, "task_id", t.ResultWriter().TaskID())
	err = s.cfg.Runner.Run(ctx, p.TenantID, p.ExportID)
	if err == nil {
		s.exportDone(ctx, p.TenantID, p.ExportID)
		return nil
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	permanent := s.cfg.IsPermanent != nil && s.cfg.IsPermanent(err)
	if !permanent && retried < maxRetry {
		log.WarnContext(ctx, "export attempt failed; will retry", "err", err, "retried", retried, "max_retry", maxRetry)
		return err
	}
	// Giving up: the export must end visibly failed, never stuck.
	code, msg := audit.ErrorCode(err), audit.ErrorMessage(err)
	if code == audit.EINTERNAL {
		msg = fmt.Sprintf("the export failed after %d attempts; try again or contact support", retried+1)
	}
	log.ErrorContext(ctx, "export failed", "err", err, "code", code, "retried", retried)
	s.cfg.Metrics.exportFailed(code)
	if ferr := s.cfg.Failer.FailExport(context.WithoutCancel(ctx), p.TenantID, p.ExportID, code, msg, s.cfg.Now().UTC()); ferr != nil {
		log.ErrorContext(ctx, "record export failure", "err", ferr)
		return ferr // retry the bookkeeping rather than lose it
	}
	s.exportDone(ctx, p.TenantID, p.ExportID)
	return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
}

// RetryDelay backs off exponentially from 1 s to 5 min with jitter, so a
// flapping dependency is not hammered by every worker at once.
func RetryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	d := time.Duration(math.Min(float64(time.Second)*math.Pow(2, float64(n)), float64(5*time.Minute)))
	return d/2 + rand.N(d/2+1)
}
