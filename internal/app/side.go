package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// sideServer is an HTTP listener beside the API: a separate worker's
// METRICS_ADDR (/metrics for Prometheus, /healthz and /readyz for the
// kubelet's probes) and either binary's DEBUG_ADDR (debug.go).
type sideServer struct {
	srv    *http.Server
	ln     net.Listener
	served chan error
}

// serveSide listens on addr (from the variable envVar, named in the error)
// and serves h there until close.
func serveSide(addr, envVar string, h http.Handler, logger *slog.Logger) (*sideServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", envVar, addr, err)
	}
	s := &sideServer{served: make(chan error, 1), ln: ln, srv: &http.Server{
		Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// addr is where s listens; "" for no server.
func (s *sideServer) addr() string {
	if s == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// closeSide shuts *s down (requests in flight get 5 s) and forgets it, so
// that a second Close does nothing; nil does nothing.
func closeSide(s **sideServer) error {
	if *s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := (*s).srv.Shutdown(ctx)
	if serr := <-(*s).served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	*s = nil
	return err
}
