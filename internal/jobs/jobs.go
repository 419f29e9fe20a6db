// Package jobs is the asynq side of Audit Sentinel: task types and payloads,
// the client that enqueues them and the server that runs them on workers.
// Tasks carry only ids; the durable truth is the export record in the SQL
// store, so a task delivered twice, late or after a crash does no harm.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

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
}

// Client enqueues tasks.
type Client struct {
	c *asynq.Client
	// MaxRetry and Timeout apply to export tasks.
	MaxRetry int
	Timeout  time.Duration
}

// NewClient returns a client on the given Redis connection.
func NewClient(opt asynq.RedisConnOpt) *Client {
	return &Client{c: asynq.NewClient(opt), MaxRetry: 10, Timeout: 4 * time.Hour}
}

// Close releases the Redis connection.
func (c *Client) Close() error { return c.c.Close() }

// EnqueueExport queues the export's task. The task id is the export id, so a
// second enqueue while the task is pending or running is a no-op.
func (c *Client) EnqueueExport(ctx context.Context, tenantID, exportID string) error {
	b, err := json.Marshal(ExportPayload{TenantID: tenantID, ExportID: exportID})
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
