//go:build unix

package postgres

import (
	"crypto/tls"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// socketReadable reports whether c's socket has bytes or end of file
// waiting, without reading them or waiting itself; ok is false when c's
// socket cannot be reached.
func socketReadable(c net.Conn) (readable, ok bool) {
	if tc, isTLS := c.(*tls.Conn); isTLS {
		c = tc.NetConn()
	}
	sc, isSys := c.(syscall.Conn)
	if !isSys {
		return false, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false, false
	}
	// Control, not Read: it holds no read lock, so it never waits behind
	// a reader, and poll with a zero timeout returns at once.
	var pollErr error
	err = raw.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			_, pollErr = unix.Poll(fds, 0)
			if pollErr != unix.EINTR {
				break
			}
		}
		readable = fds[0].Revents&(unix.POLLIN|unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0
	})
	if err != nil || pollErr != nil {
		return false, false
	}
	return readable, true
}
