package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

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
	var extra map[string]string
	for k, v := range e.Metadata {
		if !audit.IsMetadataKey(k) {
			if extra == nil {
				extra = map[string]string{}
			}
			extra[k] = v
		}
	}
	if extra == nil {
		return append(row, nil), nil
	}
	b, err := json.Marshal(extra) // maps marshal with sorted keys
	if err != nil {
		return nil, fmt.Errorf("sqlstore: encode metadata of event %s: %w", e.ID, err)
	}
	return append(row, string(b)), nil
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
	err := db.withTx(ctx, "insert events", func(tx *sql.Tx) error {
		n, err := db.insertEventRows(ctx, tx, tenantID, order)
		inserted = n
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(inserted), nil
}

// insertEventRows inserts evs with multi-row INSERTs of at most
// MaxInsertRows rows, skipping existing (tenant_id, id).
func (db *DB) insertEventRows(ctx context.Context, tx *sql.Tx, tenantID string, evs []*audit.Event) (int64, error) {
	var total int64
	step := max(db.d.MaxInsertRows(), 1)
	for start := 0; start < len(evs); start += step {
		chunk := evs[start:min(start+step, len(evs))]
		var b strings.Builder
		b.WriteString("INSERT INTO events (")
		b.WriteString(strings.Join(EventColumns, ", "))
		b.WriteString(") VALUES ")
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
	if f.RangeStart != nil {
		conds = append(conds, "occurred_at >= "+a.add(floorMicros(*f.RangeStart)))
	}
	if f.RangeEnd != nil {
		conds = append(conds, "occurred_at <= "+a.add(floorMicros(*f.RangeEnd)))
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
// one row at a time. The *audit.Event passed to fn is fresh for each call.
// A dialect that is a RowStreamer reads the rows; otherwise database/sql
// does.
func (db *DB) StreamEvents(ctx context.Context, f audit.Filter, fn func(*audit.Event) error) error {
	q, qargs, err := db.streamQuery(f)
	if err != nil {
		return err
	}
	if rs, ok := db.d.(RowStreamer); ok {
		return db.streamRows(ctx, rs, f.TenantID, q, qargs, fn)
	}
	rows, err := db.r.QueryContext(ctx, q, qargs...)
	if err != nil {
		return db.wrap("stream events", err)
	}
	defer rows.Close()
	meta := make([]sql.NullString, len(audit.MetadataKeys))
	dest := make([]any, 0, 8+len(meta))
	var (
		e     audit.Event
		at    int64
		extra sql.NullString
	)
	dest = append(dest, &e.ID, &at, &e.EventType, &e.SubType, &e.SystemSource, &e.AuditeeID, &e.Description)
	for i := range meta {
		dest = append(dest, &meta[i])
	}
	dest = append(dest, &extra)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return db.wrap("stream events: scan", err)
		}
		ev := e
		ev.TenantID = f.TenantID
		ev.OccurredAt = fromMicros(at)
		ev.Metadata = nil
		for i, m := range meta {
			if m.Valid {
				if ev.Metadata == nil {
					ev.Metadata = map[string]string{}
				}
				ev.Metadata[audit.MetadataKeys[i]] = m.String
			}
		}
		if extra.Valid && extra.String != "" {
			if err := addExtra(&ev, extra.String); err != nil {
				return err
			}
		}
		if err := fn(&ev); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return db.wrap("stream events", err)
	}
	return nil
}

// addExtra adds the members of extra, a non-empty metadata_extra value,
// to e.Metadata, leaving it nil when the event has no metadata at all.
func addExtra(e *audit.Event, extra string) error {
	if e.Metadata == nil {
		e.Metadata = make(map[string]string, 4)
	}
	// Almost every stored object is plain {"k":"v",...}: read it without
	// encoding/json, which cost a tenth of an export's CPU.
	if !decodeFlatObject(extra, e.Metadata) {
		var x map[string]string
		if err := json.Unmarshal([]byte(extra), &x); err != nil {
			return fmt.Errorf("sqlstore: stream events: decode metadata of %s: %w", e.ID, err)
		}
		maps.Copy(e.Metadata, x)
	}
	if len(e.Metadata) == 0 { // "{}" or "null"
		e.Metadata = nil
	}
	return nil
}

// decodeFlatObject adds the members of s, a JSON object of strings as
// EventValues stores it, to m and reports true, when s is in the simple
// form {"k":"v",...} with no escapes, no white space and valid UTF-8; then
// the result is exactly json.Unmarshal's. Otherwise it adds nothing and
// reports false, and the caller decodes s with encoding/json.
func decodeFlatObject(s string, m map[string]string) bool {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' || strings.IndexByte(s, '\\') >= 0 || !utf8.ValidString(s) {
		return false
	}
	if s == "{}" {
		return true
	}
	// Parse into a small fixed array first so that a malformed object
	// leaves m untouched.
	var kv [32]string
	n := 0
	i := 1
	for {
		if n+2 > len(kv) {
			return false
		}
		for j := 0; j < 2; j++ { // key, then value
			if i >= len(s) || s[i] != '"' {
				return false
			}
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return false
			}
			str := s[i+1 : i+1+end]
			for k := 0; k < len(str); k++ {
				if str[k] < 0x20 { // control characters are escaped in JSON
					return false
				}
			}
			kv[n] = str
			n++
			i += end + 2
			if j == 0 {
				if i >= len(s) || s[i] != ':' {
					return false
				}
				i++
			}
		}
		if i >= len(s) {
			return false
		}
		if s[i] == '}' {
			if i != len(s)-1 {
				return false
			}
			break
		}
		if s[i] != ',' {
			return false
		}
		i++
	}
	for j := 0; j < n; j += 2 {
		m[kv[j]] = kv[j+1]
	}
	return true
}

// CountEvents counts matching events; with limit > 0 the database stops
// after limit rows, so a cap check never costs more than the cap.
func (db *DB) CountEvents(ctx context.Context, f audit.Filter, limit int64) (int64, error) {
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
	var inserted int64
	err := db.withTx(ctx, "insert event stream", func(tx *sql.Tx) error {
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
