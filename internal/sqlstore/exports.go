package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

const exportColumns = `id, tenant_id, params, request_hash, status, rows_written, rows_total, size_bytes, sha256,
	object_key, content_type, first_event_id, last_event_id, error_code, error_message, attempts,
	schedule_id, occurrence, webhook_url, retention_days, created_at, started_at, completed_at, expires_at, heartbeat_at,
	producer_version, as_of_at, as_of_position, as_of_snapshot, requester_key_id, requester_key_name, min_retention_days,
	chain_seq, chain_prev_export_id, chain_start, chain_prev_snapshot`

// active is the SQL list of states that the one-per-request unique index
// covers.
const active = `('queued', 'running')`

// createOrAttachAttempts bounds the select/insert loop. Each turn either
// finds an export or inserts one unless another request raced it, and the
// racer is found on the next turn; more than a few turns means something
// other than a race (an id collision), reported as a conflict.
const createOrAttachAttempts = 5

// CreateOrAttachExport returns the queued or running export of e.TenantID
// with e.RequestHash, or the newest one completed at or after reuseSince;
// otherwise it inserts e as queued. The partial unique index on
// (tenant_id, request_hash) of unscheduled queued/running exports makes
// concurrent calls converge on one row: the loser's INSERT … ON CONFLICT DO
// NOTHING inserts nothing (PostgreSQL waits for the winner's commit; SQLite
// writers are serialised) and its next SELECT finds the winner.
func (db *DB) CreateOrAttachExport(ctx context.Context, e audit.Export, reuseSince time.Time, maxActive int64) (audit.Export, bool, error) {
	if err := checkNewExport(e); err != nil {
		return audit.Export{}, false, err
	}
	e.Status = audit.StatusQueued
	for range createOrAttachAttempts {
		got, err := scanExport(db.r.QueryRowContext(ctx, `SELECT `+exportColumns+` FROM exports
			WHERE tenant_id = $1 AND request_hash = $2 AND schedule_id IS NULL AND superseded_at IS NULL
			  AND (status IN `+active+` OR (status = 'completed' AND completed_at >= $3))
			ORDER BY CASE WHEN status IN `+active+` THEN 0 ELSE 1 END, created_at DESC, id DESC
			LIMIT 1`, e.TenantID, e.RequestHash, micros(reuseSince)))
		switch {
		case err == nil:
			fresh, err := db.freshExport(ctx, got)
			if err != nil {
				return audit.Export{}, false, err
			}
			if fresh {
				return got, false, nil
			}
			// Events the request matches were ingested after its snapshot:
			// it would answer without them. Take it out of reuse (and of
			// the unique index) so that a new export can take its place.
			if err := db.supersedeExport(ctx, e.TenantID, got.ID, e.CreatedAt); err != nil {
				return audit.Export{}, false, err
			}
		case !errors.Is(err, sql.ErrNoRows):
			return audit.Export{}, false, db.wrap("create or attach export: find", err)
		}
		if maxActive > 0 {
			var n int64
			if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM exports
				WHERE tenant_id = $1 AND status IN `+active+` AND schedule_id IS NULL LIMIT $2) AS capped`,
				e.TenantID, maxActive).Scan(&n); err != nil {
				return audit.Export{}, false, db.wrap("create or attach export: count active", err)
			}
			if n >= maxActive {
				return audit.Export{}, false, &audit.Error{Code: audit.ETOOMANY, Message: fmt.Sprintf(
					"%d exports of this tenant are queued or running, the most allowed at once; "+
						"request this one again when one has finished (identical requests still attach to theirs)", n)}
			}
		}
		n, err := db.insertExport(ctx, e, " ON CONFLICT DO NOTHING")
		if err != nil {
			return audit.Export{}, false, db.wrap("create or attach export: insert", err)
		}
		if n == 1 {
			return normalExport(e), true, nil
		}
		// Lost a race (or, if it persists, e.ID exists): look again.
		db.log.DebugContext(ctx, "create or attach export: insert conflicted; looking again",
			"tenant", e.TenantID, "export_id", e.ID, "request_hash", e.RequestHash)
	}
	return audit.Export{}, false, fmt.Errorf("sqlstore: create or attach export %s: %w: no export found or inserted after %d attempts",
		e.ID, audit.ErrConflict, createOrAttachAttempts)
}

// CreateExport inserts e as given (scheduled runs are never attached).
func (db *DB) CreateExport(ctx context.Context, e audit.Export) error {
	if err := checkNewExport(e); err != nil {
		return err
	}
	if e.Status == "" {
		e.Status = audit.StatusQueued
	}
	_, err := db.insertExport(ctx, e, "")
	return db.wrap("create export", err)
}

func checkNewExport(e audit.Export) error {
	if e.ID == "" || e.TenantID == "" {
		return audit.Invalid("export", "an export needs an id and a tenant")
	}
	return nil
}

func (db *DB) insertExport(ctx context.Context, e audit.Export, onConflict string) (int64, error) {
	params, err := json.Marshal(e.Params)
	if err != nil {
		return 0, fmt.Errorf("encode params: %w", err)
	}
	var asOfAt, asOfPos, asOfSnap any
	if e.AsOf != nil {
		asOfAt, asOfPos, asOfSnap = micros(e.AsOf.At), e.AsOf.Snapshot.Position(), e.AsOf.Snapshot.String()
	}
	var chainSeq, chainPrev, chainStart, chainPrevSnap any
	if c := e.Chain; c != nil {
		chainSeq, chainPrev, chainStart = c.Seq, nullString(c.PrevExportID), micros(c.Start)
		if c.PrevSnapshot != nil {
			chainPrevSnap = c.PrevSnapshot.String()
		}
	}
	f := e.Params.Filter
	var n int64
	// The shared retention lock orders this insert with purge batches: a
	// batch that starts after it commits sees the export and spares the
	// events it reads (PurgeEvents).
	err = db.withTx(ctx, "insert export", func(tx *sql.Tx) error {
		if err := db.lockTenant(ctx, tx, e.TenantID, false); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO exports (`+exportColumns+`, file_type, range_start, range_end)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39)`+onConflict,
			e.ID, e.TenantID, string(params), e.RequestHash, string(e.Status), e.RowsWritten, e.RowsTotal, e.SizeBytes, e.SHA256,
			nullString(e.ObjectKey), e.ContentType, e.FirstEventID, e.LastEventID, e.ErrorCode, e.ErrorMessage, e.Attempts,
			nullString(e.ScheduleID), nullMicros(e.Occurrence), e.WebhookURL, e.RetentionDays, micros(e.CreatedAt),
			nullMicros(e.StartedAt), nullMicros(e.CompletedAt), nullMicros(e.ExpiresAt), nullMicros(e.HeartbeatAt),
			e.ProducerVersion, asOfAt, asOfPos, asOfSnap, e.RequesterKeyID, e.RequesterKeyName, e.MinRetentionDays,
			chainSeq, chainPrev, chainStart, chainPrevSnap, string(e.Params.FileType), rangeMicros(f.RangeStart), rangeMicros(f.RangeEnd))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// rangeMicros is the stored form of a bound of an export's range, floored
// as filters are canonicalised.
func rangeMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return floorMicros(*t)
}

