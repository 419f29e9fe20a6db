package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// textResults asks for every result column in text form, as
// sqlstore.RowStreamer hands them over; the text and binary forms of TEXT
// are the same bytes, and a BIGINT in decimal costs little to parse.
var textResults = pgx.QueryResultFormats{pgx.TextFormatCode}

// StreamRows implements sqlstore.RowStreamer with pgx's own API on one of
// db's connections: each row's values are the bytes of the protocol
// message, without database/sql's conversion and boxing of every value.
func (Dialect) StreamRows(ctx context.Context, db *sql.DB, query string, args []any, fn func(cols [][]byte) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres: stream rows: driver connection is a %T, not pgx's", driverConn)
		}
		rows, err := sc.Conn().Query(ctx, query, append([]any{textResults}, args...)...)
		if err != nil {
			return err
		}
		// Close reads what is left of the result, so that the connection
		// goes back to the pool ready for the next query; when ctx is done,
		// pgx has broken the connection instead and the pool drops it.
		defer rows.Close()
		done := ctx.Done()
		for rows.Next() {
			// pgx notices a done ctx only when it next reads from the
			// server; rows already buffered would keep coming.
			select {
			case <-done:
				return ctx.Err()
			default:
			}
			if err := fn(rows.RawValues()); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}
