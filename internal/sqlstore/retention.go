package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

var _ audit.RetentionStore = (*DB)(nil)

// GetRetention returns tenantID's policy, or the zero policy (keep
// forever) when it has none.
func (db *DB) GetRetention(ctx context.Context, tenantID string) (audit.RetentionPolicy, error) {
	return db.getRetention(ctx, db.r, tenantID)
}

func (db *DB) getRetention(ctx context.Context, q queryer, tenantID string) (audit.RetentionPolicy, error) {
	p := audit.RetentionPolicy{TenantID: tenantID}
	var updated int64
	err := q.QueryRowContext(ctx, `SELECT event_days, archive_min_days, updated_at FROM retention_policies WHERE tenant_id = $1`,
		tenantID).Scan(&p.EventDays, &p.ArchiveMinDays, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return audit.RetentionPolicy{}, db.wrap("get retention", err)
	}
	p.UpdatedAt = fromMicros(updated)
	return p, nil
}

// PutRetention creates or replaces p.TenantID's policy.
func (db *DB) PutRetention(ctx context.Context, p audit.RetentionPolicy) error {
	if p.TenantID == "" {
		return audit.Invalid("tenant_id", "a retention policy needs a tenant")
	}
	if err := p.Validate(); err != nil {
		return err
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO retention_policies (tenant_id, event_days, archive_min_days, updated_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id) DO UPDATE SET event_days = excluded.event_days,
			archive_min_days = excluded.archive_min_days, updated_at = excluded.updated_at`,
		p.TenantID, p.EventDays, p.ArchiveMinDays, micros(p.UpdatedAt))
	return db.wrap("put retention", err)
}

// RetentionPolicies lists the policies that purge events, by tenant.
func (db *DB) RetentionPolicies(ctx context.Context) ([]audit.RetentionPolicy, error) {
	return queryAll(ctx, db, "retention policies", `SELECT tenant_id, event_days, archive_min_days, updated_at
		FROM retention_policies WHERE event_days > 0 ORDER BY tenant_id`, func(s scanner) (audit.RetentionPolicy, error) {
		var p audit.RetentionPolicy
		var updated int64
		err := s.Scan(&p.TenantID, &p.EventDays, &p.ArchiveMinDays, &updated)
		p.UpdatedAt = fromMicros(updated)
		return p, err
	})
}

const holdColumns = `id, tenant_id, name, range_start, range_end, created_at, created_by_key_id, released_at`

func scanHold(s scanner) (audit.LegalHold, error) {
	var (
		h                    audit.LegalHold
		start, end, released sql.NullInt64
		created              int64
	)
	if err := s.Scan(&h.ID, &h.TenantID, &h.Name, &start, &end, &created, &h.CreatedByKeyID, &released); err != nil {
		return audit.LegalHold{}, err
	}
	h.RangeStart, h.RangeEnd, h.ReleasedAt = timePtr(start), timePtr(end), timePtr(released)
	h.CreatedAt = fromMicros(created)
	return h, nil
}

// CreateHold stores h after taking the tenant's retention lock shared, so
// that a purge batch running now finishes first and every later one sees
// h. A duplicate id matches audit.ErrConflict.
func (db *DB) CreateHold(ctx context.Context, h audit.LegalHold) error {
	if h.ID == "" || h.TenantID == "" {
		return audit.Invalid("legal_hold", "a legal hold needs an id and a tenant")
	}
	if h.RangeStart != nil && h.RangeEnd != nil && h.RangeEnd.Before(*h.RangeStart) {
		return audit.Invalid("range_end", "range_end is before range_start")
	}
	return db.withTx(ctx, "create legal hold", func(tx *sql.Tx) error {
		if err := db.lockTenant(ctx, tx, h.TenantID, false); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO legal_holds (`+holdColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			h.ID, h.TenantID, h.Name, nullMicros(h.RangeStart), nullMicros(h.RangeEnd), micros(h.CreatedAt),
			h.CreatedByKeyID, nullMicros(h.ReleasedAt))
		return db.wrap("create legal hold", err)
	})
}