// normalExport returns e as reading it back would: times in UTC at the
// stored precision, the filter's tenant set from the record.
func normalExport(e audit.Export) audit.Export {
	tr := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := fromMicros(micros(*t))
		return &u
	}
	e.CreatedAt = fromMicros(micros(e.CreatedAt))
	e.Occurrence, e.StartedAt, e.CompletedAt, e.ExpiresAt = tr(e.Occurrence), tr(e.StartedAt), tr(e.CompletedAt), tr(e.ExpiresAt)
	e.HeartbeatAt = tr(e.HeartbeatAt)
	if e.AsOf != nil {
		e.AsOf = &audit.AsOf{At: fromMicros(micros(e.AsOf.At)), Snapshot: e.AsOf.Snapshot}
	}
	if e.Chain != nil {
		c := *e.Chain
		c.Start = fromMicros(micros(c.Start))
		e.Chain = &c
	}
	e.Params.Filter.TenantID = e.TenantID
	if b, err := json.Marshal(e.Params); err == nil {
		var p audit.ExportParams
		if json.Unmarshal(b, &p) == nil {
			p.Filter.TenantID = e.TenantID
			e.Params = p
		}
	}
	return e
}

// GetExport returns export id of tenantID; another tenant's export is not
// found.
func (db *DB) GetExport(ctx context.Context, tenantID, id string) (audit.Export, error) {
	return db.getExport(ctx, db.r, tenantID, id)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (db *DB) getExport(ctx context.Context, q queryer, tenantID, id string) (audit.Export, error) {
	e, err := scanExport(q.QueryRowContext(ctx, `SELECT `+exportColumns+` FROM exports WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Export{}, audit.NotFound("export %s not found", id)
	}
	if err != nil {
		return audit.Export{}, db.wrap("get export", err)
	}
	return e, nil
}

// StartExport moves a queued or running export to running, counts an
// attempt and restarts its progress; audit.ErrConflict when it is done.
func (db *DB) StartExport(ctx context.Context, tenantID, id string, at time.Time, rowsTotal int64) (audit.Export, error) {
	e, err := scanExport(db.w.QueryRowContext(ctx, `UPDATE exports
		SET status = 'running', started_at = $3, heartbeat_at = $3, rows_total = $4, rows_written = 0, attempts = attempts + 1
		WHERE tenant_id = $1 AND id = $2 AND status IN `+active+`
		RETURNING `+exportColumns, tenantID, id, micros(at), rowsTotal))
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Export{}, db.whyNotUpdated(ctx, "start export", tenantID, id, nil)
	}
	if err != nil {
		return audit.Export{}, db.wrap("start export", err)
	}
	return e, nil
}

// UpdateProgress records how many rows a running export has written and
// that its worker is alive at at.
func (db *DB) UpdateProgress(ctx context.Context, tenantID, id string, rowsWritten int64, at time.Time) error {
	return db.transition(ctx, "update export progress", tenantID, id, `status = 'running'`, nil,
		`rows_written = $3, heartbeat_at = $4`, rowsWritten, micros(at))
}

// SetRowsTotal records rowsTotal for attempt of a running export. It is
// a no-op for any other state or attempt: a count that finishes after its
// run completed (or after a retry started) must not overwrite the real
// figure.
func (db *DB) SetRowsTotal(ctx context.Context, tenantID, id string, attempt int, rowsTotal int64) error {
	_, err := db.w.ExecContext(ctx, `UPDATE exports SET rows_total = $3
		WHERE tenant_id = $1 AND id = $2 AND status = 'running' AND attempts = $4`, tenantID, id, rowsTotal, attempt)
	if err != nil {
		return db.wrap("set rows total", err)
	}
	return nil
}

// CompleteExport records the result of a queued or running export;
// audit.ErrConflict when it is already done.
func (db *DB) CompleteExport(ctx context.Context, tenantID, id string, r audit.ExportResult, at, expiresAt time.Time) error {
	return db.transition(ctx, "complete export", tenantID, id, `status IN `+active, nil,
		`status = 'completed', rows_written = $3, rows_total = $3, size_bytes = $4, sha256 = $5, object_key = $6,
		 content_type = $7, first_event_id = $8, last_event_id = $9, completed_at = $10, expires_at = $11,
		 error_code = '', error_message = '', producer_version = $12`,
		r.Rows, r.SizeBytes, r.SHA256, nullString(r.ObjectKey), r.ContentType, r.FirstEventID, r.LastEventID,
		micros(at), micros(expiresAt), r.ProducerVersion)
}

// FailExport marks a queued or running export failed. Failing a failed
// export again changes nothing and succeeds (a give-up may be delivered
// twice); failing a completed or expired one is audit.ErrConflict, so a
// late give-up never hides a file that was made.
func (db *DB) FailExport(ctx context.Context, tenantID, id, code, message string, at time.Time) error {
	return db.transition(ctx, "fail export", tenantID, id, `status IN `+active, []audit.ExportStatus{audit.StatusFailed},
		`status = 'failed', error_code = $3, error_message = $4, completed_at = $5`, code, message, micros(at))
}

// ExpireExport marks a completed export expired; expiring an expired one
// succeeds (sweepers on several replicas may race), any other state is
// audit.ErrConflict.
func (db *DB) ExpireExport(ctx context.Context, tenantID, id string, at time.Time) error {
	return db.transition(ctx, "expire export", tenantID, id, `status = 'completed'`, []audit.ExportStatus{audit.StatusExpired},
		`status = 'expired', expires_at = COALESCE(expires_at, $3)`, micros(at))
}

// DeferExpiry moves completed export id's expiry out to until, never in:
// storage retains its object until then (S3 Object Lock), so the record
// says when it can really go and leaves the sweeper's due list meanwhile.
// An export already expiring later, or no longer completed, is left as it
// is; a missing one is audit.ErrNotFound.
func (db *DB) DeferExpiry(ctx context.Context, tenantID, id string, until time.Time) error {
	res, err := db.w.ExecContext(ctx, `UPDATE exports SET expires_at = $3
		WHERE tenant_id = $1 AND id = $2 AND status = 'completed' AND (expires_at IS NULL OR expires_at < $3)`,
		tenantID, id, micros(until))
	if err != nil {
		return db.wrap("defer expiry", err)
	}
	return db.changedOr(res, "defer expiry", func() error {
		_, err := db.GetExport(ctx, tenantID, id)
		return err
	})
}

// DeleteExport removes export id of tenantID.
func (db *DB) DeleteExport(ctx context.Context, tenantID, id string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM exports WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err != nil {
		return db.wrap("delete export", err)
	}
	return db.oneRow(res, "delete export", "export %s not found", id)
}

// transition runs UPDATE exports SET set WHERE tenant, id and from hold;
// set's parameters start at $3. When no row changed it tells not found from
// a conflicting state, treating the states in idempotent as success.
func (db *DB) transition(ctx context.Context, op, tenantID, id, from string, idempotent []audit.ExportStatus, set string, vals ...any) error {
	res, err := db.w.ExecContext(ctx, `UPDATE exports SET `+set+` WHERE tenant_id = $1 AND id = $2 AND `+from,
		append([]any{tenantID, id}, vals...)...)
	if err != nil {
		return db.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return db.wrap(op, err)
	}
	if n == 1 {
		return nil
	}
	return db.whyNotUpdated(ctx, op, tenantID, id, idempotent)
}

func (db *DB) whyNotUpdated(ctx context.Context, op, tenantID, id string, idempotent []audit.ExportStatus) error {
	e, err := db.getExport(ctx, db.w, tenantID, id)
	if err != nil {
		return err
	}
	for _, s := range idempotent {
		if e.Status == s {
			return nil
		}
	}
	return fmt.Errorf("sqlstore: %s %s: %w: export is %s", op, id, audit.ErrConflict, e.Status)
}

// ListExports lists exports of f.TenantID newest first: (created_at, id)
// descending, continuing strictly after (AfterCreatedAt, AfterID) when set.
// CreatedFrom and CreatedTo are inclusive. Limit <= 0 means no limit.
func (db *DB) ListExports(ctx context.Context, f audit.ExportListFilter) ([]audit.Export, error) {
	if f.TenantID == "" {
		return nil, audit.Invalid("tenant_id", "listing exports needs a tenant")
	}
	a := db.args()
	conds := []string{"tenant_id = " + a.add(f.TenantID)}
	if len(f.Status) > 0 {
		ss := make([]string, len(f.Status))
		for i, s := range f.Status {
			ss[i] = string(s)
		}
		conds = append(conds, "status IN "+a.in(ss))
	}
	if f.FileType != "" {
		conds = append(conds, "file_type = "+a.add(string(f.FileType)))
	}
	if f.RequesterKeyID != "" {
		conds = append(conds, "requester_key_id = "+a.add(f.RequesterKeyID))
	}
	if f.ScheduleID != "" {
		conds = append(conds, "schedule_id = "+a.add(f.ScheduleID))
	}
	if f.CreatedFrom != nil {
		conds = append(conds, "created_at >= "+a.add(floorMicros(*f.CreatedFrom)))
	}
	if f.CreatedTo != nil {
		conds = append(conds, "created_at <= "+a.add(floorMicros(*f.CreatedTo)))
	}
	if f.AfterCreatedAt != nil {
		at := micros(*f.AfterCreatedAt)
		conds = append(conds, "(created_at < "+a.add(at)+" OR (created_at = "+a.add(at)+" AND id < "+a.add(f.AfterID)+"))")
	}
	q := `SELECT ` + exportColumns + ` FROM exports WHERE ` + strings.Join(conds, " AND ") + ` ORDER BY created_at DESC, id DESC`
	if f.Limit > 0 {
		q += " LIMIT " + a.add(f.Limit)
	}
	return queryAll(ctx, db, "list exports", q, scanExport, a.vals...)
}

// heldExport is true for an export row of the outer query that an active
// legal hold covers: the hold's range meets the export's (both inclusive,
// NULL unbounded). The expiry sweep leaves such exports out, so that held
// archives neither expire nor crowd out the ones that may.
const heldExport = `EXISTS (SELECT 1 FROM legal_holds h WHERE h.tenant_id = exports.tenant_id AND h.released_at IS NULL
		AND (h.range_end IS NULL OR exports.range_start IS NULL OR exports.range_start <= h.range_end)
		AND (h.range_start IS NULL OR exports.range_end IS NULL OR exports.range_end >= h.range_start))`

// ExportsDue lists, across tenants, completed exports whose expiry is at or
// before q.Now and that no legal hold covers, queued exports created before q.QueuedBefore and running
// exports whose last heartbeat is before q.SilentBefore, oldest first.
func (db *DB) ExportsDue(ctx context.Context, q audit.DueQuery) ([]audit.Export, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 500
	}
	// Two index range scans, one per branch, rather than one OR that
	// neither index serves.
	sqlQ := `SELECT ` + exportColumns + ` FROM (
		SELECT ` + exportColumns + ` FROM exports WHERE status = 'completed' AND expires_at <= $1 AND NOT ` + heldExport + `
		UNION ALL
		SELECT ` + exportColumns + ` FROM exports WHERE status = 'queued' AND created_at < $2
		UNION ALL
		SELECT ` + exportColumns + ` FROM exports WHERE status = 'running' AND heartbeat_at < $3
	) AS due ORDER BY created_at, id LIMIT $4`
	silent := q.SilentBefore
	if silent.IsZero() {
		silent = time.Unix(0, 0) // nothing is silent before 1970: the branch selects nothing
	}
	return queryAll(ctx, db, "exports due", sqlQ, scanExport, micros(q.Now), micros(q.QueuedBefore), micros(silent), limit)
}

// ObjectKeysExist reports, for each of keys, whether an export that is not
// expired owns it.
func (db *DB) ObjectKeysExist(ctx context.Context, keys []string) (map[string]bool, error) {
	out := make(map[string]bool, len(keys))
	for _, k := range keys {
		out[k] = false
	}
	const chunk = 500
	for start := 0; start < len(keys); start += chunk {
		a := db.args()
		in := a.in(keys[start:min(start+chunk, len(keys))])
		rows, err := db.r.QueryContext(ctx, `SELECT DISTINCT object_key FROM exports
			WHERE object_key IN `+in+` AND status <> 'expired'`, a.vals...)
		if err != nil {
			return nil, db.wrap("object keys exist", err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, db.wrap("object keys exist", err)
			}
			out[k] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, db.wrap("object keys exist", err)
		}
	}
	return out, nil
}

// queryAll runs q on the read pool and scans every row with scan.
func queryAll[T any](ctx context.Context, db *DB, op, q string, scan func(scanner) (T, error), vals ...any) ([]T, error) {
	return queryAllOn(ctx, db, db.r, op, q, scan, vals...)
}

// querier is what queryAllOn reads through: the pool, or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryAllOn is queryAll through on, e.g. inside a transaction.
func queryAllOn[T any](ctx context.Context, db *DB, on querier, op, q string, scan func(scanner) (T, error), vals ...any) ([]T, error) {
	rows, err := on.QueryContext(ctx, q, vals...)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, db.wrap(op, err)
		}
		out = append(out, v)
	}
	return out, db.wrap(op, rows.Err())
}

func scanExport(s scanner) (audit.Export, error) {
	var (
		e                                   audit.Export
		params, status                      string
		objectKey, scheduleID               sql.NullString
		occurrence, started, completed, exp sql.NullInt64
		heartbeat, asOfAt, asOfPos          sql.NullInt64
		asOfSnap                            sql.NullString
		created                             int64
		chainSeq, chainStart                sql.NullInt64
		chainPrev, chainPrevSnap            sql.NullString
	)
	err := s.Scan(&e.ID, &e.TenantID, &params, &e.RequestHash, &status, &e.RowsWritten, &e.RowsTotal, &e.SizeBytes, &e.SHA256,
		&objectKey, &e.ContentType, &e.FirstEventID, &e.LastEventID, &e.ErrorCode, &e.ErrorMessage, &e.Attempts,
		&scheduleID, &occurrence, &e.WebhookURL, &e.RetentionDays, &created, &started, &completed, &exp, &heartbeat,
		&e.ProducerVersion, &asOfAt, &asOfPos, &asOfSnap, &e.RequesterKeyID, &e.RequesterKeyName, &e.MinRetentionDays,
		&chainSeq, &chainPrev, &chainStart, &chainPrevSnap)
	if err != nil {
		return audit.Export{}, err
	}
	if chainSeq.Valid {
		e.Chain = &audit.ChainLink{Seq: chainSeq.Int64, PrevExportID: chainPrev.String, Start: fromMicros(chainStart.Int64)}
		if chainPrevSnap.Valid {
			snap, err := audit.ParseSnapshot(chainPrevSnap.String)
			if err != nil {
				return audit.Export{}, fmt.Errorf("decode previous run's snapshot of export %s: %w", e.ID, err)
			}
			e.Chain.PrevSnapshot = &snap
		}
	}
	if asOfSnap.Valid {
		snap, err := audit.ParseSnapshot(asOfSnap.String)
		if err != nil {
			return audit.Export{}, fmt.Errorf("decode snapshot of export %s: %w", e.ID, err)
		}
		e.AsOf = &audit.AsOf{At: fromMicros(asOfAt.Int64), Snapshot: snap}
	}
	if err := json.Unmarshal([]byte(params), &e.Params); err != nil {
		return audit.Export{}, fmt.Errorf("decode params of export %s: %w", e.ID, err)
	}
	e.Params.Filter.TenantID = e.TenantID
	e.Status = audit.ExportStatus(status)
	e.ObjectKey, e.ScheduleID = objectKey.String, scheduleID.String
	e.CreatedAt = fromMicros(created)
	e.Occurrence, e.StartedAt, e.CompletedAt, e.ExpiresAt = timePtr(occurrence), timePtr(started), timePtr(completed), timePtr(exp)
	e.HeartbeatAt = timePtr(heartbeat)
	return e, nil
}
