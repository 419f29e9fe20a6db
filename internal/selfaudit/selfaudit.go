// Package selfaudit records the service's own use into each tenant's event
// stream: exports requested, finished and downloaded, keys created and
// revoked, schedules changed, webhook secrets rotated. They are ordinary
// events with system_source audit_sentinel (exportable, filterable), which
// clients cannot write themselves (ingest refuses that source).
//
// Recording never fails the action it describes. An event is inserted at
// once; when that fails it waits in memory and Run retries it until it is
// stored. Its id is derived from what it describes (UUIDv5), so a retry,
// or two replicas recording the same thing, store it once (ingest's
// ON CONFLICT DO NOTHING). What this does not survive is the process dying
// while the database is unreachable: those events are logged in full at
// ERROR level (message "self-audit event dropped") so they can be replayed.
package selfaudit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// SystemSource is the system_source of every self-audit event.
const SystemSource = audit.SelfAuditSource

// namespace makes event ids: UUIDv5 of (tenant, what, subject, time).
var namespace = uuid.MustParse("7b0b5f5e-2f0e-4f0e-9a57-3d5c8e3c1a15")

// Actor is who did something: a key, or a schedule.
type Actor struct {
	KeyID      string
	KeyName    string
	ScheduleID string
}

// KeyActor is the actor of a request made with k.
func KeyActor(k audit.APIKey) Actor { return Actor{KeyID: k.ID, KeyName: k.Name} }

// AuditeeID is how events name the actor: "key:<id>" or "schedule:<id>".
func (a Actor) AuditeeID() string {
	switch {
	case a.KeyID != "":
		return "key:" + a.KeyID
	case a.ScheduleID != "":
		return "schedule:" + a.ScheduleID
	}
	return ""
}

// Event builds a self-audit event of tenant: eventType (export, api_key,
// schedule, webhook_secret, retention, legal_hold) and subType (requested,
// created, revoked, …) about subject (an export, key or schedule id) at at.
// meta adds metadata; the actor's key id and name are added to it.
func Event(tenant, eventType, subType, subject string, a Actor, at time.Time, description string, meta map[string]string) audit.Event {
	at = at.UTC().Truncate(audit.TimePrecision)
	m := map[string]string{}
	for k, v := range meta {
		if v != "" {
			m[k] = v
		}
	}
	if a.KeyID != "" {
		m["actor_key_id"], m["actor_key_name"] = a.KeyID, a.KeyName
	}
	if a.ScheduleID != "" {
		m["actor_schedule_id"] = a.ScheduleID
	}
	id := uuid.NewSHA1(namespace, []byte(tenant+"\x00"+eventType+"\x00"+subType+"\x00"+subject+"\x00"+a.AuditeeID()+"\x00"+
		at.Format(time.RFC3339Nano)))
	return audit.Event{ID: id.String(), TenantID: tenant, OccurredAt: at, EventType: eventType, SubType: subType,
		SystemSource: SystemSource, AuditeeID: a.AuditeeID(), Description: description, Metadata: m}
}

// Store is where self-audit events go: the tenant's own stream.
type Store interface {
	InsertEvents(ctx context.Context, tenantID string, events []audit.Event) (int, error)
}

// MaxPending bounds the events held for a retry; past it the oldest are
// logged and dropped, so a long outage cannot exhaust memory.
const MaxPending = 10_000

// Recorder writes self-audit events. Its zero value is not usable; nil
// records nothing.
type Recorder struct {
	store   Store
	logger  *slog.Logger
	mu      sync.Mutex
	pending []audit.Event
	wake    chan struct{}
}

// NewRecorder returns a recorder writing into store.
func NewRecorder(store Store, logger *slog.Logger) *Recorder {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Recorder{store: store, logger: logger, wake: make(chan struct{}, 1)}
}

// insertTimeout bounds the synchronous attempt, which the user's request
// waits for.
const insertTimeout = 2 * time.Second

// Record stores ev, or keeps it for Run to retry. It never fails and never
// waits longer than insertTimeout; the caller's cancellation does not stop
// it (the action it records happened).
func (r *Recorder) Record(ctx context.Context, ev audit.Event) {
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), insertTimeout)
	defer cancel()
	if _, err := r.store.InsertEvents(ctx, ev.TenantID, []audit.Event{ev}); err != nil {
		r.logger.WarnContext(ctx, "self-audit event not stored yet; retrying", "tenant", ev.TenantID, "event_id", ev.ID, "err", err)
		r.keep(ev)
	}
}

func (r *Recorder) keep(ev audit.Event) {
	r.mu.Lock()
	r.pending = append(r.pending, ev)
	var dropped []audit.Event
	if n := len(r.pending) - MaxPending; n > 0 {
		dropped = append(dropped, r.pending[:n]...)
		r.pending = r.pending[n:]
	}
	r.mu.Unlock()
	for _, d := range dropped {
		r.logDropped(d)
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Pending is how many events wait for a retry.
func (r *Recorder) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

// Flush tries once to store every pending event and returns how many still
// wait.
func (r *Recorder) Flush(ctx context.Context) int {
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	r.mu.Unlock()
	var failed []audit.Event
	for _, ev := range batch {
		if _, err := r.store.InsertEvents(ctx, ev.TenantID, []audit.Event{ev}); err != nil {
			failed = append(failed, ev)
		}
	}
	if len(failed) > 0 {
		r.mu.Lock()
		r.pending = append(failed, r.pending...)
		r.mu.Unlock()
	}
	return r.Pending()
}

// Run retries pending events every interval until ctx ends, then logs what
// is still pending.
func (r *Recorder) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), insertTimeout)
			r.Flush(fctx)
			cancel()
			r.mu.Lock()
			left := r.pending
			r.pending = nil
			r.mu.Unlock()
			for _, ev := range left {
				r.logDropped(ev)
			}
			return
		case <-t.C:
		case <-r.wake:
		}
		if r.Pending() > 0 {
			r.Flush(ctx)
		}
	}
}

func (r *Recorder) logDropped(ev audit.Event) {
	r.logger.Error("self-audit event dropped", "tenant", ev.TenantID, "event_id", ev.ID, "event_type", ev.EventType,
		"sub_type", ev.SubType, "occurred_at", ev.OccurredAt, "auditee_id", ev.AuditeeID, "metadata", ev.Metadata,
		"description", ev.Description)
}
