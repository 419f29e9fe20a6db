// Package jobs is the asynq side of Audit Sentinel: task types and payloads,
// the client that enqueues them and the server that runs them on workers.
// Tasks carry only ids (and the W3C trace context of the request that
// queued them); the durable truth is the export record in the SQL store, so
// a task delivered twice, late or after a crash does no harm.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/auditsentinel/sentinel/internal/tracing"
)

// tracerName names the spans this package starts.
const tracerName = "github.com/auditsentinel/sentinel/internal/jobs"

// Task types.
const (
	TypeExport = "export:run"
	TypeSweep  = "export:sweep"
)

// Queues, by priority weight in the server config.
const (
	QueueExports     = "exports"
	QueueMaintenance = "maintenance"
)

// ExportPayload names one export.
type ExportPayload struct {
	TenantID string `json:"tenant_id"`
	ExportID string `json:"export_id"`
	// Trace is the span that queued the task, so the worker's spans join
	// the request's trace; empty when tracing is off.
	Trace tracing.Carrier `json:"trace,omitzero"`
}

// Client enqueues tasks.
type Client struct {
	c *asynq.Client
	// MaxRetry and Timeout apply to export tasks.
	MaxRetry int
	Timeout  time.Duration
	// Tracer traces each enqueue as a producer span whose context the
	// task carries; nil traces nothing.
	Tracer trace.TracerProvider
}

// NewClient returns a client on the given Redis connection.
func NewClient(opt asynq.RedisConnOpt) *Client {
	return &Client{c: asynq.NewClient(opt), MaxRetry: 10, Timeout: 4 * time.Hour}
}

// Close releases the Redis connection.
func (c *Client) Close() error { return c.c.Close() }

// EnqueueExport queues the export's task. The task id is the export id, so a
// second enqueue while the task is pending or running is a no-op.
func (c *Client) EnqueueExport(ctx context.Context, tenantID, exportID string) (err error) {
	ctx, end := c.startEnqueue(ctx, TypeExport, QueueExports, attribute.String("export_id", exportID))
	defer func() { end(err) }()
	b, err := json.Marshal(ExportPayload{TenantID: tenantID, ExportID: exportID, Trace: tracing.Inject(ctx)})
	if err != nil {
		return fmt.Errorf("jobs: marshal: %w", err)
	}
	_, err = c.c.EnqueueContext(ctx, asynq.NewTask(TypeExport, b),
		asynq.TaskID(exportID), asynq.Queue(QueueExports), asynq.MaxRetry(c.MaxRetry), asynq.Timeout(c.Timeout))
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("jobs: enqueue export %s: %w", exportID, err)
	}
	return nil
}

// startEnqueue starts the producer span of queueing a task; end records
// how it went.
func (c *Client) startEnqueue(ctx context.Context, taskType, queue string, attrs ...attribute.KeyValue) (context.Context, func(error)) {
	ctx, span := tracing.Tracer(c.Tracer, tracerName).Start(ctx, "enqueue "+taskType,
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(append(attrs, attribute.String("messaging.system", "asynq"),
			attribute.String("messaging.destination.name", queue), attribute.String("task.type", taskType))...))
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "enqueue failed")
		}
		span.End()
	}
}

// startTask starts the consumer span of running a task, as a child of the
// span that queued it (carried in its payload); end records how it went.
func startTask(ctx context.Context, tp trace.TracerProvider, t *asynq.Task, carrier tracing.Carrier,
	attrs ...attribute.KeyValue) (context.Context, func(error)) {
	retried, _ := asynq.GetRetryCount(ctx)
	ctx, span := tracing.Tracer(tp, tracerName).Start(tracing.Extract(ctx, carrier), t.Type(),
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(append(attrs, attribute.String("messaging.system", "asynq"),
			attribute.String("task.type", t.Type()), attribute.String("task.id", t.ResultWriter().TaskID()),
			attribute.Int("task.retried", retried))...))
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "task failed")
		}
		span.End()
	}
}
