package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/jobs"
	"github.com/auditsentinel/sentinel/internal/schedule"
	"github.com/auditsentinel/sentinel/internal/webhook"
)

// scheduleService is what the API does with export schedules.
func scheduleService(cfg config.Config, logger *slog.Logger, deps *Deps, queue *jobs.Client) *schedule.Service {
	days := int((cfg.ExportRetention + 24*time.Hour - 1) / (24 * time.Hour))
	return &schedule.Service{
		Store: deps.Store, Queue: queue, Logger: logger, Now: time.Now,
		AllowPrivate: cfg.WebhookAllowPrivate, DefaultRetentionDays: max(days, 1),
	}
}

// newNotifier tells exports' webhooks, scheduled or on demand, how they ended.
func newNotifier(cfg config.Config, logger *slog.Logger, deps *Deps, queue *jobs.Client) *webhook.Notifier {
	return &webhook.Notifier{
		Store: deps.Store, Queue: queue, Logger: logger.With("component", "webhooks"), Now: time.Now,
		Config: webhook.Config{AllowPrivate: cfg.WebhookAllowPrivate},
		// Relative without PUBLIC_BASE_URL: the receiver knows where it
		// registered its webhook.
		FileURL: func(id string) string { return cfg.PublicBaseURL + httpapi.Prefix + "/exports/" + id + "/file" },
	}
}

// dispatchLoop runs a worker's schedule dispatcher in the background.
type dispatchLoop struct {
	d      *schedule.Dispatcher
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newDispatchLoop(logger *slog.Logger, deps *Deps, queue *jobs.Client) *dispatchLoop {
	return &dispatchLoop{d: &schedule.Dispatcher{
		Store: deps.Store, Queue: queue, Logger: logger.With("component", "scheduler"), Now: time.Now,
	}}
}

func (l *dispatchLoop) start() {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Go(func() { l.d.Run(ctx) })
}

func (l *dispatchLoop) stop() {
	if l.cancel != nil {
		l.cancel()
		l.wg.Wait()
	}
}
