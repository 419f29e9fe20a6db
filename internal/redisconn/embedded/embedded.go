// Package embedded starts the in-process Redis of embedded mode (one
// machine, the demo): the queue and the live streams run on it when
// REDIS_URL is unset. It is the only place production code may start one,
// so a distributed deployment can never fall back to it without saying so
// (depguard keeps miniredis out of every other package), and only cmd/api
// links it: a worker always has a REDIS_URL, and miniredis with its Lua
// interpreter cost every worker megabytes of RSS.
package embedded

import (
	"fmt"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/auditsentinel/sentinel/internal/redisconn"
)

// tick is how often the server's key expiry catches up with the clock:
// the shortest TTL the service sets is a second (the sweeper's leases at
// their lowest), so a key outlives its TTL by at most a quarter of that.
const tick = 250 * time.Millisecond

// server is an in-process Redis on a loopback port.
type server struct {
	m    *miniredis.Miniredis
	stop chan struct{}
	done sync.WaitGroup
}

// Start starts an in-process Redis on a free loopback port.
//
// miniredis, made for tests, never expires keys by itself: a TTL only
// counts down when its owner calls FastForward. The service relies on
// expiry (live export streams, asynq's uniqueness locks, the sweeper's
// leases), so without a clock a long-running embedded api kept every live
// stream it ever published (up to 16 MiB each), and one failed sweep left
// the sweep task's uniqueness lock behind forever, which stopped the
// sweeper until a restart. A goroutine moves miniredis's TTLs forward in
// step with the wall clock.
func Start() (redisconn.Server, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("embedded redis: %w", err)
	}
	s := &server{m: m, stop: make(chan struct{})}
	s.done.Add(1)
	go s.expire()
	return s, nil
}

// expire counts every TTL down by the time that has passed, until Close.
func (s *server) expire() {
	defer s.done.Done()
	t := time.NewTicker(tick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.m.FastForward(now.Sub(last))
			last = now
		}
	}
}

// Config reaches the server as a standalone Redis.
func (s *server) Config() redisconn.Config {
	return redisconn.Config{Mode: redisconn.Standalone, Addrs: []string{s.m.Addr()}}
}

// Close stops the server; what it held is gone.
func (s *server) Close() {
	close(s.stop)
	s.done.Wait()
	s.m.Close()
}
