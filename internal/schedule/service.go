package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/webhook"
)

// ServiceStore is what the schedules API needs from the SQL store.
type ServiceStore interface {
	CreateSchedule(ctx context.Context, s audit.Schedule) error
	GetSchedule(ctx context.Context, tenantID, id string) (audit.Schedule, error)
	ListSchedules(ctx context.Context, f audit.ScheduleListFilter) ([]audit.Schedule, error)
	UpdateSchedule(ctx context.Context, s audit.Schedule) error
	DeleteSchedule(ctx context.Context, tenantID, id string) error
	ListAttempts(ctx context.Context, f audit.WebhookAttemptFilter) ([]audit.WebhookAttempt, error)
	CreateExport(ctx context.Context, e audit.Export) error
	snapshotter
}

// Service is what the API does with schedules: it validates them with the
// export endpoint's rules, refuses webhook URLs into private networks, and
// runs a schedule on demand.
type Service struct {
	Store  ServiceStore
	Queue  Queue
	Logger *slog.Logger
	Now    func() time.Time
	// AllowPrivate accepts webhook URLs on loopback, private and
	// link-local addresses (WEBHOOK_ALLOW_PRIVATE).
	AllowPrivate bool
	// Resolver resolves webhook hosts (default net.DefaultResolver).
	Resolver webhook.Resolver
	// DefaultRetentionDays is a new schedule's retention when the request
	// does not say (default 30).
	DefaultRetentionDays int
}

// Create validates s and stores it as a new schedule of tenantID with a new
// id and webhook secret (returned: the only time the secret is shown).
// Enabled and RetentionDays are taken as given; the caller applies
// defaults (see Defaults).
func (svc *Service) Create(ctx context.Context, tenantID string, s audit.Schedule) (audit.Schedule, error) {
	now := svc.Now().UTC().Truncate(audit.TimePrecision)
	s.ID, s.TenantID = uuid.Must(uuid.NewV7()).String(), tenantID
	s.WebhookSecret = webhook.NewSecret()
	s.CreatedAt, s.UpdatedAt, s.LastFiredAt = now, now, nil
	s, err := svc.check(ctx, s)
	if err != nil {
		return audit.Schedule{}, err
	}
	if err := svc.Store.CreateSchedule(ctx, s); err != nil {
		return audit.Schedule{}, fmt.Errorf("schedule: create schedule: %w", err)
	}
	svc.Logger.InfoContext(ctx, "schedule created", "tenant", tenantID, "schedule_id", s.ID, "cron", s.Cron,
		"timezone", s.Timezone)
	return s, nil
}

// Defaults returns the retention a new schedule gets when the request does
// not set one.
func (svc *Service) Defaults() (retentionDays int) {
	if svc.DefaultRetentionDays > 0 {
		return svc.DefaultRetentionDays
	}
	return 30
}

// Get returns schedule id of tenantID.
func (svc *Service) Get(ctx context.Context, tenantID, id string) (audit.Schedule, error) {
	return svc.Store.GetSchedule(ctx, tenantID, id)
}

// List lists a tenant's schedules newest first.
func (svc *Service) List(ctx context.Context, f audit.ScheduleListFilter) ([]audit.Schedule, error) {
	return svc.Store.ListSchedules(ctx, f)
}

// Update applies change to schedule id of tenantID and stores the result
// if it validates. The dispatcher's LastFiredAt is never changed by an
// update, so an edit neither re-fires nor skips an occurrence already
// fired; the next tick reads the new fields.
func (svc *Service) Update(ctx context.Context, tenantID, id string, change func(*audit.Schedule) error) (audit.Schedule, error) {
	s, err := svc.Store.GetSchedule(ctx, tenantID, id)
	if err != nil {
		return audit.Schedule{}, err
	}
	if err := change(&s); err != nil {
		return audit.Schedule{}, err
	}
	s.ID, s.TenantID = id, tenantID
	s.UpdatedAt = svc.Now().UTC().Truncate(audit.TimePrecision)
	if s, err = svc.check(ctx, s); err != nil {
		return audit.Schedule{}, err
	}
	if err := svc.Store.UpdateSchedule(ctx, s); err != nil {
		return audit.Schedule{}, fmt.Errorf("schedule: update schedule: %w", err)
	}
	svc.Logger.InfoContext(ctx, "schedule updated", "tenant", tenantID, "schedule_id", id, "enabled", s.Enabled)
	return s, nil
}

// Delete removes schedule id of tenantID.
func (svc *Service) Delete(ctx context.Context, tenantID, id string) error {
	if err := svc.Store.DeleteSchedule(ctx, tenantID, id); err != nil {
		return err
	}
	svc.Logger.InfoContext(ctx, "schedule deleted", "tenant", tenantID, "schedule_id", id)
	return nil
}

// RunNow fires schedule id of tenantID at the current instant, outside its
// cron and without moving LastFiredAt, and returns the queued export.
func (svc *Service) RunNow(ctx context.Context, tenantID, id string) (audit.Export, error) {
	s, err := svc.Store.GetSchedule(ctx, tenantID, id)
	if err != nil {
		return audit.Export{}, err
	}
	now := svc.Now().UTC().Truncate(audit.TimePrecision)
	e, err := NewExport(s, now, now)
	if err != nil {
		return audit.Export{}, err
	}
	if err := takeSnapshot(ctx, svc.Store, &e, now); err != nil {
		return audit.Export{}, err
	}
	if err := svc.Store.CreateExport(ctx, e); err != nil {
		if errors.Is(err, audit.ErrConflict) {
			return audit.Export{}, audit.Errorf(audit.ECONFLICT, "schedule %s already has an export for %s; try again",
				id, now.Format(time.RFC3339Nano))
		}
		return audit.Export{}, fmt.Errorf("schedule: run schedule %s: %w", id, err)
	}
	if err := svc.Queue.EnqueueExport(ctx, tenantID, e.ID); err != nil {
		return audit.Export{}, fmt.Errorf("schedule: run schedule %s: enqueue: %w", id, err)
	}
	svc.Logger.InfoContext(ctx, "schedule run on demand", "tenant", tenantID, "schedule_id", id, "export_id", e.ID)
	return e, nil
}

// Attempts lists the webhook attempts of schedule f.ScheduleID of
// f.TenantID; another tenant's schedule is not found.
func (svc *Service) Attempts(ctx context.Context, f audit.WebhookAttemptFilter) ([]audit.WebhookAttempt, error) {
	if _, err := svc.Store.GetSchedule(ctx, f.TenantID, f.ScheduleID); err != nil {
		return nil, err
	}
	return svc.Store.ListAttempts(ctx, f)
}

// FiltersParam prefixes the params export.Validate names, which are the
// export endpoint's query parameters, as the schedule body nests them under
// "filters".
const FiltersParam = "filters."

// check validates s: its own fields, then its params with the export
// endpoint's rules (defaults filled in, canonical form), then the webhook
// URL's host unless private addresses are allowed.
func (svc *Service) check(ctx context.Context, s audit.Schedule) (audit.Schedule, error) {
	if err := Validate(s); err != nil {
		return s, err
	}
	p, err := export.Validate(s.Params)
	if err != nil {
		if ae := audit.AsError(err); ae != nil && ae.Param != "" {
			c := *ae
			c.Param = FiltersParam + ae.Param
			return s, &c
		}
		return s, err
	}
	p.Filter.TenantID = s.TenantID
	s.Params = p
	if s.WebhookURL != "" {
		if err := webhook.CheckURL(ctx, s.WebhookURL, svc.AllowPrivate, svc.Resolver); err != nil {
			return s, err
		}
	}
	return s, nil
}
