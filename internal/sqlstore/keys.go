package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

const keyColumns = "id, tenant_id, name, prefix, created_at, revoked_at"

// CreateAPIKey stores k with the SHA-256 of its secret. A duplicate id or
// secret hash matches audit.ErrConflict.
func (db *DB) CreateAPIKey(ctx context.Context, k audit.APIKey, secretHash string) error {
	if k.TenantID == "" || k.ID == "" || secretHash == "" {
		return audit.Invalid("api_key", "an API key needs an id, a tenant and a secret hash")
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, created_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.TenantID, k.Name, k.Prefix, secretHash, micros(k.CreatedAt), nullMicros(k.RevokedAt))
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
	if n, err := res.RowsAffected(); err != nil {
		return db.wrap("revoke api key", err)
	} else if n == 0 {
		return audit.NotFound("API key %s not found", id)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scanKey(s scanner) (audit.APIKey, error) {
	var (
		k       audit.APIKey
		created int64
		revoked sql.NullInt64
	)
	if err := s.Scan(&k.ID, &k.TenantID, &k.Name, &k.Prefix, &created, &revoked); err != nil {
		return audit.APIKey{}, err
	}
	k.CreatedAt = fromMicros(created)
	k.RevokedAt = timePtr(revoked)
	return k, nil
}
