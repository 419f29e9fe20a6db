package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// FeedPage returns up to limit events of f after cursor in ingest order
// (ingest_tx, id), reading only below the current snapshot's xmin: every
// transaction under it has committed or rolled back, so no event can appear
// later below the cursor this page hands out. A transaction that commits
// late holds the horizon back instead of being skipped. When fewer than
// limit events are there, Next moves to the horizon, so that a reader whose
// filter matches little does not scan the same non-matching events again.
func (db *DB) FeedPage(ctx context.Context, f audit.Filter, after audit.FeedCursor, limit int) (audit.FeedPage, error) {
	if limit <= 0 {
		return audit.FeedPage{}, audit.Invalid("limit", "a feed page holds at least one event")
	}
	snap, err := db.Snapshot(ctx)
	if err != nil {
		return audit.FeedPage{}, err
	}
	horizon := snap.Xmin
	page := audit.FeedPage{Next: after, Horizon: horizon}
	if after.Tx >= horizon {
		return page, nil // nothing can be handed out yet: a cheap empty page
	}
	a := db.args()
	f.AsOf, f.After = nil, nil
	w, err := where(f, a)
	if err != nil {
		return audit.FeedPage{}, err
	}
	q := "SELECT ingest_tx, " + streamColumns + metaSelect + " FROM events WHERE " + w +
		" AND (ingest_tx, id) > (" + a.add(after.Tx) + ", " + a.add(after.ID) + ")" +
		" AND ingest_tx < " + a.add(horizon) +
		" ORDER BY ingest_tx, id LIMIT " + a.add(limit+1)
	b := rowBatch{rows: make([]audit.EventRow, 0, limit+1)}
	var txs []int64
	yield := func(cols [][]byte) error {
		tx, err := strconv.ParseInt(string(cols[0]), 10, 64)
		if err != nil {
			return fmt.Errorf("sqlstore: feed: ingest_tx: %w", err)
		}
		txs = append(txs, tx)
		return b.add(cols[1:])
	}
	if rs, ok := db.d.(RowStreamer); ok {
		err = rs.StreamRows(ctx, db.r, q, a.vals, yield)
	} else {
		err = scanRaw(ctx, db.r, q, a.vals, colExtra+2, yield)
	}
	if err != nil {
		return audit.FeedPage{}, db.wrap("feed page", err)
	}
	rows := b.take()
	if len(rows) > limit {
		rows, txs, page.More = rows[:limit], txs[:limit], true
	}
	page.Events = make([]audit.Event, len(rows))
	for i := range rows {
		e, err := rows[i].Event(f.TenantID)
		if err != nil {
			return audit.FeedPage{}, fmt.Errorf("sqlstore: feed page: %w", err)
		}
		page.Events[i] = *e
	}
	switch {
	case page.More:
		page.Next = audit.FeedCursor{Tx: txs[len(txs)-1], ID: rows[len(rows)-1].ID}
	default:
		// Everything of f below the horizon has been handed out; an id is
		// never empty, so (horizon, "") is before every event of horizon.
		page.Next = audit.FeedCursor{Tx: horizon}
	}
	return page, nil
}

// scanRaw runs q and hands fn each row's n columns as text (see
// RowStreamer), through database/sql.
func scanRaw(ctx context.Context, db *sql.DB, q string, args []any, n int, fn func(cols [][]byte) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	raw := make([]sql.RawBytes, n)
	dest := make([]any, n)
	for i := range raw {
		dest[i] = &raw[i]
	}
	cols := make([][]byte, n)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		for i, r := range raw {
			cols[i] = r
		}
		if err := fn(cols); err != nil {
			return err
		}
	}
	return rows.Err()
}
