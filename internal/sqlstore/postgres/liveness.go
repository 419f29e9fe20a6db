package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// shouldPing decides, each time database/sql hands out a pooled
// connection, whether the driver pings it first; a failed ping makes
// database/sql throw the connection away and use another, invisibly.
//
// The driver's default pings only connections idle for more than a second.
// One used just before its backend was terminated (pg_terminate_backend, a
// failover, a proxy cutting idle connections) then failed the next query
// with SQLSTATE 57P01, a 500 for whoever asked.
//
// Such a server leaves something behind on the socket: its FATAL message,
// then end of file. An idle connection that is still healthy has nothing to
// read (between queries PostgreSQL sends nothing but the rare notice), so a
// connection whose socket is readable is pinged, and the ping finds out.
// The look is a poll(2) with a zero timeout on the socket: no read, no
// deadline, nothing taken from pgx's reader. pgx's own CheckConn reads
// with a 1 ms deadline instead, which cost twice: on a healthy connection
// it waits the whole millisecond out (2,000 sequential key lookups took
// 1,376 µs each with it, 88 µs with the poll), and on a loaded machine the
// deadline could pass before the read began, which reported a dead
// connection as healthy (TestKilledIdleConnectionIsReplaced failed so in
// CI). CheckConn remains the look where the socket cannot be polled.
func shouldPing(_ context.Context, p stdlib.ShouldPingParams) bool {
	if p.IdleDuration > time.Second {
		return true
	}
	pc := p.Conn.PgConn()
	if readable, ok := socketReadable(pc.Conn()); ok {
		return readable
	}
	return pc.CheckConn() != nil //nolint:staticcheck // SA1019: the fallback, see above
}
