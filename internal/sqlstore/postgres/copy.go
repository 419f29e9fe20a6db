package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
)

// copyChunkRows is how many events one COPY carries and one transaction
// commits: large enough that per-statement costs vanish, small enough to
// buffer in memory (a chunk is replayed when it holds existing ids).
const copyChunkRows = 25_000

// BulkInsertEvents implements sqlstore.BulkLoader with COPY. Each chunk is
// first copied straight into events; a chunk that collides with existing
// ids (a re-run seed) is copied into a temporary table instead and moved
// with INSERT … ON CONFLICT DO NOTHING, so the result is the same as
// InsertEvents' and fresh data pays for none of it.
func (Dialect) BulkInsertEvents(ctx context.Context, db *sql.DB, tenantID string, next func() (*audit.Event, bool)) (int64, error) {
	return CopyEvents(ctx, db, tenantID, next)
}

// CopyEvents loads every event next yields for tenantID into events with
// COPY, committing every copyChunkRows events, and returns how many were new.
func CopyEvents(ctx context.Context, db *sql.DB, tenantID string, next func() (*audit.Event, bool)) (int64, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: copy events: %w", err)
	}
	defer conn.Close()
	var total int64
	err = conn.Raw(func(driverConn any) error {
		pc := driverConn.(*stdlib.Conn).Conn()
		rows := make([][]any, 0, copyChunkRows)
		for done := false; !done; {
			rows = rows[:0]
			for len(rows) < copyChunkRows {
				e, ok := next()
				if !ok {
					done = true
					break
				}
				row, err := sqlstore.EventValues(tenantID, e)
				if err != nil {
					return err
				}
				rows = append(rows, row)
			}
			if len(rows) == 0 {
				break
			}
			n, err := copyChunk(ctx, pc, rows)
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return total, fmt.Errorf("postgres: copy events: %w", err)
	}
	return total, nil
}

func copyChunk(ctx context.Context, c *pgx.Conn, rows [][]any) (int64, error) {
	// Fast path: one COPY is one atomic statement.
	n, err := c.CopyFrom(ctx, pgx.Identifier{"events"}, sqlstore.EventColumns, pgx.CopyFromRows(rows))
	if err == nil {
		return n, nil
	}
	if !(Dialect{}).IsUniqueViolation(err) {
		return 0, err
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE events_load (LIKE events) ON COMMIT DROP`); err != nil {
		return 0, err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events_load"}, sqlstore.EventColumns, pgx.CopyFromRows(rows)); err != nil {
		return 0, err
	}
	cols := strings.Join(sqlstore.EventColumns, ", ")
	tag, err := tx.Exec(ctx, `INSERT INTO events (`+cols+`) SELECT `+cols+` FROM events_load ON CONFLICT (tenant_id, id) DO NOTHING`)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), tx.Commit(ctx)
}
