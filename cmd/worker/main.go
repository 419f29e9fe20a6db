// Command worker runs Audit Sentinel's export workers: it takes export
// tasks from Redis, streams events from the database through a renderer into
// object storage, and runs the periodic sweeper. Run as many as you like on
// the same REDIS_URL, DATABASE_URL and STORAGE_URL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/auditsentinel/sentinel/internal/app"
	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/redisconn"
)

const usage = `Usage: worker

Runs export workers. Needs REDIS_URL (a worker in another process cannot use
the api's embedded Redis), DATABASE_URL and STORAGE_URL pointing at the same
parts as the api.

` + app.EnvHelp

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	os.Exit(code) // last, so every deferred cleanup in run has happened
}

// run is the whole binary short of the process: it returns the exit code
// (0, 1 when the worker failed, 2 for bad flags or configuration) and works
// until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg, err := config.FromEnv(getenv)
	if err == nil && cfg.Redis.Mode == redisconn.Embedded {
		err = fmt.Errorf("REDIS_URL: must be set for a separate worker process (redis://HOST:PORT/DB)")
	}
	if err != nil {
		fmt.Fprintf(stderr, "worker: configuration: %v\n", err)
		return 2
	}
	logger := config.NewLogger(cfg, stderr)
	m := &app.WorkerMain{Config: cfg, Logger: logger, SoftMemoryLimit: getenv("GOMEMLIMIT") == ""}
	err = m.Run(ctx)
	if err == nil {
		<-ctx.Done()
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		logger.Error("worker stopped", "err", err)
		fmt.Fprintf(stderr, "worker: %v\n", err)
		return 1
	}
	return 0
}
