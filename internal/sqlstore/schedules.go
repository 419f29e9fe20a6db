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

const scheduleColumns = `id, tenant_id, name, cron, timezone, window_kind, window_hours, params, retention_days,
	enabled, webhook_url, webhook_secret, created_at, updated_at, last_fired_at, min_retention_days`

// CreateSchedule inserts s; a duplicate id matches audit.ErrConflict.
func (db *DB) CreateSchedule(ctx context.Context, s audit.Schedule) error {
	if s.ID == "" || s.TenantID == "" {
		return audit.Invalid("schedule", "a schedule needs an id and a tenant")
	}
	params, err := encodeScheduleParams(s.Params)
	if err != nil {
		return err
	}
	secret, err := db.sealSecret(s.WebhookSecret, scheduleSecretContext(s.TenantID, s.ID))
	if err != nil {
		return err
	}
	_, err = db.w.ExecContext(ctx, `INSERT INTO schedules (`+scheduleColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		s.ID, s.TenantID, s.Name, s.Cron, s.Timezone, string(s.Window.Kind), s.Window.Hours, params, s.RetentionDays,
		s.Enabled, s.WebhookURL, secret, micros(s.CreatedAt), micros(s.UpdatedAt), nullMicros(s.LastFiredAt), s.MinRetentionDays)
	return db.wrap("create schedule", err)
}

// encodeScheduleParams stores the params without the tenant, which is the
// record's own column.
func encodeScheduleParams(p audit.ExportParams) (string, error) {
	p.Filter.TenantID = ""
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("sqlstore: encode schedule params: %w", err)
	}
	return string(b), nil
}

// GetSchedule returns schedule id of tenantID, webhook secret included.
func (db *DB) GetSchedule(ctx context.Context, tenantID, id string) (audit.Schedule, error) {
	return db.getSchedule(ctx, db.r, tenantID, id)
}

