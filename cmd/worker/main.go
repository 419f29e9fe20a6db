// Command worker runs Audit Sentinel's export workers: it takes export
// tasks from Redis, streams events from the database through a renderer into
// object storage, and runs the periodic sweeper. Run as many as you like on
// the same REDIS_URL, DATABASE_URL and STORAGE_URL.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/auditsentinel/sentinel/internal/app"
	"github.com/auditsentinel/sentinel/internal/config"
)

const usage = `Usage: worker

Runs export workers. Needs REDIS_URL (a worker in another process cannot use
the api's embedded Redis), DATABASE_URL and STORAGE_URL pointing at the same
parts as the api. See 'api -h' for every variable; the worker also reads
WORKER_CONCURRENCY (exports run at once, default 4).
`

func main() {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, usage) }
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		os.Exit(2)
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err == nil && cfg.Redis.Mode == config.RedisEmbedded {
		err = fmt.Errorf("REDIS_URL: must be set for a separate worker process (redis://HOST:PORT/DB)")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "worker: configuration: %v\n", err)
		os.Exit(2)
	}
	logger := config.NewLogger(cfg, os.Stderr)
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit sized to the work: without one the garbage collector
		// lets the heap grow to twice what is live, which doubles a
		// worker's footprint for nothing. GOMEMLIMIT overrides it. What
		// an export holds is bounded (its share of the S3 part buffers,
		// which all uploads share, its live-stream queue, a row buffer):
		// 72 MiB for the process and 12 MiB for each export it may run
		// keep eight concurrent CSV exports under 200 MiB (issue 12); 50
		// MiB per export let the heap double past that.
		limit := max(int64(100)<<20, int64(72)<<20+int64(cfg.WorkerConcurrency)*(12<<20))
		debug.SetMemoryLimit(limit)
		logger.Info("soft memory limit set", "bytes", limit, "override_with", "GOMEMLIMIT")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	deps, err := app.Open(ctx, cfg, logger)
	if err != nil {
		logger.Error("worker: open", "err", err)
		fmt.Fprintf(os.Stderr, "worker: %v\n", err)
		os.Exit(1)
	}
	defer deps.Close()
	w := app.NewWorker(cfg, logger, deps)
	if err := w.Start(); err != nil {
		logger.Error("worker: start", "err", err)
		os.Exit(1)
	}
	logger.Info("worker started", "concurrency", cfg.WorkerConcurrency)
	<-ctx.Done()
	logger.Info("worker shutting down; running exports get up to 25s, then return to the queue")
	w.Shutdown()
}
