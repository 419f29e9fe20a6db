package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// EventColumns are the columns of the events table in the order
// EventValues produces them: tenant_id, id, occurred_at, event_type,
// sub_type, system_source, auditee_id, description, one meta_<key> column
// per audit.MetadataKeys entry, metadata_extra.
var EventColumns = func() []string {
	cols := []string{"tenant_id", "id", "occurred_at", "event_type", "sub_type", "system_source", "auditee_id", "description"}
	for _, k := range audit.MetadataKeys {
		cols = append(cols, "meta_"+k)
	}
	return append(cols, "metadata_extra")
}()

// EventValues returns the row of e for tenantID in EventColumns order:
// occurred_at as unix microseconds, an absent metadata key as nil (NULL),
// and the keys that are not filterable as sorted JSON (nil when none).
func EventValues(tenantID string, e *audit.Event) ([]any, error) {
	row := make([]any, 0, len(EventColumns))
	row = append(row, tenantID, e.ID, micros(e.OccurredAt), e.EventType, e.SubType, e.SystemSource, e.AuditeeID, e.Description)
	for _, k := range audit.MetadataKeys {
		if v, ok := e.Metadata[k]; ok {
			row = append(row, v)
		} else {
			row = append(row, nil)
		}
	}
	extra, err := audit.EncodeExtraMetadata(e.Metadata)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: encode metadata of event %s: %w", e.ID, err)
	}
	if extra == "" {
		return append(row, nil), nil
	}
	return append(row, extra), nil
}

