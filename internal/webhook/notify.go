package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// NotifyStore is what the Notifier needs from the SQL store.
type NotifyStore interface {
	GetExport(ctx context.Context, tenantID, id string) (audit.Export, error)
	GetSchedule(ctx context.Context, tenantID, id string) (audit.Schedule, error)
	CreateDelivery(ctx context.Context, d audit.WebhookDelivery) (audit.WebhookDelivery, bool, error)
	GetDelivery(ctx context.Context, tenantID, id string) (audit.WebhookDelivery, error)
	FinishDelivery(ctx context.Context, tenantID, id string, state audit.DeliveryState, at time.Time) error
	RecordAttempt(ctx context.Context, tenantID string, a audit.WebhookAttempt) error
	// GetTenantWebhookSecret signs on-demand exports' webhooks;
	// audit.ErrNotFound when the tenant has none.
	GetTenantWebhookSecret(ctx context.Context, tenantID string) (audit.TenantWebhookSecret, error)
}

// Queue queues delivery tasks (jobs.Client); enqueueing one twice
// is harmless.
type Queue interface {
	EnqueueWebhook(ctx context.Context, tenantID, deliveryID string) error
}

// Notifier tells an export's webhook how it ended: a scheduled export's,
// signed with its schedule's secret, or an on-demand export's, signed with
// its tenant's. ExportDone, called by the worker when an export completed
// or failed, records one delivery per export and outcome and queues it;
// Deliver, the task's handler, posts the signed event with retries and
// records every attempt.
type Notifier struct {
	Store  NotifyStore
	Queue  Queue
	Logger *slog.Logger
	Now    func() time.Time
	// Config bounds deliveries; its AllowPrivate (WEBHOOK_ALLOW_PRIVATE)
	// also decides which addresses the client may connect to.
	Config Config
	// FileURL is the download link of an export put in events (absolute
	// when PUBLIC_BASE_URL is set).
	FileURL func(exportID string) string
	// Sleep and Jitter, when set, replace the deliverer's backoff hooks
	// (tests).
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func(d time.Duration) time.Duration
	// Metrics counts deliveries; nil: none.
	Metrics *Metrics

	clientOnce sync.Once
	client     *http.Client
}

// ExportDone records and queues the webhook delivery of a finished export
// that has a webhook URL. It is idempotent: a second call for the same
// outcome finds the delivery and at most enqueues it again (the queue
// deduplicates, the delivery's state stops a repeat). Errors are logged:
// the export's own outcome is already recorded and must not be retried
// because of its
func (n *Notifier) ExportDone(ctx context.Context, tenantID, exportID string) {
	if err := n.exportDone(ctx, tenantID, exportID); err != nil {
		n.Logger.ErrorContext(ctx, "queue webhook", "tenant", tenantID, "export_id", exportID, "err", err)
	}
}

func (n *Notifier) exportDone(ctx context.Context, tenantID, exportID string) error {
	e, err := n.Store.GetExport(ctx, tenantID, exportID)
	if err != nil {
		return fmt.Errorf("webhook: load export: %w", err)
	}
	if e.WebhookURL == "" || (e.Status != audit.StatusCompleted && e.Status != audit.StatusFailed) {
		return nil
	}
	d, created, err := n.Store.CreateDelivery(ctx, audit.WebhookDelivery{
		ID: uuid.Must(uuid.NewV7()).String(), TenantID: tenantID, ScheduleID: e.ScheduleID, ExportID: e.ID,
		ExportStatus: e.Status, URL: e.WebhookURL, CreatedAt: n.Now().UTC(),
	})
	if err != nil {
		return fmt.Errorf("webhook: create delivery: %w", err)
	}
	if d.State != audit.DeliveryPending {
		return nil
	}
	if err := n.Queue.EnqueueWebhook(ctx, tenantID, d.ID); err != nil {
		return err
	}
	n.Logger.InfoContext(ctx, "webhook queued", "tenant", tenantID, "export_id", e.ID, "schedule_id", e.ScheduleID,
		"delivery_id", d.ID, "created", created, "status", e.Status)
	return nil
}

