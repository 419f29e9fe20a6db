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

	"github.com/alicebob/miniredis/v2"

	"github.com/auditsentinel/sentinel/internal/redisconn"
)

// server is an in-process Redis on a loopback port.
type server struct {
	m *miniredis.Miniredis
}

// Start starts an in-process Redis on a free loopback port.
func Start() (redisconn.Server, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("embedded redis: %w", err)
	}
	return &server{m: m}, nil
}

// Config reaches the server as a standalone Redis.
func (s *server) Config() redisconn.Config {
	return redisconn.Config{Mode: redisconn.Standalone, Addrs: []string{s.m.Addr()}}
}

// Close stops the server; what it held is gone.
func (s *server) Close() { s.m.Close() }
