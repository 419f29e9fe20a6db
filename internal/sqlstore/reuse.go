package sqlstore

import (
	"context"
	"slices"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// freshExport reports whether e may answer an identical request made now:
// no event matching its filter was ingested after its snapshot. An export
// without a snapshot (made before they were recorded) is taken as fresh,
// as it always was.
//
// The service's own records of reading exports (self-audit events of type
// export: requested, downloaded, link issued, completed) do not count,
// unless the filter asks for the service's own events by system_source:
// otherwise every request or download would itself make the next identical
// request stale, and no unfiltered export could ever be reused. A reused
// answer still says what it is as of, and how old it is.
func (db *DB) freshExport(ctx context.Context, e audit.Export) (bool, error) {
	if e.AsOf == nil {
		return true, nil
	}
	f := e.Params.Filter
	f.TenantID = e.TenantID
	f.AsOf, f.After = nil, &e.AsOf.Snapshot
	a := db.args()
	w, err := where(f, a)
	if err != nil {
		return false, err
	}
	if !slices.Contains(f.SystemSources, audit.SelfAuditSource) {
		w += " AND NOT (system_source = " + a.add(audit.SelfAuditSource) + " AND event_type = " + a.add(audit.SelfAuditExportType) + ")"
	}
	var n int64
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM events WHERE "+w+" LIMIT 1) AS any_newer", a.vals...).Scan(&n); err != nil {
		return false, db.wrap("fresh export", err)
	}
	return n == 0, nil
}

// SupersedeRequest takes every on-demand export of tenantID with
// requestHash out of reuse, as of at: the next identical request starts a
// new export (Cache-Control: no-cache). Exports under way still finish for
// whoever waits for them.
func (db *DB) SupersedeRequest(ctx context.Context, tenantID, requestHash string, at time.Time) error {
	_, err := db.w.ExecContext(ctx, `UPDATE exports SET superseded_at = $3
		WHERE tenant_id = $1 AND request_hash = $2 AND schedule_id IS NULL AND superseded_at IS NULL`,
		tenantID, requestHash, micros(at))
	return db.wrap("supersede request", err)
}

// supersedeExport takes export id of tenantID out of reuse as of at.
func (db *DB) supersedeExport(ctx context.Context, tenantID, id string, at time.Time) error {
	_, err := db.w.ExecContext(ctx, `UPDATE exports SET superseded_at = $3
		WHERE tenant_id = $1 AND id = $2 AND superseded_at IS NULL`, tenantID, id, micros(at))
	return db.wrap("supersede export", err)
}