func (db *DB) getSchedule(ctx context.Context, q queryer, tenantID, id string) (audit.Schedule, error) {
	s, err := db.scanSchedule(q.QueryRowContext(ctx, `SELECT `+scheduleColumns+` FROM schedules WHERE tenant_id = $1 AND id = $2`,
		tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Schedule{}, audit.NotFound("schedule %s not found", id)
	}
	if err != nil {
		return audit.Schedule{}, db.wrap("get schedule", err)
	}
	return s, nil
}

// ListSchedules lists f.TenantID's schedules newest first.
func (db *DB) ListSchedules(ctx context.Context, f audit.ScheduleListFilter) ([]audit.Schedule, error) {
	if f.TenantID == "" {
		return nil, audit.Invalid("tenant_id", "listing schedules needs a tenant")
	}
	a := db.args()
	conds := []string{"tenant_id = " + a.add(f.TenantID)}
	if f.AfterCreatedAt != nil {
		at := micros(*f.AfterCreatedAt)
		conds = append(conds, "(created_at < "+a.add(at)+" OR (created_at = "+a.add(at)+" AND id < "+a.add(f.AfterID)+"))")
	}
	q := `SELECT ` + scheduleColumns + ` FROM schedules WHERE ` + strings.Join(conds, " AND ") + ` ORDER BY created_at DESC, id DESC`
	if f.Limit > 0 {
		q += " LIMIT " + a.add(f.Limit)
	}
	return queryAll(ctx, db, "list schedules", q, db.scanSchedule, a.vals...)
}

// UpdateSchedule replaces the editable fields of s (see audit.ScheduleStore).
func (db *DB) UpdateSchedule(ctx context.Context, s audit.Schedule) error {
	params, err := encodeScheduleParams(s.Params)
	if err != nil {
		return err
	}
	secret, err := db.sealSecret(s.WebhookSecret, scheduleSecretContext(s.TenantID, s.ID))
	if err != nil {
		return err
	}
	res, err := db.w.ExecContext(ctx, `UPDATE schedules SET name = $3, cron = $4, timezone = $5, window_kind = $6,
		window_hours = $7, params = $8, retention_days = $9, enabled = $10, webhook_url = $11, webhook_secret = $12,
		updated_at = $13, min_retention_days = $14
		WHERE tenant_id = $1 AND id = $2`,
		s.TenantID, s.ID, s.Name, s.Cron, s.Timezone, string(s.Window.Kind), s.Window.Hours, params, s.RetentionDays,
		s.Enabled, s.WebhookURL, secret, micros(s.UpdatedAt), s.MinRetentionDays)
	if err != nil {
		return db.wrap("update schedule", err)
	}
	return db.oneRow(res, "update schedule", "schedule %s not found", s.ID)
}

// DeleteSchedule removes the schedule and its delivery records in one
// transaction.
func (db *DB) DeleteSchedule(ctx context.Context, tenantID, id string) error {
	return db.withTx(ctx, "delete schedule", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM schedules WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			return db.wrap("delete schedule", err)
		}
		if err := db.oneRow(res, "delete schedule", "schedule %s not found", id); err != nil {
			return err
		}
		for _, table := range []string{"webhook_attempts", "webhook_deliveries"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tenant_id = $1 AND schedule_id = $2`, tenantID, id); err != nil {
				return db.wrap("delete schedule: "+table, err)
			}
		}
		return nil
	})
}

// MarkScheduleFired is a compare-and-set of last_fired_at from prev to
// occurrence. Of several dispatchers that read the same prev, one wins.
func (db *DB) MarkScheduleFired(ctx context.Context, tenantID, id string, prev *time.Time, occurrence time.Time) (bool, error) {
	q := `UPDATE schedules SET last_fired_at = $3 WHERE tenant_id = $1 AND id = $2 AND `
	vals := []any{tenantID, id, micros(occurrence)}
	if prev == nil {
		q += `last_fired_at IS NULL`
	} else {
		q += `last_fired_at = $4`
		vals = append(vals, micros(*prev))
	}
	res, err := db.w.ExecContext(ctx, q, vals...)
	if err != nil {
		return false, db.wrap("mark schedule fired", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, db.wrap("mark schedule fired", err)
	}
	if n == 1 {
		return true, nil
	}
	// Not found, or another dispatcher moved it first.
	if _, err := db.getSchedule(ctx, db.w, tenantID, id); err != nil {
		return false, err
	}
	return false, nil
}

// EnabledSchedules lists enabled schedules of every tenant by id.
func (db *DB) EnabledSchedules(ctx context.Context, afterID string, limit int) ([]audit.Schedule, error) {
	if limit <= 0 {
		limit = 500
	}
	return queryAll(ctx, db, "enabled schedules", `SELECT `+scheduleColumns+` FROM schedules
		WHERE enabled AND id > $1 ORDER BY id LIMIT $2`, db.scanSchedule, afterID, limit)
}

func (db *DB) scanSchedule(sc scanner) (audit.Schedule, error) {
	var (
		s                audit.Schedule
		kind, params     string
		created, updated int64
		lastFired        sql.NullInt64
	)
	err := sc.Scan(&s.ID, &s.TenantID, &s.Name, &s.Cron, &s.Timezone, &kind, &s.Window.Hours, &params, &s.RetentionDays,
		&s.Enabled, &s.WebhookURL, &s.WebhookSecret, &created, &updated, &lastFired, &s.MinRetentionDays)
	if err != nil {
		return audit.Schedule{}, err
	}
	if err := json.Unmarshal([]byte(params), &s.Params); err != nil {
		return audit.Schedule{}, fmt.Errorf("decode params of schedule %s: %w", s.ID, err)
	}
	if s.WebhookSecret, err = db.openSecret(s.WebhookSecret, scheduleSecretContext(s.TenantID, s.ID)); err != nil {
		return audit.Schedule{}, fmt.Errorf("schedule %s: %w", s.ID, err)
	}
	s.Params.Filter.TenantID = s.TenantID
	s.Window.Kind = audit.WindowKind(kind)
	s.CreatedAt, s.UpdatedAt, s.LastFiredAt = fromMicros(created), fromMicros(updated), timePtr(lastFired)
	return s, nil
}

const deliveryColumns = `id, tenant_id, schedule_id, export_id, export_status, url, state, created_at, finished_at`

// CreateDelivery inserts d as pending unless the tenant has a delivery for
// the same export and status, which it returns instead.
func (db *DB) CreateDelivery(ctx context.Context, d audit.WebhookDelivery) (audit.WebhookDelivery, bool, error) {
	if d.ID == "" || d.TenantID == "" || d.ExportID == "" {
		return audit.WebhookDelivery{}, false, audit.Invalid("delivery", "a delivery needs an id, a tenant and an export")
	}
	d.State = audit.DeliveryPending
	res, err := db.w.ExecContext(ctx, `INSERT INTO webhook_deliveries (`+deliveryColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tenant_id, export_id, export_status) DO NOTHING`,
		d.ID, d.TenantID, d.ScheduleID, d.ExportID, string(d.ExportStatus), d.URL, string(d.State),
		micros(d.CreatedAt), nullMicros(d.FinishedAt))
	if err != nil {
		return audit.WebhookDelivery{}, false, db.wrap("create delivery", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return audit.WebhookDelivery{}, false, db.wrap("create delivery", err)
	} else if n == 1 {
		d.CreatedAt = fromMicros(micros(d.CreatedAt))
		return d, true, nil
	}
	got, err := scanDelivery(db.w.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE tenant_id = $1 AND export_id = $2 AND export_status = $3`, d.TenantID, d.ExportID, string(d.ExportStatus)))
	if err != nil {
		// The conflict was on the id, not on the export: a caller's bug.
		return audit.WebhookDelivery{}, false, fmt.Errorf("sqlstore: create delivery %s: %w: %w", d.ID, audit.ErrConflict, err)
	}
	return got, false, nil
}

// GetDelivery returns delivery id of tenantID.
func (db *DB) GetDelivery(ctx context.Context, tenantID, id string) (audit.WebhookDelivery, error) {
	d, err := scanDelivery(db.r.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return audit.WebhookDelivery{}, audit.NotFound("webhook delivery %s not found", id)
	}
	if err != nil {
		return audit.WebhookDelivery{}, db.wrap("get delivery", err)
	}
	return d, nil
}

// FinishDelivery moves a pending delivery to state; a finished one is left
// as it is.
func (db *DB) FinishDelivery(ctx context.Context, tenantID, id string, state audit.DeliveryState, at time.Time) error {
	if state != audit.DeliveryDelivered && state != audit.DeliveryFailed {
		return audit.Invalid("state", "a delivery finishes delivered or failed, not %q", state)
	}
	res, err := db.w.ExecContext(ctx, `UPDATE webhook_deliveries SET state = $3, finished_at = $4
		WHERE tenant_id = $1 AND id = $2 AND state = 'pending'`, tenantID, id, string(state), micros(at))
	if err != nil {
		return db.wrap("finish delivery", err)
	}
	return db.changedOr(res, "finish delivery", func() error {
		_, err := db.GetDelivery(ctx, tenantID, id)
		return err
	})
}

func scanDelivery(sc scanner) (audit.WebhookDelivery, error) {
	var (
		d             audit.WebhookDelivery
		status, state string
		created       int64
		finished      sql.NullInt64
	)
	if err := sc.Scan(&d.ID, &d.TenantID, &d.ScheduleID, &d.ExportID, &status, &d.URL, &state, &created, &finished); err != nil {
		return audit.WebhookDelivery{}, err
	}
	d.ExportStatus, d.State = audit.ExportStatus(status), audit.DeliveryState(state)
	d.CreatedAt, d.FinishedAt = fromMicros(created), timePtr(finished)
	return d, nil
}

const attemptColumns = `delivery_id, schedule_id, export_id, url, attempt_no, at, status_code, error, duration_us`

// RecordAttempt keeps one attempt; recording the same attempt twice keeps
// one row.
func (db *DB) RecordAttempt(ctx context.Context, tenantID string, a audit.WebhookAttempt) error {
	if tenantID == "" || a.DeliveryID == "" {
		return audit.Invalid("attempt", "an attempt needs a tenant and a delivery id")
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO webhook_attempts (tenant_id, `+attemptColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		tenantID, a.DeliveryID, a.ScheduleID, a.ExportID, a.URL, a.AttemptNo, micros(a.At), a.StatusCode, a.Error,
		a.Duration.Microseconds())
	return db.wrap("record attempt", err)
}

// ListAttempts lists a schedule's or an export's attempts newest first.
func (db *DB) ListAttempts(ctx context.Context, f audit.WebhookAttemptFilter) ([]audit.WebhookAttempt, error) {
	if f.TenantID == "" {
		return nil, audit.Invalid("tenant_id", "listing attempts needs a tenant")
	}
	a := db.args()
	conds := []string{"tenant_id = " + a.add(f.TenantID)}
	if f.ExportID != "" {
		conds = append(conds, "export_id = "+a.add(f.ExportID))
	}
	if f.ScheduleID != "" || f.ExportID == "" {
		conds = append(conds, "schedule_id = "+a.add(f.ScheduleID))
	}
	if f.AfterAt != nil {
		at := micros(*f.AfterAt)
		conds = append(conds, "(at < "+a.add(at)+" OR (at = "+a.add(at)+" AND (delivery_id < "+a.add(f.AfterDeliveryID)+
			" OR (delivery_id = "+a.add(f.AfterDeliveryID)+" AND attempt_no < "+a.add(f.AfterAttemptNo)+"))))")
	}
	q := `SELECT ` + attemptColumns + ` FROM webhook_attempts WHERE ` + strings.Join(conds, " AND ") +
		` ORDER BY at DESC, delivery_id DESC, attempt_no DESC`
	if f.Limit > 0 {
		q += " LIMIT " + a.add(f.Limit)
	}
	rows, err := db.r.QueryContext(ctx, q, a.vals...)
	if err != nil {
		return nil, db.wrap("list attempts", err)
	}
	defer rows.Close()
	var out []audit.WebhookAttempt
	for rows.Next() {
		var (
			at   audit.WebhookAttempt
			when int64
			dur  int64
		)
		if err := rows.Scan(&at.DeliveryID, &at.ScheduleID, &at.ExportID, &at.URL, &at.AttemptNo, &when, &at.StatusCode,
			&at.Error, &dur); err != nil {
			return nil, db.wrap("list attempts", err)
		}
		at.At, at.Duration = fromMicros(when), time.Duration(dur)*time.Microsecond
		out = append(out, at)
	}
	return out, db.wrap("list attempts", rows.Err())
}