// InsertEvents stores events for tenantID in one transaction. Rows go in
// id order so that concurrent batches sharing ids lock them in one order and
// cannot deadlock.
func (db *DB) InsertEvents(ctx context.Context, tenantID string, events []audit.Event) (int, error) {
	if tenantID == "" {
		return 0, audit.Invalid("tenant_id", "events need a tenant")
	}
	if len(events) == 0 {
		return 0, nil
	}
	order := make([]*audit.Event, len(events))
	for i := range events {
		order[i] = &events[i]
	}
	slices.SortFunc(order, func(a, b *audit.Event) int { return strings.Compare(a.ID, b.ID) })
	var inserted int64
	err := db.retryTx(ctx, "insert events", func(tx *sql.Tx) error {
		n, err := db.insertEventRows(ctx, tx, tenantID, order)
		inserted = n
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(inserted), nil
}

// txAttempts is how often retryTx runs a transaction that keeps losing to
// concurrent ones.
const txAttempts = 4

// retryTx is withTx for a transaction that may lose a deadlock: ingest
// batches lock the ids they insert, each batch in id order, but a streamed
// batch is sorted chunk by chunk, so two batches sharing ids across chunks
// can take them in opposite orders. The engine then aborts one of them; it
// is run again (fn must do the same work each time) after a short random
// pause, and if it still loses the caller gets EUNAVAILABLE, which says
// "retry", instead of an internal error.
func (db *DB) retryTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.withTx(ctx, op, fn)
		if err == nil || !db.d.IsTxConflict(err) {
			return err
		}
		if attempt == txAttempts {
			db.log.WarnContext(ctx, "sqlstore: transaction lost to concurrent ones every time; giving up",
				"op", op, "attempts", attempt, "err", err)
			return &audit.Error{Code: audit.EUNAVAILABLE,
				Message: "the batch kept colliding with concurrent batches that share event ids; send it again"}
		}
		db.log.WarnContext(ctx, "sqlstore: transaction lost to a concurrent one; running it again",
			"op", op, "attempt", attempt, "err", err)
		pause := time.Duration(attempt) * (20*time.Millisecond + rand.N(80*time.Millisecond))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// insertEventRows inserts evs with multi-row INSERTs of at most
// MaxInsertRows rows, skipping existing (tenant_id, id).
func (db *DB) insertEventRows(ctx context.Context, tx *sql.Tx, tenantID string, evs []*audit.Event) (int64, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	ingestTx, err := db.d.IngestTx(ctx, tx)
	if err != nil {
		return 0, db.wrap("insert events: ingest transaction", err)
	}
	var total int64
	step := max(db.d.MaxInsertRows(), 1)
	for start := 0; start < len(evs); start += step {
		chunk := evs[start:min(start+step, len(evs))]
		var b strings.Builder
		b.WriteString("INSERT INTO events (")
		b.WriteString(strings.Join(EventColumns, ", "))
		b.WriteString(", ingest_tx) VALUES ")
		a := db.args()
		for i, e := range chunk {
			row, err := EventValues(tenantID, e)
			if err != nil {
				return 0, err
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j, v := range row {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(a.add(v))
			}
			b.WriteByte(',')
			b.WriteString(a.add(ingestTx))
			b.WriteByte(')')
		}
		b.WriteString(" ON CONFLICT (tenant_id, id) DO NOTHING")
		res, err := tx.ExecContext(ctx, b.String(), a.vals...)
		if err != nil {
			return 0, db.wrap("insert events", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, db.wrap("insert events", err)
		}
		total += n
	}
	return total, nil
}

// BulkInsertEvents loads every event next yields for tenantID, skipping ids
// that exist, and returns how many were new. Unlike InsertEvents it is not
// all or nothing: it commits as it goes (every BulkTxRows events, or as the
// dialect's BulkLoader decides), and on error returns what was committed.
// It is meant for seeding and migrations, not for ingest.
func (db *DB) BulkInsertEvents(ctx context.Context, tenantID string, next func() (*audit.Event, bool)) (int64, error) {
	if tenantID == "" {
		return 0, audit.Invalid("tenant_id", "events need a tenant")
	}
	if bl, ok := db.d.(BulkLoader); ok {
		n, err := bl.BulkInsertEvents(ctx, db.w, tenantID, next)
		if err != nil {
			return n, db.wrap("bulk insert events", err)
		}
		return n, nil
	}
	var total int64
	batch := make([]*audit.Event, 0, db.bulkTxRows)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var n int64
		err := db.withTx(ctx, "bulk insert events", func(tx *sql.Tx) error {
			var err error
			n, err = db.insertEventRows(ctx, tx, tenantID, batch)
			return err
		})
		if err != nil {
			return err
		}
		total += n
		batch = batch[:0]
		return nil
	}
	for {
		e, ok := next()
		if !ok {
			break
		}
		// next may reuse *e between calls: keep a copy.
		c := *e
		batch = append(batch, &c)
		if len(batch) == db.bulkTxRows {
			if err := flush(); err != nil {
				return total, err
			}
		}
	}
	return total, flush()
}

const streamColumns = "id, occurred_at, event_type, sub_type, system_source, auditee_id, description, "

var metaSelect = func() string {
	var b strings.Builder
	for _, k := range audit.MetadataKeys {
		b.WriteString("meta_" + k + ", ")
	}
	b.WriteString("metadata_extra")
	return b.String()
}()

// where builds the WHERE clause of f: tenant first, always; values of one
// list OR (IN), lists and metadata keys AND; range bounds inclusive. The
// semantics are f.Canonical().Match: an empty list does not restrict, and
// bounds count at audit.TimePrecision (truncated, as Canonical does, so
// that requests sharing an export by hash select the same events).
func where(f audit.Filter, a *args) (string, error) {
	if f.TenantID == "" {
		return "", audit.Invalid("tenant_id", "a filter needs a tenant")
	}
	conds := []string{"tenant_id = " + a.add(f.TenantID)}
	list := func(col string, vs []string) {
		if len(vs) > 0 {
			conds = append(conds, col+" IN "+a.in(vs))
		}
	}
	list("auditee_id", f.AuditeeIDs)
	list("event_type", f.EventTypes)
	list("sub_type", f.SubTypes)
	list("system_source", f.SystemSources)
	keys := make([]string, 0, len(f.Metadata))
	for k := range f.Metadata {
		if !audit.IsMetadataKey(k) {
			return "", &audit.Error{Code: audit.EINVALID, Param: "metadata",
				Message: fmt.Sprintf("metadata key %q cannot be filtered on", k), Allowed: audit.MetadataKeys}
		}
		keys = append(keys, k)
	}
	slices.Sort(keys) // stable SQL text for the statement cache
	for _, k := range keys {
		list("meta_"+k, f.Metadata[k])
	}
	switch {
	case f.RangeStart != nil && f.Late != nil:
		// A chained run: its window, or a late arrival since the previous
		// run's snapshot (audit.LateRule).
		conds = append(conds, "(occurred_at >= "+a.add(floorMicros(*f.RangeStart))+
			" OR (occurred_at >= "+a.add(floorMicros(f.Late.Floor))+" AND "+notVisibleIn(f.Late.Since, a)+"))")
	case f.RangeStart != nil:
		conds = append(conds, "occurred_at >= "+a.add(floorMicros(*f.RangeStart)))
	}
	if f.RangeEnd != nil {
		conds = append(conds, "occurred_at <= "+a.add(floorMicros(*f.RangeEnd)))
	}
	if f.AsOf != nil {
		conds = append(conds, visibleIn(*f.AsOf, a))
	}
	if f.After != nil {
		conds = append(conds, notVisibleIn(*f.After, a))
	}
	return strings.Join(conds, " AND "), nil
}

// streamQuery is StreamEvents' query for f, the same for every engine
// and for both of its read paths.
func (db *DB) streamQuery(f audit.Filter) (string, []any, error) {
	a := db.args()
	w, err := where(f, a)
	if err != nil {
		return "", nil, err
	}
	return "SELECT " + streamColumns + metaSelect + " FROM events WHERE " + w + " ORDER BY occurred_at, id", a.vals, nil
}

// StreamEvents calls fn for each matching event in (occurred_at, id) order,
// one at a time. The *audit.Event passed to fn is fresh for each call.
func (db *DB) StreamEvents(ctx context.Context, f audit.Filter, fn func(*audit.Event) error) error {
	return db.StreamEventRows(ctx, f, func(rows []audit.EventRow) error {
		for i := range rows {
			// A batch is already read: stop within it when ctx is done.
			if err := ctx.Err(); err != nil {
				return err
			}
			ev, err := rows[i].Event(f.TenantID)
			if err != nil {
				return fmt.Errorf("sqlstore: stream events: %w", err)
			}
			if err := fn(ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// StreamEventRows calls fn with the matching events in (occurred_at, id)
// order, in batches of up to batchRows, as EventRows; a batch is fn's to
// keep. A dialect that is a RowStreamer reads the rows; otherwise
// database/sql does. Both hand over the columns as text, so one decoder
// serves both.
func (db *DB) StreamEventRows(ctx context.Context, f audit.Filter, fn func([]audit.EventRow) error) error {
	type query struct {
		q    string
		args []any
	}
	var queries []query
	for _, part := range split(f) {
		q, qargs, err := db.streamQuery(part)
		if err != nil {
			return err
		}
		queries = append(queries, query{q, qargs})
	}
	read := db.scanText
	if rs, ok := db.d.(RowStreamer); ok {
		read = func(ctx context.Context, q string, args []any, yield func(cols [][]byte) error) error {
			return rs.StreamRows(ctx, db.r, q, args, yield)
		}
	}
	next := func(yield func(cols [][]byte) error) error {
		for _, q := range queries {
			if err := read(ctx, q.q, q.args, yield); err != nil {
				return err
			}
		}
		return nil
	}
	stop, err := streamBatches(fn, next)
	if stop != nil {
		return stop
	}
	if err != nil {
		return db.wrap("stream events", err)
	}
	return nil
}

// scanText is RowStreamer.StreamRows through database/sql: sql.RawBytes
// hands over each column as text without a copy (an integer in decimal,
// NULL as nil).
func (db *DB) scanText(ctx context.Context, q string, args []any, fn func(cols [][]byte) error) error {
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	raw := make([]sql.RawBytes, colExtra+1)
	dest := make([]any, len(raw))
	for i := range raw {
		dest[i] = &raw[i]
	}
	cols := make([][]byte, len(raw))
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

// CountEvents counts matching events; with limit > 0 the database stops
// after limit rows, so a cap check never costs more than the cap.
func (db *DB) CountEvents(ctx context.Context, f audit.Filter, limit int64) (int64, error) {
	var total int64
	for _, part := range split(f) {
		if limit > 0 && total >= limit {
			break
		}
		left := int64(0)
		if limit > 0 {
			left = limit - total
		}
		n, err := db.countEvents(ctx, part, left)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// EstimateEvents is the database's estimate of how many events match f,
// from its planner's statistics, reading none of them; ok is false when
// the backend makes no estimates (SQLite). It stands in for a count where
// only progress needs a total: a count reads every matching row, as much
// as the export it would report on.
func (db *DB) EstimateEvents(ctx context.Context, f audit.Filter) (n int64, ok bool, err error) {
	est, ok := db.d.(Estimator)
	if !ok {
		return 0, false, nil
	}
	for _, part := range split(f) {
		a := db.args()
		w, err := where(part, a)
		if err != nil {
			return 0, false, err
		}
		m, err := est.EstimateRows(ctx, db.r, "SELECT 1 FROM events WHERE "+w, a.vals...)
		if err != nil {
			return 0, false, db.wrap("estimate events", err)
		}
		n += m
	}
	return n, true, nil
}

// EstimatesEvents reports whether EstimateEvents gives estimates.
func (db *DB) EstimatesEvents() bool {
	_, ok := db.d.(Estimator)
	return ok
}

// split returns the filters whose matches, one after the other, are f's in
// (occurred_at, id) order. A chained run's filter (f.Late) becomes two: its
// late arrivals, all before its window start, then its window. where()
// can say the same as one OR, but PostgreSQL serves that OR either by
// reading the chain's whole history in time order or by sorting the whole
// window; apart, the window streams from the time index as any export does,
// and the late arrivals (what was ingested since the previous run's
// snapshot) come from the ingest index.
func split(f audit.Filter) []audit.Filter {
	if f.Late == nil || f.RangeStart == nil || f.After != nil {
		return []audit.Filter{f}
	}
	window := f
	window.Late = nil
	floor, end := f.Late.Floor, f.RangeStart.Add(-audit.TimePrecision)
	if f.RangeEnd != nil && f.RangeEnd.Before(end) {
		end = *f.RangeEnd
	}
	if end.Before(floor) {
		return []audit.Filter{window}
	}
	late := f
	since := f.Late.Since
	late.Late, late.RangeStart, late.RangeEnd, late.After = nil, &floor, &end, &since
	return []audit.Filter{late, window}
}

func (db *DB) countEvents(ctx context.Context, f audit.Filter, limit int64) (int64, error) {
	a := db.args()
	w, err := where(f, a)
	if err != nil {
		return 0, err
	}
	q := "SELECT count(*) FROM events WHERE " + w
	if limit > 0 {
		q = "SELECT count(*) FROM (SELECT 1 FROM events WHERE " + w + " LIMIT " + a.add(limit) + ") AS capped"
	}
	var n int64
	if err := db.r.QueryRowContext(ctx, q, a.vals...).Scan(&n); err != nil {
		return 0, db.wrap("count events", err)
	}
	return n, nil
}

// InsertEventStream inserts, in ONE transaction, every chunk that fill
// hands to put, and commits only when fill returns nil: a streamed batch
// (NDJSON ingest) is all or nothing like InsertEvents, while only one chunk
// is in memory at a time. It returns how many events were new.
func (db *DB) InsertEventStream(ctx context.Context, tenantID string, fill func(put func([]audit.Event) error) error) (int, error) {
	if tenantID == "" {
		return 0, audit.Invalid("tenant_id", "events need a tenant")
	}
	if sc, ok := db.d.(StreamCopier); ok {
		n, err := sc.CopyEventStream(ctx, db.w, tenantID, fill)
		if err == nil {
			return int(n), nil
		}
		if !errors.Is(err, ErrCopyConflict) {
			if audit.AsError(err) != nil || ctx.Err() != nil {
				return 0, err // the batch's own error (a bad event), or the client left
			}
			return 0, db.wrap("insert event stream: copy", err)
		}
		db.log.DebugContext(ctx, "sqlstore: the batch holds ids that exist (or lost a deadlock); inserting it skipping them",
			"tenant", tenantID, "err", err)
	}
	var inserted int64
	err := db.retryTx(ctx, "insert event stream", func(tx *sql.Tx) error {
		inserted = 0 // a retried transaction counts afresh
		return fill(func(events []audit.Event) error {
			order := make([]*audit.Event, len(events))
			for i := range events {
				order[i] = &events[i]
			}
			slices.SortFunc(order, func(a, b *audit.Event) int { return strings.Compare(a.ID, b.ID) })
			n, err := db.insertEventRows(ctx, tx, tenantID, order)
			inserted += n
			return err
		})
	})
	if err != nil {
		return 0, err
	}
	return int(inserted), nil
}
