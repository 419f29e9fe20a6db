package audit

import (
	"context"
	"time"
)

// Schedule is a tenant's recurring export. Package schedule holds its rules
// (validation, cron, windows, which occurrence is due).
type Schedule struct {
	ID       string `json:"id"`
	TenantID string `json:"-"`
	Name     string `json:"name"`
	// Cron is a five-field expression evaluated in Timezone.
	Cron     string `json:"cron"`
	Timezone string `json:"timezone"`
	Window   Window `json:"window"`
	// Params are the export's filters, file type, locale and display time
	// zone. The range is not part of them: the window computes it per
	// occurrence.
	Params        ExportParams `json:"params"`
	RetentionDays int          `json:"retention_days"`
	// MinRetentionDays keeps every archive the schedule makes from being
	// deleted for that many days after completion (0: the tenant's
	// minimum only).
	MinRetentionDays int    `json:"min_retention_days,omitempty"`
	Enabled          bool   `json:"enabled"`
	WebhookURL       string `json:"webhook_url,omitempty"`
	// WebhookSecret signs webhook deliveries. It is shown once, when the
	// schedule is created, and never serialized.
	WebhookSecret string    `json:"-"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// LastFiredAt is the last occurrence fired (the occurrence, not the
	// wall-clock time it was enqueued); schedule.Due catches up from it.
	LastFiredAt *time.Time `json:"last_fired_at,omitempty"`
}

// WindowKind names a relative time window.
type WindowKind string

// Window kinds. Calendar windows are whole local days, weeks, months or
// quarters that ended at or before the occurrence; last_hours is a sliding
// window ending at the occurrence.
const (
	PreviousDay     WindowKind = "previous_day"
	PreviousWeek    WindowKind = "previous_week"
	PreviousMonth   WindowKind = "previous_month"
	PreviousQuarter WindowKind = "previous_quarter"
	LastHours       WindowKind = "last_hours"
)

// WindowKinds lists the accepted kinds, for error messages.
var WindowKinds = []string{
	string(PreviousDay), string(PreviousWeek), string(PreviousMonth), string(PreviousQuarter), string(LastHours),
}

// Window is the relative range of events a scheduled export covers,
// computed when it fires (schedule.WindowRange).
type Window struct {
	Kind WindowKind `json:"kind"`
	// Hours is the length of a last_hours window; it must be 0 otherwise.
	Hours int `json:"hours,omitempty"`
}

// ScheduleListFilter selects a tenant's schedules, newest first:
// (CreatedAt, ID) descending, continuing strictly after (AfterCreatedAt,
// AfterID) when set. Limit <= 0 means no limit.
type ScheduleListFilter struct {
	TenantID       string
	AfterCreatedAt *time.Time
	AfterID        string
	Limit          int
}

// ScheduleStore keeps schedules. Every method that takes a tenant ID treats
// another tenant's schedule as absent (ErrNotFound).
type ScheduleStore interface {
	// CreateSchedule inserts s; a duplicate id matches ErrConflict.
	CreateSchedule(ctx context.Context, s Schedule) error
	// GetSchedule returns the schedule with its webhook secret.
	GetSchedule(ctx context.Context, tenantID, id string) (Schedule, error)
	// ListSchedules lists a tenant's schedules newest first (see
	// ScheduleListFilter).
	ListSchedules(ctx context.Context, f ScheduleListFilter) ([]Schedule, error)
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
}