// Deliver posts the event of delivery deliveryID until the receiver takes
// it or the deliverer's bounds run out, recording every attempt, and marks
// the delivery delivered or failed. A delivery that is not pending any more
// (a duplicate task) is left alone. It returns an error only when the task
// should run again (ctx ended, the store failed).
func (n *Notifier) Deliver(ctx context.Context, tenantID, deliveryID string) error {
	log := n.Logger.With("tenant", tenantID, "delivery_id", deliveryID)
	d, err := n.Store.GetDelivery(ctx, tenantID, deliveryID)
	if errors.Is(err, audit.ErrNotFound) {
		log.InfoContext(ctx, "webhook delivery gone (schedule deleted); not sent")
		return nil
	}
	if err != nil {
		return fmt.Errorf("webhook: load delivery %s: %w", deliveryID, err)
	}
	if d.State != audit.DeliveryPending {
		return nil
	}
	log = log.With("export_id", d.ExportID, "schedule_id", d.ScheduleID)
	giveUp := func(why string, args ...any) error {
		log.WarnContext(ctx, "webhook not delivered: "+why, args...)
		return n.finish(ctx, d, audit.DeliveryFailed)
	}
	e, err := n.Store.GetExport(ctx, tenantID, d.ExportID)
	if errors.Is(err, audit.ErrNotFound) {
		return giveUp("export deleted")
	} else if err != nil {
		return fmt.Errorf("webhook: load export %s: %w", d.ExportID, err)
	}
	secret, err := n.secret(ctx, d)
	if errors.Is(err, audit.ErrNotFound) {
		return giveUp("no signing secret", "err", err)
	} else if err != nil {
		return err
	}

	e.Status = d.ExportStatus // the outcome this delivery tells, even if the export expired since
	fileURL := ""
	if e.Status == audit.StatusCompleted && n.FileURL != nil {
		fileURL = n.FileURL(e.ID)
	}
	ev := EventFor(d.ID, e, fileURL, e.ExpiresAt)
	recorder := AttemptRecorderFunc(func(ctx context.Context, a audit.WebhookAttempt) error {
		return n.Store.RecordAttempt(ctx, tenantID, a)
	})
	dl, err := NewDeliverer(n.Config, recorder, log)
	if err != nil {
		return fmt.Errorf("webhook: webhook config: %w", err)
	}
	dl.Client, dl.Now, dl.Metrics = n.httpClient(), n.Now, n.Metrics
	if n.Sleep != nil {
		dl.Sleep = n.Sleep
	}
	if n.Jitter != nil {
		dl.Jitter = n.Jitter
	}
	err = dl.Deliver(ctx, Delivery{URL: d.URL, Secret: secret, Event: ev})
	switch {
	case err == nil:
		return n.finish(ctx, d, audit.DeliveryDelivered)
	case ctx.Err() != nil:
		return err // shutting down or timed out: the task runs again
	default:
		return giveUp("receiver did not take it", "err", err)
	}
}

// secret is the key that signs d: its schedule's secret, or for an
// export requested on demand with a webhook, the tenant's current one.
// audit.ErrNotFound when there is none (schedule deleted, or no tenant
// secret).
func (n *Notifier) secret(ctx context.Context, d audit.WebhookDelivery) (string, error) {
	if d.ScheduleID == "" {
		ts, err := n.Store.GetTenantWebhookSecret(ctx, d.TenantID)
		if err != nil && !errors.Is(err, audit.ErrNotFound) {
			return "", fmt.Errorf("webhook: load tenant webhook secret: %w", err)
		}
		return ts.Secret, err
	}
	s, err := n.Store.GetSchedule(ctx, d.TenantID, d.ScheduleID)
	if err != nil && !errors.Is(err, audit.ErrNotFound) {
		return "", fmt.Errorf("webhook: load schedule %s: %w", d.ScheduleID, err)
	}
	return s.WebhookSecret, err
}

func (n *Notifier) finish(ctx context.Context, d audit.WebhookDelivery, state audit.DeliveryState) error {
	if err := n.Store.FinishDelivery(context.WithoutCancel(ctx), d.TenantID, d.ID, state, n.Now().UTC()); err != nil {
		return fmt.Errorf("webhook: finish delivery %s: %w", d.ID, err)
	}
	return nil
}

// httpClient is one client for every delivery, so connections are pooled.
func (n *Notifier) httpClient() *http.Client {
	n.clientOnce.Do(func() { n.client = NewClient(n.Config.AllowPrivate) })
	return n.client
}
