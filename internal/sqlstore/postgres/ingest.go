package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
)

var _ sqlstore.StreamCopier = Dialect{}

// ingestColumns are the columns a streamed batch copies: the event's, and
// the transaction that ingests it.
var ingestColumns = append(slices.Clone(sqlstore.EventColumns), "ingest_tx")

// CopyEventStream implements sqlstore.StreamCopier: every chunk fill puts
// goes into events with COPY (pgx's CopyFrom), in one transaction that
// commits only when fill returns nil. COPY cannot skip ids that exist, so a
// batch that holds one (a re-sent batch) or that loses a deadlock answers
// sqlstore.ErrCopyConflict, and nothing of it is stored: the caller then
// runs it again with INSERT … ON CONFLICT DO NOTHING. Fresh batches, the
// common case, pay COPY's price only.
func (d Dialect) CopyEventStream(ctx context.Context, db *sql.DB, tenantID string, fill func(put func([]audit.Event) error) error) (int64, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var total int64
	err = conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres: copy event stream: driver connection is a %T, not pgx's", driverConn)
		}
		tx, err := sc.Conn().Begin(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		var ingestTx int64
		if err := tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&ingestTx); err != nil {
			return err
		}
		rows := make([][]any, 0, 1024)
		err = fill(func(events []audit.Event) error {
			// In id order, as the INSERT path does, so that concurrent
			// batches sharing ids lock them in one order.
			order := make([]*audit.Event, len(events))
			for i := range events {
				order[i] = &events[i]
			}
			slices.SortFunc(order, func(a, b *audit.Event) int { return strings.Compare(a.ID, b.ID) })
			rows = rows[:0]
			for _, e := range order {
				row, err := sqlstore.EventValues(tenantID, e)
				if err != nil {
					return err
				}
				rows = append(rows, append(row, ingestTx))
			}
			n, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, ingestColumns, pgx.CopyFromRows(rows))
			if err != nil {
				if d.IsUniqueViolation(err) || d.IsTxConflict(err) {
					return fmt.Errorf("%w: %w", sqlstore.ErrCopyConflict, err)
				}
				return fmt.Errorf("postgres: copy events: %w", err)
			}
			total += n
			return nil
		})
		if err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			if d.IsUniqueViolation(err) || d.IsTxConflict(err) {
				return fmt.Errorf("%w: %w", sqlstore.ErrCopyConflict, err)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}
