package postgres

import (
	"context"
	"database/sql"
	"errors"
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
// goes into events through ONE COPY (pgx's CopyFrom), in one transaction
// that commits only when fill returns nil. COPY cannot skip ids that
// exist, so a batch that holds one (a re-sent batch) or that loses a
// deadlock answers sqlstore.ErrCopyConflict, and nothing of it is stored:
// the caller then runs it again with INSERT … ON CONFLICT DO NOTHING.
// Fresh batches, the common case, pay COPY's price only.
//
// fill runs on a goroutine of its own, at most copyAhead chunks ahead of
// the COPY: the next chunk is decoded while PostgreSQL stores the previous
// one, instead of the two taking turns (issue 14), and memory stays
// bounded by a few chunks whatever the batch's size.
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
		src := startFill(ctx, tenantID, ingestTx, fill)
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, ingestColumns, src)
		if fillErr := src.wait(); fillErr != nil {
			return fillErr // the batch's own error comes first, as it would without the COPY
		}
		if err != nil {
			if d.IsUniqueViolation(err) || d.IsTxConflict(err) {
				return fmt.Errorf("%w: %w", sqlstore.ErrCopyConflict, err)
			}
			return fmt.Errorf("postgres: copy events: %w", err)
		}
		if err := tx.Commit(ctx); err != nil {
			if d.IsUniqueViolation(err) || d.IsTxConflict(err) {
				return fmt.Errorf("%w: %w", sqlstore.ErrCopyConflict, err)
			}
			return err
		}
		total = n
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// copyAhead is how many chunks fill may have ready before the COPY takes
// them.
const copyAhead = 2

// errCopyEnded stops fill once the COPY has ended early (it failed): what
// is left of the batch can no longer be stored.
var errCopyEnded = errors.New("postgres: the COPY ended before the batch")

// fillSource is a pgx.CopyFromSource of the rows a fill goroutine puts.
type fillSource struct {
	chunks <-chan [][]any // closed when fill has returned
	ended  chan struct{}  // closed when the COPY takes no more rows
	done   chan struct{}  // closed after fillErr and panicked are set
	rows   [][]any
	i      int
	err    error // fill's error, once chunks is closed

	fillErr  error
	panicked any
}

// startFill runs fill on a goroutine of its own; its chunks become rows
// of tenantID's events, ingested by ingestTx.
func startFill(ctx context.Context, tenantID string, ingestTx int64, fill func(put func([]audit.Event) error) error) *fillSource {
	chunks := make(chan [][]any, copyAhead-1)
	s := &fillSource{chunks: chunks, ended: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(chunks)
		defer func() { s.panicked = recover() }()
		s.fillErr = fill(func(events []audit.Event) error {
			rows, err := eventRows(tenantID, ingestTx, events)
			if err != nil {
				return err
			}
			select {
			case chunks <- rows:
				return nil
			case <-s.ended:
				return errCopyEnded
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return s
}

// eventRows are the COPY rows of a chunk, in id order as the INSERT path
// writes them, so that concurrent batches sharing ids lock them in one
// order.
func eventRows(tenantID string, ingestTx int64, events []audit.Event) ([][]any, error) {
	order := make([]*audit.Event, len(events))
	for i := range events {
		order[i] = &events[i]
	}
	slices.SortFunc(order, func(a, b *audit.Event) int { return strings.Compare(a.ID, b.ID) })
	rows := make([][]any, len(order))
	for i, e := range order {
		row, err := sqlstore.EventValues(tenantID, e)
		if err != nil {
			return nil, err
		}
		rows[i] = append(row, ingestTx)
	}
	return rows, nil
}

// Next, Values and Err are pgx.CopyFromSource's, called by the COPY.
func (s *fillSource) Next() bool {
	s.i++
	for s.i >= len(s.rows) {
		rows, ok := <-s.chunks
		if !ok {
			s.err = s.fillErr // set before chunks was closed
			if s.err == nil && s.panicked != nil {
				s.err = errCopyEnded // fill panicked: the COPY must not commit what it has
			}
			return false
		}
		s.rows, s.i = rows, 0
	}
	return true
}

func (s *fillSource) Values() ([]any, error) { return s.rows[s.i], nil }

func (s *fillSource) Err() error { return s.err }

// wait stops fill if it is still putting chunks (the COPY ended early),
// waits for it to return and returns its error; errCopyEnded, the stop
// itself, is none. A panic in fill is raised again here, on the request's
// goroutine, where it is recovered as any other.
func (s *fillSource) wait() error {
	close(s.ended)
	<-s.done
	if s.panicked != nil {
		panic(s.panicked)
	}
	if errors.Is(s.fillErr, errCopyEnded) {
		return nil
	}
	return s.fillErr
}
