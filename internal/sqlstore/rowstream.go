package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// RowStreamer is implemented by dialects that read a query's rows more
// cheaply than database/sql, which converts and boxes every value of every
// row (PostgreSQL through pgx's own protocol). StreamEvents uses it: an
// export reads millions of rows.
type RowStreamer interface {
	// StreamRows runs query with args on a connection of db and calls fn
	// with each row's columns in text form: an integer in decimal, NULL as
	// a nil slice, an empty string as an empty non-nil one. cols and the
	// bytes it holds are valid only until fn returns. It stops at the first
	// error fn returns and returns that error as it is, and stops with
	// ctx's error when ctx is done. The connection goes back to db however
	// it ends.
	StreamRows(ctx context.Context, db *sql.DB, query string, args []any, fn func(cols [][]byte) error) error
}

// Positions of the columns of StreamEvents' query (streamColumns, then
// metaSelect).
const (
	colID = iota
	colOccurredAt
	colEventType
	colSubType
	colSystemSource
	colAuditeeID
	colDescription
	colMeta // the first of len(audit.MetadataKeys)
)

// colExtra is metadata_extra's position, the last.
var colExtra = colMeta + len(audit.MetadataKeys)

// batchRows is how many rows StreamEventRows hands over at once: large
// enough that a batch costs nothing per row, small enough that memory stays
// flat.
const batchRows = 512

// numStrings is how many of a row's columns are text: all but occurred_at.
var numStrings = colExtra

type span struct{ from, to int32 }

// rowBatch builds the EventRows of one batch from rows in RowStreamer's
// text form. The bytes of every row go to one arena, which becomes ONE
// string when the batch is done, so that a row costs no allocation of its
// own: the strings of the rows share it.
type rowBatch struct {
	rows  []audit.EventRow
	arena []byte
	spans []span // numStrings per row
}

func (b *rowBatch) add(cols [][]byte) error {
	if len(cols) != colExtra+1 {
		return fmt.Errorf("sqlstore: stream events: scan: %d columns, want %d", len(cols), colExtra+1)
	}
	if cols[colOccurredAt] == nil {
		return errors.New("sqlstore: stream events: scan: occurred_at is NULL")
	}
	at, err := strconv.ParseInt(string(cols[colOccurredAt]), 10, 64)
	if err != nil {
		return fmt.Errorf("sqlstore: stream events: scan occurred_at: %w", err)
	}
	r := audit.EventRow{OccurredAt: at}
	for i, c := range cols {
		if i == colOccurredAt {
			continue
		}
		if i >= colMeta && i < colExtra && c != nil {
			r.HasMeta |= 1 << (i - colMeta)
		}
		from := len(b.arena)
		b.arena = append(b.arena, c...)
		b.spans = append(b.spans, span{int32(from), int32(len(b.arena))})
	}
	b.rows = append(b.rows, r)
	return nil
}

// take returns the batch's rows, which are the caller's to keep, and
// starts a new batch reusing the arena.
func (b *rowBatch) take() []audit.EventRow {
	s := string(b.arena)
	for i := range b.rows {
		r := &b.rows[i]
		sp := b.spans[i*numStrings : (i+1)*numStrings]
		str := func(col int) string {
			if col > colOccurredAt {
				col--
			}
			return s[sp[col].from:sp[col].to]
		}
		r.ID = str(colID)
		r.EventType = str(colEventType)
		r.SubType = str(colSubType)
		r.SystemSource = str(colSystemSource)
		r.AuditeeID = str(colAuditeeID)
		r.Description = str(colDescription)
		for k := range audit.NumMetadataKeys {
			r.Meta[k] = str(colMeta + k)
		}
		if x := str(colExtra); x != "{}" && x != "null" {
			r.Extra = x
		}
	}
	rows := b.rows
	b.rows = make([]audit.EventRow, 0, batchRows)
	b.arena, b.spans = b.arena[:0], b.spans[:0]
	return rows
}

// streamBatches feeds fn batches of the rows that next(yield) yields in text
// form; it returns fn's error as it is.
func streamBatches(fn func([]audit.EventRow) error, next func(yield func(cols [][]byte) error) error) (stop error, err error) {
	b := rowBatch{rows: make([]audit.EventRow, 0, batchRows)}
	err = next(func(cols [][]byte) error {
		if err := b.add(cols); err != nil {
			stop = err
			return err
		}
		if len(b.rows) == batchRows {
			stop = fn(b.take())
			return stop
		}
		return nil
	})
	if err == nil && stop == nil && len(b.rows) > 0 {
		stop = fn(b.take())
	}
	return stop, err
}
