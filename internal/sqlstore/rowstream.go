package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

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

// streamRows is StreamEvents on a RowStreamer.
func (db *DB) streamRows(ctx context.Context, rs RowStreamer, tenantID, query string, args []any, fn func(*audit.Event) error) error {
	var stop error // fn's error or a row's, returned as it is
	err := rs.StreamRows(ctx, db.r, query, args, func(cols [][]byte) error {
		ev, err := eventFromText(tenantID, cols)
		if err == nil {
			err = fn(ev)
		}
		stop = err
		return err
	})
	if stop != nil {
		return stop
	}
	if err != nil {
		return db.wrap("stream events", err)
	}
	return nil
}

// eventFromText is the event of tenantID that one row of StreamEvents'
// query holds, with the columns in RowStreamer's text form. The strings of
// the event share one allocation: a row's fields are used together, and
// allocating each apart was most of the cost of reading a row.
func eventFromText(tenantID string, cols [][]byte) (*audit.Event, error) {
	if len(cols) != colExtra+1 {
		return nil, fmt.Errorf("sqlstore: stream events: scan: %d columns, want %d", len(cols), colExtra+1)
	}
	if cols[colOccurredAt] == nil {
		return nil, errors.New("sqlstore: stream events: scan: occurred_at is NULL")
	}
	at, err := strconv.ParseInt(string(cols[colOccurredAt]), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: stream events: scan occurred_at: %w", err)
	}
	n, metas := 0, 0
	for i, c := range cols {
		if i != colOccurredAt {
			n += len(c)
		}
		if i >= colMeta && i < colExtra && c != nil {
			metas++
		}
	}
	var b strings.Builder
	b.Grow(n)
	for i, c := range cols {
		if i != colOccurredAt {
			b.Write(c)
		}
	}
	s := b.String()
	ev := &audit.Event{TenantID: tenantID, OccurredAt: fromMicros(at)}
	if metas > 0 {
		ev.Metadata = make(map[string]string, metas+2) // +2: room for extra keys
	}
	var extra string
	off := 0
	for i, c := range cols {
		if i == colOccurredAt {
			continue
		}
		v := s[off : off+len(c)]
		off += len(c)
		switch {
		case i == colID:
			ev.ID = v
		case i == colEventType:
			ev.EventType = v
		case i == colSubType:
			ev.SubType = v
		case i == colSystemSource:
			ev.SystemSource = v
		case i == colAuditeeID:
			ev.AuditeeID = v
		case i == colDescription:
			ev.Description = v
		case i < colExtra:
			if c != nil {
				ev.Metadata[audit.MetadataKeys[i-colMeta]] = v
			}
		default:
			extra = v
		}
	}
	if extra != "" {
		if err := addExtra(ev, extra); err != nil {
			return nil, err
		}
	}
	return ev, nil
}
