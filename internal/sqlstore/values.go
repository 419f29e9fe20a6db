package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// valueColumn maps a list filter to the column it compares; ok is false
// for anything else, so no caller can name a column of its own.
func valueColumn(param string) (string, bool) {
	switch param {
	case "event_type", "sub_type", "system_source", "auditee_id":
		return param, true
	}
	for _, k := range audit.MetadataKeys {
		if param == "metadata["+k+"]" {
			return "meta_" + k, true
		}
	}
	return "", false
}

// MissingValues returns those of values that no event of tenantID holds in
// the column param (a list filter: event_type, sub_type, system_source,
// auditee_id, metadata[KEY]) filters on. Each is one EXISTS probe, which
// the (tenant_id, column, …) indexes answer at once for a value that is
// there.
func (db *DB) MissingValues(ctx context.Context, tenantID, param string, values []string) ([]string, error) {
	col, ok := valueColumn(param)
	if !ok {
		return nil, audit.Invalid(param, "%s is not a list filter", param)
	}
	var missing []string
	for _, v := range values {
		var found bool
		err := db.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE tenant_id = $1 AND `+col+` = $2)`,
			tenantID, v).Scan(&found)
		if err != nil {
			return nil, db.wrap("missing values", err)
		}
		if !found {
			missing = append(missing, v)
		}
	}
	return missing, nil
}

// KnownValues returns up to limit distinct non-empty values tenantID's
// events hold in the column param filters on, sorted.
func (db *DB) KnownValues(ctx context.Context, tenantID, param string, limit int) ([]string, error) {
	col, ok := valueColumn(param)
	if !ok {
		return nil, audit.Invalid(param, "%s is not a list filter", param)
	}
	rows, err := db.r.QueryContext(ctx, fmt.Sprintf(`SELECT DISTINCT %s FROM events WHERE tenant_id = $1 AND %s <> '' LIMIT $2`,
		col, col), tenantID, limit)
	if err != nil {
		return nil, db.wrap("known values", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, db.wrap("known values", err)
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return out, db.wrap("known values", rows.Err())
}
