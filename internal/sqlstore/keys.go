package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

const keyColumns = "id, tenant_id, name, prefix, created_at, revoked_at, scopes, expires_at, window_start, window_end"

// CreateAPIKey stores k with the SHA-256 of its secret. A duplicate id or
// secret hash matches audit.ErrConflict.
func (db *DB) CreateAPIKey(ctx context.Context, k audit.APIKey, secretHash string) error {
	if k.TenantID == "" || k.ID == "" || secretHash == "" || len(k.Scopes) == 0 {
		return audit.Invalid("api_key", "an API key needs an id, a tenant, a secret hash and scopes")
	}
	var ws, we *time.Time
	if k.Window != nil {
		ws, we = &k.Window.Start, &k.Window.End
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, created_at, revoked_at,
			scopes, expires_at, window_start, window_end)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		k.ID, k.TenantID, k.Name, k.Prefix, secretHash, micros(k.CreatedAt), nullMicros(k.RevokedAt),
		joinScopes(k.Scopes), nullMicros(k.ExpiresAt), nullMicros(ws), nullMicros(we))
	return db.wrap("create api key", err)
}

// APIKeyByHash returns the key whose secret hashes to secretHash, revoked
// or not.
func (db *DB) APIKeyByHash(ctx context.Context, secretHash string) (audit.APIKey, error) {
	k, err := scanKey(db.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE secret_hash = $1`, secretHash))
	if errors.Is(err, sql.ErrNoRows) {
		return audit.APIKey{}, audit.NotFound("API key not found")
	}
	return k, db.wrap("api key by hash", err)
}

// ListAPIKeys lists the keys of tenantID (of every tenant when ""), oldest
// first.
func (db *DB) ListAPIKeys(ctx context.Context, tenantID string) ([]audit.APIKey, error) {
	q := `SELECT ` + keyColumns + ` FROM api_keys`
	a := db.args()
	if tenantID != "" {
		q += ` WHERE tenant_id = ` + a.add(tenantID)
	}
	rows, err := db.r.QueryContext(ctx, q+` ORDER BY created_at, id`, a.vals...)
	if err != nil {
		return nil, db.wrap("list api keys", err)
	}
	defer rows.Close()
	var out []audit.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, db.wrap("list api keys", err)
		}
		out = append(out, k)
	}
	return out, db.wrap("list api keys", rows.Err())
}

// RevokeAPIKey marks key id revoked at at. Revoking twice keeps the first
// time.
func (db *DB) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := db.w.ExecContext(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, id, micros(at))
	if err != nil {
		return db.wrap("revoke api key", err)
	}
	return db.oneRow(res, "revoke api key", "API key %s not found", id)
}

// RevokeTenantAPIKey is RevokeAPIKey for a key of tenantID only.
func (db *DB) RevokeTenantAPIKey(ctx context.Context, tenantID, id string, at time.Time) error {
	res, err := db.w.ExecContext(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE tenant_id = $1 AND id = $2`,
		tenantID, id, micros(at))
	if err != nil {
		return db.wrap("revoke api key", err)
	}
	return db.oneRow(res, "revoke api key", "API key %s not found", id)
}

// joinScopes is the stored form of a scope set: names separated by spaces.
func joinScopes(s []audit.Scope) string {
	names := make([]string, len(s))
	for i, sc := range s {
		names[i] = string(sc)
	}
	return strings.Join(names, " ")
}

// splitScopes reads the stored form back. Names this version does not know
// (a newer one wrote them) are kept: they authorise nothing here.
func splitScopes(s string) []audit.Scope {
	var out []audit.Scope
	for _, f := range strings.Fields(s) {
		out = append(out, audit.Scope(f))
	}
	return out
}

type scanner interface{ Scan(dest ...any) error }

func scanKey(s scanner) (audit.APIKey, error) {
	var (
		k                        audit.APIKey
		created                  int64
		scopes                   string
		revoked, expires, ws, we sql.NullInt64
	)
	if err := s.Scan(&k.ID, &k.TenantID, &k.Name, &k.Prefix, &created, &revoked, &scopes, &expires, &ws, &we); err != nil {
		return audit.APIKey{}, err
	}
	k.CreatedAt = fromMicros(created)
	k.RevokedAt = timePtr(revoked)
	k.Scopes = splitScopes(scopes)
	k.ExpiresAt = timePtr(expires)
	if ws.Valid && we.Valid {
		k.Window = &audit.TimeWindow{Start: fromMicros(ws.Int64), End: fromMicros(we.Int64)}
	}
	return k, nil
}
