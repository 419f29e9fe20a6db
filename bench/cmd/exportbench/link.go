package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/time/rate"
)

// linkChunk is the most a link moves in one step: the limiter's burst, so
// that a whole link never sends more than this ahead of its rate.
const linkChunk = 16 << 10

// cmdLink forwards TCP connections from -listen to -to at most -mbit
// megabits a second in each direction, all connections of a direction
// sharing that rate as they would share a real link. It stands for the
// network between a client and the service (issue 13's compressed
// transfer: on loopback the bytes a coding saves cost nothing, so only its
// CPU shows). It has a bandwidth and no latency. It runs until SIGTERM or
// SIGINT.
func cmdLink(args []string) error {
	fs := flag.NewFlagSet("link", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to accept connections on")
	to := fs.String("to", "", "address to forward them to (host:port)")
	mbit := fs.Float64("mbit", 100, "the link's rate in each direction, megabits (10^6 bits) per second")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" || *mbit <= 0 {
		return errors.New("-to and a positive -mbit are required")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	bytesPerSec := *mbit * 1e6 / 8
	l := &link{to: *to, up: rate.NewLimiter(rate.Limit(bytesPerSec), linkChunk),
		down: rate.NewLimiter(rate.Limit(bytesPerSec), linkChunk)}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	fmt.Fprintf(os.Stderr, "exportbench link: %s → %s at %g Mbit/s each way\n", ln.Addr(), *to, *mbit)
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go l.serve(ctx, c)
	}
}

// link is one shaped path: up carries client → server, down server → client.
type link struct {
	to       string
	up, down *rate.Limiter
}

func (l *link) serve(ctx context.Context, c net.Conn) {
	defer func() { _ = c.Close() }()
	s, err := net.Dial("tcp", l.to)
	if err != nil {
		fmt.Fprintf(os.Stderr, "exportbench link: %v\n", err)
		return
	}
	defer func() { _ = s.Close() }()
	var wg sync.WaitGroup
	wg.Go(func() { pace(ctx, s, c, l.up) })
	pace(ctx, c, s, l.down)
	wg.Wait()
}

// pace copies src to dst no faster than lim allows; at src's end it closes
// dst's writing half, as the peer would see it.
func pace(ctx context.Context, dst, src net.Conn, lim *rate.Limiter) {
	buf := make([]byte, linkChunk)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if lim.WaitN(ctx, n) != nil {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if cw, ok := dst.(interface{ CloseWrite() error }); ok && errors.Is(err, io.EOF) {
				_ = cw.CloseWrite()
			} else {
				_ = dst.Close()
			}
			return
		}
	}
}
