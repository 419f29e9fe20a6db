// Command api serves the Audit Sentinel HTTP API. With -demo, or whenever
// REDIS_URL is unset, it also runs the queue and a worker in-process.
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
	"github.com/auditsentinel/sentinel/internal/redisconn/embedded"
)

const usage = `Usage: api [-demo] [-addr ADDR]

Serves the Audit Sentinel API (GET /v5/audit-sentinel/events/export and
friends; OpenAPI document at /openapi.yaml, health at /healthz and /readyz).

  -demo        run everything on embedded defaults (SQLite under ./data, an
               in-process Redis and worker, files under ./data/exports) and,
               on first start, create a demo tenant, an API key and ~100,000
               realistic events; prints the key and a working curl line
  -addr ADDR   listen address (overrides HTTP_ADDR)

` + app.EnvHelp

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code) // last, so every deferred cleanup in run has happened
}

// run is the whole binary short of the process: it returns the exit code
// (0, 1 when the server failed, 2 for bad flags or configuration) and
// serves until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	demo := fs.Bool("demo", false, "")
	addr := fs.String("addr", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "api: configuration: %v\n", err)
		return 2
	}
	if *addr != "" {
		cfg.HTTPAddr = *addr
	}
	logger := config.NewLogger(cfg, stderr)
	m := &app.Main{Config: cfg, Logger: logger, Demo: *demo, Stdout: stdout, StartRedis: embedded.Start}
	err = m.Run(ctx)
	if err == nil {
		<-ctx.Done()
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		logger.Error("api stopped", "err", err)
		fmt.Fprintf(stderr, "api: %v\n", err)
		return 1
	}
	return 0
}
