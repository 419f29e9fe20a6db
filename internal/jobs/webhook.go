package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"go.opentelemetry.io/otel/attribute"

	"github.com/auditsentinel/sentinel/internal/tracing"
)

// TypeWebhook delivers one webhook event (a delivery record) to its
// receiver.
const TypeWebhook = "webhook:deliver"

// QueueWebhooks holds webhook tasks. A separate asynq server with its own
// concurrency takes them, so receivers that are slow or down (a delivery
// waits through its retries inside the task) never hold the slots exports
// run in.
const QueueWebhooks = "webhooks"

// WebhookTimeout bounds one webhook task: the deliverer's retry budget
// (webhook.DefaultMaxElapsed, 10 min) plus the last attempt.
const WebhookTimeout = 15 * time.Minute

// WebhookPayload names one delivery record.
type WebhookPayload struct {
	TenantID   string `json:"tenant_id"`
	DeliveryID string `json:"delivery_id"`
	// Trace is the span that queued the delivery (see ExportPayload).
	Trace tracing.Carrier `json:"trace,omitzero"`
}

// WebhookSender delivers the event of one delivery record. It returns nil
// when the delivery is finished (delivered, or given up and recorded as
// failed) and an error when the task should run again.
type WebhookSender interface {
	Deliver(ctx context.Context, tenantID, deliveryID string) error
}

// EnqueueWebhook queues the delivery's task. The task id is the delivery
// id, so enqueueing it again while it is pending or running is a no-op; the
// delivery record's state makes a later duplicate harmless.
func (c *Client) EnqueueWebhook(ctx context.Context, tenantID, deliveryID string) (err error) {
	ctx, end := c.startEnqueue(ctx, TypeWebhook, QueueWebhooks, attribute.String("delivery_id", deliveryID))
	defer func() { end(err) }()
	b, err := json.Marshal(WebhookPayload{TenantID: tenantID, DeliveryID: deliveryID, Trace: tracing.Inject(ctx)})
	if err != nil {
		return fmt.Errorf("jobs: marshal: %w", err)
	}
	_, err = c.c.EnqueueContext(ctx, asynq.NewTask(TypeWebhook, b),
		asynq.TaskID("webhook:"+deliveryID), asynq.Queue(QueueWebhooks), asynq.MaxRetry(3),
		asynq.Timeout(WebhookTimeout))
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("jobs: enqueue webhook %s: %w", deliveryID, err)
	}
	return nil
}

// webhookCheckInterval is how often an idle webhook server polls its queue.
const webhookCheckInterval = time.Second

// newWebhookServer returns the asynq server of the webhooks queue, nil when
// cfg has no WebhookSender.
func newWebhookServer(cfg ServerConfig, counted func(ctx context.Context, taskType string, err error)) (*asynq.Server, *asynq.ServeMux) {
	if cfg.Webhooks == nil {
		return nil, nil
	}
	n := cfg.WebhookConcurrency
	if n <= 0 {
		n = 8
	}
	srv := asynq.NewServer(cfg.Redis, asynq.Config{
		Concurrency: n,
		Queues:      map[string]int{QueueWebhooks: 1},
		// Idle, asynq polls each queue every TaskCheckInterval. The export
		// queue's 50 ms keeps small exports quick; a notification sent
		// after an export is done loses nothing by waiting up to a second
		// (asynq's default), and the poll is not free: on the embedded
		// Redis every poll is a Lua script in a fresh interpreter (an idle
		// demo api used 1.5-1.9 CPU-s per 30 s with this poll at 50 ms,
		// 1.1-1.4 at a second).
		TaskCheckInterval: max(cfg.TaskCheckInterval, webhookCheckInterval),
		RetryDelayFunc:    RetryDelay,
		Logger:            slogAdapter{cfg.Logger.With("component", "asynq-webhooks")},
		LogLevel:          asynq.WarnLevel,
		ShutdownTimeout:   10 * time.Second,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeWebhook, func(ctx context.Context, t *asynq.Task) (err error) {
		var p WebhookPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("jobs: bad webhook payload: %w: %w", err, asynq.SkipRetry)
		}
		ctx, end := startTask(ctx, cfg.Tracer, t, p.Trace,
			attribute.String("delivery_id", p.DeliveryID), attribute.String("tenant", p.TenantID))
		defer func() { end(err) }()
		err = cfg.Webhooks.Deliver(ctx, p.TenantID, p.DeliveryID)
		counted(ctx, TypeWebhook, err)
		return err
	})
	return srv, mux
}

// exportDone calls the OnExportDone hook, if any, with a context that
// outlives the task's (the export's outcome is recorded already; telling
// about it must not be cut short by the task ending).
func (s *Server) exportDone(ctx context.Context, tenantID, exportID string) {
	if s.cfg.OnExportDone != nil {
		s.cfg.OnExportDone(context.WithoutCancel(ctx), tenantID, exportID)
	}
}
