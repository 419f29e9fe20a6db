package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/auditsentinel/sentinel/internal/jobs"
	"github.com/auditsentinel/sentinel/internal/redisconn/embedded"
)

// sweeper fails its first pass and counts every pass.
type sweeper struct{ passes atomic.Int32 }

func (s *sweeper) Sweep(context.Context) error {
	if s.passes.Add(1) == 1 {
		return errors.New("storage unreachable")
	}
	return nil
}

// TestSweepRunsAgainAfterAFailedPass: a failed sweep is not retried (the
// next period's is as good), and it must not stop the periodic sweeps.
// asynq keeps a failed task's uniqueness lock until its TTL runs out, so
// this holds only where Redis expires keys: on a real Redis, and on the
// embedded one only since it runs a clock (package embedded). Before, one
// failed pass in embedded mode ended sweeping until the api restarted.
func TestSweepRunsAgainAfterAFailedPass(t *testing.T) {
	t.Run("redis", func(t *testing.T) { testSweepAfterFailure(t, setup(t)) })
	t.Run("embedded", func(t *testing.T) {
		srv, err := embedded.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		testSweepAfterFailure(t, srv.Config().ConnOpt())
	})
}

func testSweepAfterFailure(t *testing.T, opt asynq.RedisConnOpt) {
	sw := &sweeper{}
	srv := jobs.NewServer(jobs.ServerConfig{
		Redis: opt, Concurrency: 1, Runner: &runner{}, Sweeper: sw, SweepEvery: 2 * time.Second,
		Logger: slog.New(slog.DiscardHandler), Now: time.Now,
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	deadline := time.Now().Add(20 * time.Second)
	for sw.passes.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sweep passes in 20 s with a 2 s period; the first one failed and sweeping stopped", sw.passes.Load())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
