//go:build !unix

package postgres

import "net"

// socketReadable cannot poll a socket here: shouldPing falls back to pgx's
// CheckConn.
func socketReadable(net.Conn) (readable, ok bool) { return false, false }