// ListHolds lists tenantID's holds oldest first, the released ones too
// when withReleased.
func (db *DB) ListHolds(ctx context.Context, tenantID string, withReleased bool) ([]audit.LegalHold, error) {
	q := `SELECT ` + holdColumns + ` FROM legal_holds WHERE tenant_id = $1`
	if !withReleased {
		q += ` AND released_at IS NULL`
	}
	return queryAll(ctx, db, "list legal holds", q+` ORDER BY created_at, id`, scanHold, tenantID)
}

// ReleaseHold marks hold id of tenantID released; releasing twice keeps
// the first time.
func (db *DB) ReleaseHold(ctx context.Context, tenantID, id string, at time.Time) (audit.LegalHold, error) {
	h, err := scanHold(db.w.QueryRowContext(ctx, `UPDATE legal_holds SET released_at = COALESCE(released_at, $3)
		WHERE tenant_id = $1 AND id = $2 RETURNING `+holdColumns, tenantID, id, micros(at)))
	if errors.Is(err, sql.ErrNoRows) {
		return audit.LegalHold{}, audit.NotFound("legal hold %s not found", id)
	}
	return h, db.wrap("release legal hold", err)
}

// RetireArchive implements audit.RetentionStore. The transaction holds the
// tenant's retention lock exclusively, which CreateHold takes shared, and
// reads the holds and policy inside it; remove runs inside it too, so the
// record never outlives a refusal from storage and a hold never arrives
// between the check and the deletion. On SQLite the one write connection
// gives the same order. If the commit fails after remove, the record
// points at a deleted file: retiring it again finishes the job (remove
// treats a missing file as removed).
func (db *DB) RetireArchive(ctx context.Context, tenantID, id string, expireAt *time.Time, guard audit.ArchiveGuard,
	remove func(audit.Export) error) (audit.Export, error) {
	op := "delete export"
	if expireAt != nil {
		op = "expire export"
	}
	var e audit.Export
	err := db.withTx(ctx, op, func(tx *sql.Tx) error {
		if err := db.lockTenant(ctx, tx, tenantID, true); err != nil {
			return err
		}
		var err error
		if e, err = db.getExport(ctx, tx, tenantID, id); err != nil {
			return err
		}
		if expireAt != nil && e.Status == audit.StatusExpired {
			return nil // expired already (by another sweeper): idempotent
		}
		if e.Status != audit.StatusCompleted && (expireAt != nil || !e.Status.Done()) {
			return audit.Errorf(audit.ECONFLICT, "export %s is %s", e.ID, e.Status)
		}
		holds, err := queryAllOn(ctx, db, tx, op+": holds",
			`SELECT `+holdColumns+` FROM legal_holds WHERE tenant_id = $1 AND released_at IS NULL`, scanHold, tenantID)
		if err != nil {
			return err
		}
		p, err := db.getRetention(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		if err := guard(e, holds, p); err != nil {
			return err
		}
		if err := remove(e); err != nil {
			return err
		}
		if expireAt != nil {
			_, err = tx.ExecContext(ctx, `UPDATE exports SET status = 'expired', expires_at = COALESCE(expires_at, $3)
				WHERE tenant_id = $1 AND id = $2`, tenantID, id, micros(*expireAt))
			e.Status = audit.StatusExpired
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM exports WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		}
		return db.wrap(op, err)
	})
	return e, err
}

func (db *DB) lockTenant(ctx context.Context, tx *sql.Tx, tenantID string, exclusive bool) error {
	if lock := db.d.TenantLock(exclusive); lock != "" {
		if _, err := tx.ExecContext(ctx, lock, tenantID); err != nil {
			return db.wrap("lock tenant retention", err)
		}
	}
	return nil
}

// interval is [lo, hi) in stored microseconds.
type interval struct{ lo, hi int64 }

// PurgeEvents deletes at most limit events of tenantID before cutoff in one
// transaction, oldest first, sparing held events and the range unfinished
// exports read (see audit.RetentionStore). It walks the index on
// (tenant_id, occurred_at, id) only through the gaps between holds, so a
// held range costs nothing however large, and each batch holds its row
// locks for the time it takes to delete limit rows.
func (db *DB) PurgeEvents(ctx context.Context, tenantID string, cutoff time.Time, limit int) (audit.PurgeBatch, error) {
	if limit <= 0 {
		limit = 1000
	}
	out := audit.PurgeBatch{Cutoff: fromMicros(floorMicros(cutoff))}
	err := db.withTx(ctx, "purge events", func(tx *sql.Tx) error {
		out.Deleted, out.Oldest, out.Newest = 0, time.Time{}, time.Time{}
		if err := db.lockTenant(ctx, tx, tenantID, true); err != nil {
			return err
		}
		hi := micros(out.Cutoff)
		// The unfinished exports' earliest range start: they read from
		// there (NULL: from the beginning).
		rows, err := tx.QueryContext(ctx, `SELECT id, range_start FROM exports
			WHERE tenant_id = $1 AND status IN `+active+` ORDER BY range_start IS NOT NULL, range_start LIMIT 1`, tenantID)
		if err != nil {
			return db.wrap("purge events: unfinished exports", err)
		}
		var id string
		var start sql.NullInt64
		found := rows.Next()
		if found {
			err = rows.Scan(&id, &start)
		}
		err = errors.Join(err, rows.Err(), rows.Close())
		if err != nil {
			return db.wrap("purge events: unfinished exports", err)
		}
		if found && (!start.Valid || start.Int64 < hi) {
			hi = math.MinInt64
			if start.Valid {
				hi = start.Int64
			}
			out.Cutoff = fromMicros(max(hi, 0))
			out.HeldBack = fmt.Sprintf("export %s is unfinished and reads events from %s", id, describeStart(start))
		}
		holds, err := queryAllOn(ctx, db, tx, "purge events: holds",
			`SELECT `+holdColumns+` FROM legal_holds WHERE tenant_id = $1 AND released_at IS NULL`, scanHold, tenantID)
		if err != nil {
			return err
		}
		for _, gap := range freeIntervals(hi, holds) {
			n := limit - int(out.Deleted)
			if n <= 0 {
				break
			}
			a := db.args()
			t2, t, lo, up, lim := a.add(tenantID), a.add(tenantID), a.add(gap.lo), a.add(gap.hi), a.add(n) // in the order they appear
			// By primary key, from a bounded index range scan: the batch
			// touches exactly the rows it deletes.
			rows, err := tx.QueryContext(ctx, `DELETE FROM events WHERE tenant_id = `+t2+` AND id IN (
				SELECT id FROM events WHERE tenant_id = `+t+` AND occurred_at >= `+lo+` AND occurred_at < `+up+`
				ORDER BY occurred_at, id LIMIT `+lim+`) RETURNING occurred_at`, a.vals...)
			if err != nil {
				return db.wrap("purge events: delete", err)
			}
			for rows.Next() {
				var at int64
				if err := rows.Scan(&at); err != nil {
					rows.Close()
					return db.wrap("purge events: delete", err)
				}
				t := fromMicros(at)
				if out.Deleted == 0 || t.Before(out.Oldest) {
					out.Oldest = t
				}
				if t.After(out.Newest) {
					out.Newest = t
				}
				out.Deleted++
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				return db.wrap("purge events: delete", err)
			}
		}
		return nil
	})
	if err != nil {
		return audit.PurgeBatch{}, err
	}
	return out, nil
}

func describeStart(start sql.NullInt64) string {
	if !start.Valid {
		return "the beginning"
	}
	return fromMicros(start.Int64).Format(time.RFC3339Nano)
}

// freeIntervals is [MinInt64, hi) less the inclusive ranges of holds, in
// order.
func freeIntervals(hi int64, holds []audit.LegalHold) []interval {
	free := []interval{{math.MinInt64, hi}}
	if hi == math.MinInt64 {
		return nil
	}
	for _, h := range holds {
		s, e := int64(math.MinInt64), int64(math.MaxInt64)
		if h.RangeStart != nil {
			s = micros(*h.RangeStart)
		}
		if h.RangeEnd != nil && micros(*h.RangeEnd) < math.MaxInt64 {
			e = micros(*h.RangeEnd) + 1 // inclusive end
		}
		var next []interval
		for _, f := range free {
			if e <= f.lo || s >= f.hi { // no overlap
				next = append(next, f)
				continue
			}
			if f.lo < s {
				next = append(next, interval{f.lo, s})
			}
			if e < f.hi {
				next = append(next, interval{e, f.hi})
			}
		}
		free = next
	}
	slices.SortFunc(free, func(a, b interval) int { return cmp.Compare(a.lo, b.lo) })
	return free
}
