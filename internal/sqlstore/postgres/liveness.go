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
// with SQLSTATE 57P01, a 500 for whoever asked. CheckConn looks, without
// writing anything, for what such a server leaves behind (its FATAL message,
// the closed socket); it waits at most a millisecond on a healthy
// connection.
func shouldPing(_ context.Context, p stdlib.ShouldPingParams) bool {
	if p.IdleDuration > time.Second {
		return true
	}
	// Ping (CheckConn's replacement) is what the pool does when this says
	// true; CheckConn is the cheap, non-writing look that decides whether to.
	return p.Conn.PgConn().CheckConn() != nil //nolint:staticcheck // SA1019: see above
}
