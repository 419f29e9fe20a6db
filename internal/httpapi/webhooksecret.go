package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/webhook"
)

// WebhookStore is what the webhook routes of on-demand exports need.
type WebhookStore interface {
	// PutTenantWebhookSecret creates or replaces the tenant's secret.
	PutTenantWebhookSecret(ctx context.Context, s audit.TenantWebhookSecret) error
	ListAttempts(ctx context.Context, f audit.WebhookAttemptFilter) ([]audit.WebhookAttempt, error)
}

// WebhookSecret is the answer to POST /webhook-secret: the only time the
// secret is shown.
type WebhookSecret struct {
	Secret    string    `json:"secret"`
	CreatedAt time.Time `json:"created_at"`
}

// rotateWebhookSecret is POST /webhook-secret: it creates the tenant's
// webhook secret, or replaces it, and shows it once. Exports requested
// with a webhook_url are signed with it; deliveries sent after a rotation
// use the new secret, including those of exports requested before.
func (s *Server) rotateWebhookSecret(c echo.Context) error {
	if s.cfg.Webhooks == nil {
		return audit.Errorf(audit.ENOTIMPLEMENTED, "webhook secrets are not available on this server")
	}
	ctx, tenant := c.Request().Context(), tenantOf(c)
	sec := audit.TenantWebhookSecret{TenantID: tenant, Secret: webhook.NewSecret(),
		CreatedAt: s.cfg.Now().UTC().Truncate(audit.TimePrecision)}
	if err := s.cfg.Webhooks.PutTenantWebhookSecret(ctx, sec); err != nil {
		return err
	}
	s.logger.InfoContext(ctx, "webhook secret rotated", "tenant", tenant)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, WebhookSecret{Secret: sec.Secret, CreatedAt: sec.CreatedAt})
}
