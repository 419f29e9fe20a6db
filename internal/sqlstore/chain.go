package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// LatestScheduleRun returns the schedule's run with the highest chain_seq:
// the one the next run links to. Runs fired before chains existed have no
// number and are not considered.
func (db *DB) LatestScheduleRun(ctx context.Context, tenantID, scheduleID string) (audit.Export, error) {
	e, err := scanExport(db.w.QueryRowContext(ctx, `SELECT `+exportColumns+` FROM exports
		WHERE tenant_id = $1 AND schedule_id = $2 AND chain_seq IS NOT NULL
		ORDER BY chain_seq DESC LIMIT 1`, tenantID, scheduleID))
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Export{}, audit.NotFound("schedule %s has no chained run", scheduleID)
	}
	if err != nil {
		return audit.Export{}, db.wrap("latest schedule run", err)
	}
	return e, nil
}

// FrozenManifest returns the manifest frozen on the export, nil when none
// is.
func (db *DB) FrozenManifest(ctx context.Context, tenantID, id string) ([]byte, error) {
	var m sql.NullString
	err := db.r.QueryRowContext(ctx, `SELECT manifest FROM exports WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, audit.NotFound("export %s not found", id)
	}
	if err != nil {
		return nil, db.wrap("frozen manifest", err)
	}
	if !m.Valid {
		return nil, nil
	}
	return []byte(m.String), nil
}

// FreezeManifest stores manifest on the export if it has none and returns
// what is stored: of concurrent freezes the first wins and every caller
// serves its bytes.
func (db *DB) FreezeManifest(ctx context.Context, tenantID, id string, manifest []byte) ([]byte, error) {
	if _, err := db.w.ExecContext(ctx, `UPDATE exports SET manifest = $3
		WHERE tenant_id = $1 AND id = $2 AND manifest IS NULL`, tenantID, id, string(manifest)); err != nil {
		return nil, db.wrap("freeze manifest", err)
	}
	var m sql.NullString
	err := db.w.QueryRowContext(ctx, `SELECT manifest FROM exports WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, audit.NotFound("export %s not found", id)
	}
	if err != nil {
		return nil, db.wrap("freeze manifest", err)
	}
	return []byte(m.String), nil
}
