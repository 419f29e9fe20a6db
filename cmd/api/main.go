// Command api serves the Audit Sentinel HTTP API. With -demo, or whenever
// REDIS_URL is unset, it also runs the queue and a worker in-process.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/auditsentinel/sentinel/internal/app"
	"github.com/auditsentinel/sentinel/internal/config"
)

const usage = `Usage: api [-demo] [-addr ADDR]

Serves the Audit Sentinel API (GET /v5/audit-sentinel/events/export and
friends; OpenAPI document at /openapi.yaml, health at /healthz and /readyz).

  -demo        run everything on embedded defaults (SQLite under ./data, an
               in-process Redis and worker, files under ./data/exports) and,
               on first start, create a demo tenant, an API key and ~100,000
               realistic events; prints the key and a working curl line
  -addr ADDR   listen address (overrides HTTP_ADDR)

Configuration comes from the environment:
  HTTP_ADDR            listen address (default :8080)
  DATABASE_URL         postgres://… or sqlite:PATH (default sqlite:./data/audit.db)
  REDIS_URL            redis://…, rediss://…, redis-sentinel://…, redis-cluster://…;
                       unset = embedded mode (in-process Redis and worker)
  STORAGE_URL          s3://BUCKET[/PREFIX] or file:///DIR (default file://./data/exports)
  AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
  S3_FORCE_PATH_STYLE  S3 endpoint and credentials (path style for MinIO/versitygw)
  EXPORT_WAIT          how long an export request waits before answering 202 (default 20s)
  EXPORT_REUSE_WINDOW  how long a finished export answers identical requests (default 10m)
  EXPORT_RETENTION     how long export files are kept (default 7d)
  PDF_MAX_EVENTS       cap on events in one PDF (default 5000)
  SIGNING_KEY          Ed25519 key (base64 seed) that signs export manifests; unset =
                       embedded mode generates one in ./data (next to the SQLite
                       database), otherwise manifests answer 501
  WORKER_CONCURRENCY   exports run at once by an embedded worker (default 4)
  LOG_LEVEL, LOG_FORMAT  debug|info|warn|error; json|text|auto
`

func main() {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, usage) }
	demo := fs.Bool("demo", false, "")
	addr := fs.String("addr", "", "")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		os.Exit(2)
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "api: configuration: %v\n", err)
		os.Exit(2)
	}
	if *addr != "" {
		cfg.HTTPAddr = *addr
	}
	logger := config.NewLogger(cfg, os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, *demo); err != nil {
		logger.Error("api stopped", "err", err)
		fmt.Fprintf(os.Stderr, "api: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config.Config, demo bool) error {
	logger := config.NewLogger(cfg, os.Stderr)
	logger.Info("starting api", "config", cfg)
	deps, err := app.Open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer deps.Close()
	var banner string
	if demo {
		if banner, err = app.SeedDemo(ctx, cfg, deps, logger); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	if cfg.SigningKey, err = app.EnsureSigningKey(cfg, deps.Embedded, logger); err != nil {
		return err
	}
	a := app.NewAPI(cfg, logger, deps)
	if err := a.Start(); err != nil {
		return err
	}
	if banner != "" {
		fmt.Fprint(os.Stdout, app.DemoBanner(banner, a.Addr()))
	}
	<-ctx.Done()
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return a.Close(sctx)
}
