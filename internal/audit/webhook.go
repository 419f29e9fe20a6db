package audit

import (
	"context"
	"time"
)

// DeliveryState is where a webhook delivery is.
type DeliveryState string

// Delivery states: pending until the deliverer succeeds or gives up.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed"
)

// WebhookDelivery is the record of one webhook event for one export
// outcome. Its ID is the event id receivers see on every attempt.
type WebhookDelivery struct {
	ID           string
	TenantID     string
	ScheduleID   string // "" for an export requested on demand
	ExportID     string
	ExportStatus ExportStatus
	URL          string
	State        DeliveryState
	CreatedAt    time.Time
	FinishedAt   *time.Time
}

// WebhookAttempt is the record of one delivery attempt.
type WebhookAttempt struct {
	DeliveryID string // the event id
	ExportID   string
	ScheduleID string
	URL        string
	AttemptNo  int // 1 for the first attempt
	At         time.Time
	// StatusCode is the receiver's HTTP status, 0 when none was received.
	StatusCode int
	// Error says why the attempt failed; "" when it succeeded.
	Error    string
	Duration time.Duration
}

// WebhookAttemptFilter selects a schedule's delivery attempts, or with
// ExportID set one export's, newest first: (At, DeliveryID, AttemptNo)
// descending, continuing strictly after the attempt (AfterAt,
// AfterDeliveryID, AfterAttemptNo) when AfterAt is set. Limit <= 0 means no
// limit.
type WebhookAttemptFilter struct {
	TenantID   string
	ScheduleID string
	// ExportID, when set, selects that export's attempts; ScheduleID then
	// narrows them only if it is set too.
	ExportID        string
	AfterAt         *time.Time
	AfterDeliveryID string
	AfterAttemptNo  int
	Limit           int
}

// TenantWebhookSecret signs the webhooks of a tenant's on-demand exports
// (those whose request carried a webhook_url). Scheduled exports sign with
// their schedule's own secret instead. It is shown once, when it is created
// or rotated; deliveries use whichever secret is current when they are sent.
type TenantWebhookSecret struct {
	TenantID  string
	Secret    string
	CreatedAt time.Time
}

// WebhookStore keeps webhook deliveries, their attempts and the tenants'
// webhook secrets. Every method that takes a tenant ID treats another
// tenant's records as absent (ErrNotFound).
type WebhookStore interface {
	// CreateDelivery inserts d unless the tenant already has a delivery for
	// d.ExportID and d.ExportStatus, in which case it returns that one with
	// created = false.
	CreateDelivery(ctx context.Context, d WebhookDelivery) (_ WebhookDelivery, created bool, _ error)
	GetDelivery(ctx context.Context, tenantID, id string) (WebhookDelivery, error)
	// FinishDelivery moves a pending delivery to state (delivered or
	// failed); finishing a finished one changes nothing.
	FinishDelivery(ctx context.Context, tenantID, id string, state DeliveryState, at time.Time) error
	// RecordAttempt keeps one delivery attempt of tenantID.
	RecordAttempt(ctx context.Context, tenantID string, a WebhookAttempt) error
	// ListAttempts lists attempts newest first (see WebhookAttemptFilter).
	ListAttempts(ctx context.Context, f WebhookAttemptFilter) ([]WebhookAttempt, error)
	// PutTenantWebhookSecret stores s as its tenant's webhook secret,
	// replacing the one it had (rotation).
	PutTenantWebhookSecret(ctx context.Context, s TenantWebhookSecret) error
	// GetTenantWebhookSecret returns tenantID's webhook secret; ErrNotFound
	// when it has none.
	GetTenantWebhookSecret(ctx context.Context, tenantID string) (TenantWebhookSecret, error)
}
