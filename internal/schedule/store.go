package schedule

import (
	"context"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/webhook"
)

// Store keeps schedules and their webhook deliveries. It is implemented by
// every SQL backend (sqlstore) and exercised by the storetest contract
// suite. It is declared here rather than in package audit because its
// records are this package's and webhook's types, which import audit.
//
// Every method that takes a tenant ID treats another tenant's records as
// absent (audit.ErrNotFound).
type Store interface {
	// CreateSchedule inserts s; a duplicate id matches audit.ErrConflict.
	CreateSchedule(ctx context.Context, s Schedule) error
	// GetSchedule returns the schedule with its webhook secret.
	GetSchedule(ctx context.Context, tenantID, id string) (Schedule, error)
	// ListSchedules lists a tenant's schedules newest first (see ListFilter).
	ListSchedules(ctx context.Context, f ListFilter) ([]Schedule, error)
	// UpdateSchedule replaces the fields a client edits (name, cron,
	// timezone, window, params, retention, enabled, webhook URL and secret,
	// updated_at). It never touches CreatedAt or LastFiredAt, so an edit
	// cannot rewind what the dispatcher has fired.
	UpdateSchedule(ctx context.Context, s Schedule) error
	// DeleteSchedule removes the schedule and its delivery records. Exports
	// it fired stay, with their own retention.
	DeleteSchedule(ctx context.Context, tenantID, id string) error
	// MarkScheduleFired sets LastFiredAt to occurrence only if it is still
	// prev (nil: never fired), and reports whether it did.
	MarkScheduleFired(ctx context.Context, tenantID, id string, prev *time.Time, occurrence time.Time) (bool, error)
	// EnabledSchedules lists enabled schedules of every tenant by ascending
	// id, after afterID, at most limit.
	EnabledSchedules(ctx context.Context, afterID string, limit int) ([]Schedule, error)

	// CreateDelivery inserts d unless the tenant already has a delivery for
	// d.ExportID and d.ExportStatus, in which case it returns that one with
	// created = false.
	CreateDelivery(ctx context.Context, d Delivery) (_ Delivery, created bool, _ error)
	GetDelivery(ctx context.Context, tenantID, id string) (Delivery, error)
	// FinishDelivery moves a pending delivery to state (delivered or
	// failed); finishing a finished one changes nothing.
	FinishDelivery(ctx context.Context, tenantID, id string, state DeliveryState, at time.Time) error
	// RecordAttempt keeps one delivery attempt of tenantID.
	RecordAttempt(ctx context.Context, tenantID string, a webhook.Attempt) error
	// ListAttempts lists attempts newest first (see AttemptFilter).
	ListAttempts(ctx context.Context, f AttemptFilter) ([]webhook.Attempt, error)
}

// ListFilter selects a tenant's schedules, newest first: (CreatedAt, ID)
// descending, continuing strictly after (AfterCreatedAt, AfterID) when set.
// Limit <= 0 means no limit.
type ListFilter struct {
	TenantID       string
	AfterCreatedAt *time.Time
	AfterID        string
	Limit          int
}

// AttemptFilter selects a schedule's delivery attempts, or with ExportID
// set one export's, newest first: (At, DeliveryID, AttemptNo) descending,
// continuing strictly after the attempt (AfterAt, AfterDeliveryID,
// AfterAttemptNo) when AfterAt is set. Limit <= 0 means no limit.
type AttemptFilter struct {
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

// DeliveryState is where a webhook delivery is.
type DeliveryState string

// Delivery states: pending until the deliverer succeeds or gives up.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed"
)

// Delivery is the record of one webhook event for one export outcome. Its ID
// is the event id receivers see on every attempt.
type Delivery struct {
	ID           string
	TenantID     string
	ScheduleID   string
	ExportID     string
	ExportStatus audit.ExportStatus
	URL          string
	State        DeliveryState
	CreatedAt    time.Time
	FinishedAt   *time.Time
}
