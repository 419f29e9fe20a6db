package redisconn

import (
	"fmt"

	"github.com/alicebob/miniredis/v2"
)

// EmbeddedServer is the in-process Redis of embedded mode (one machine, the
// demo): the queue and the live streams run on it when REDIS_URL is unset.
// It is the only place production code may start one, so a distributed
// deployment can never fall back to it without saying so (depguard keeps
// miniredis out of every other package).
type EmbeddedServer struct {
	m *miniredis.Miniredis
}

// StartEmbedded starts an in-process Redis on a free loopback port.
func StartEmbedded() (*EmbeddedServer, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("redisconn: embedded redis: %w", err)
	}
	return &EmbeddedServer{m: m}, nil
}

// Addr is the server's host:port.
func (s *EmbeddedServer) Addr() string { return s.m.Addr() }

// Config reaches the server as a standalone Redis.
func (s *EmbeddedServer) Config() Config {
	return Config{Mode: Standalone, Addrs: []string{s.m.Addr()}}
}

// Close stops the server; what it held is gone.
func (s *EmbeddedServer) Close() { s.m.Close() }
