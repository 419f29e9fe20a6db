package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// PutTenantWebhookSecret stores s as its tenant's webhook secret, replacing
// the one it had (rotation).
func (db *DB) PutTenantWebhookSecret(ctx context.Context, s audit.TenantWebhookSecret) error {
	if s.TenantID == "" || s.Secret == "" {
		return audit.Invalid("webhook_secret", "a webhook secret needs a tenant and a value")
	}
	sealed, err := db.sealSecret(s.Secret, tenantSecretContext(s.TenantID))
	if err != nil {
		return err
	}
	_, err = db.w.ExecContext(ctx, `INSERT INTO tenant_webhook_secrets (tenant_id, secret, created_at)
		VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at`,
		s.TenantID, sealed, micros(s.CreatedAt))
	return db.wrap("put tenant webhook secret", err)
}

// GetTenantWebhookSecret returns tenantID's webhook secret;
// audit.ErrNotFound when it has none.
func (db *DB) GetTenantWebhookSecret(ctx context.Context, tenantID string) (audit.TenantWebhookSecret, error) {
	s := audit.TenantWebhookSecret{TenantID: tenantID}
	var created int64
	err := db.r.QueryRowContext(ctx, `SELECT secret, created_at FROM tenant_webhook_secrets WHERE tenant_id = $1`,
		tenantID).Scan(&s.Secret, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.TenantWebhookSecret{}, audit.NotFound("tenant has no webhook secret")
	}
	if err != nil {
		return audit.TenantWebhookSecret{}, db.wrap("get tenant webhook secret", err)
	}
	if s.Secret, err = db.openSecret(s.Secret, tenantSecretContext(tenantID)); err != nil {
		return audit.TenantWebhookSecret{}, err
	}
	s.CreatedAt = fromMicros(created)
	return s, nil
}
