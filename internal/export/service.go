// Package export is the request side of an export: it validates what a
// client asked for, enforces the PDF cap, attaches identical requests to one
// durable export record and hands new ones to the queue. The worker side
// (rendering and storing the file) lives in package exporter.
package export

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/google/uuid"
)

// Store is what the request side needs from the SQL store.
type Store interface {
	CreateOrAttachExport(ctx context.Context, e audit.Export, reuseSince time.Time) (audit.Export, bool, error)
	GetExport(ctx context.Context, tenantID, id string) (audit.Export, error)
	CountEvents(ctx context.Context, f audit.Filter, limit int64) (int64, error)
}

// Queue hands an export to the workers. Enqueueing the same export twice
// must be harmless (the queue deduplicates by export id).
type Queue interface {
	EnqueueExport(ctx context.Context, tenantID, exportID string) error
}

// Service accepts export requests.
type Service struct {
	Store  Store
	Queue  Queue
	Logger *slog.Logger
	Now    func() time.Time
	// ReuseWindow is how long a completed export answers identical requests.
	ReuseWindow time.Duration
	// PDFMaxEvents caps PDF exports (the reference doc's 5,000).
	PDFMaxEvents int64
	// PollInterval bounds how often Wait re-reads the record.
	PollInterval time.Duration
}

// pdfCountCeiling bounds the count a rejected PDF request pays for: past it
// the message says "more than".
const pdfCountCeiling = 1_000_000

// Request validates p, then returns the tenant's export for it: an identical
// one that is queued, running or recently completed, or a new one that has
// been queued. created tells which.
func (s *Service) Request(ctx context.Context, tenantID string, p audit.ExportParams) (audit.Export, bool, error) {
	p, err := Validate(p)
	if err != nil {
		return audit.Export{}, false, err
	}
	p.Filter.TenantID = tenantID
	if p.FileType == audit.FilePDF {
		if err := s.checkPDFCap(ctx, p.Filter); err != nil {
			return audit.Export{}, false, err
		}
	}
	now := s.Now().UTC().Truncate(audit.TimePrecision)
	e := audit.Export{
		ID:          uuid.Must(uuid.NewV7()).String(),
		TenantID:    tenantID,
		Params:      p,
		RequestHash: p.Hash(),
		Status:      audit.StatusQueued,
		RowsTotal:   -1,
		CreatedAt:   now,
	}
	got, created, err := s.Store.CreateOrAttachExport(ctx, e, now.Add(-s.ReuseWindow))
	if err != nil {
		return audit.Export{}, false, fmt.Errorf("export: create or attach: %w", err)
	}
	// Enqueue whenever the export still waits for a worker, not only when we
	// created it: if the process that created it died before enqueueing, the
	// next identical request repairs that. The queue deduplicates.
	if got.Status == audit.StatusQueued {
		if err := s.Queue.EnqueueExport(ctx, tenantID, got.ID); err != nil {
			return audit.Export{}, false, fmt.Errorf("export: enqueue %s: %w", got.ID, err)
		}
	}
	s.Logger.InfoContext(ctx, "export requested", "export_id", got.ID, "tenant", tenantID,
		"created", created, "status", got.Status, "file_type", p.FileType)
	return got, created, nil
}

// CheckPDFCap answers EINVALID when f matches more events than a PDF may
// hold, saying how many matched.
func (s *Service) checkPDFCap(ctx context.Context, f audit.Filter) error {
	n, err := s.Store.CountEvents(ctx, f, s.PDFMaxEvents+1)
	if err != nil {
		return fmt.Errorf("export: count for pdf cap: %w", err)
	}
	if n <= s.PDFMaxEvents {
		return nil
	}
	// Over the cap: pay for a better count so the message is useful.
	n, err = s.Store.CountEvents(ctx, f, pdfCountCeiling+1)
	if err != nil {
		return fmt.Errorf("export: count for pdf cap: %w", err)
	}
	matched := fmt.Sprintf("%d", n)
	if n > pdfCountCeiling {
		matched = fmt.Sprintf("more than %d", pdfCountCeiling)
	}
	return &audit.Error{Code: audit.EINVALID, Param: "file_type",
		Message: fmt.Sprintf("a PDF export holds at most %d events and this request matches %s; "+
			"use file_type=csv or narrow the filters (range_start/range_end, event_type, metadata)",
			s.PDFMaxEvents, matched),
		Details: map[string]int64{"matched_events": n, "max_events": s.PDFMaxEvents}}
}

// Wait re-reads the export until it is done, ctx ends or d has passed, and
// returns the latest record. It polls every 5-20 ms for the first two
// seconds, so a small export is answered almost as soon as it is stored,
// then backs off to PollInterval: a primary-key read is cheap, and a long
// export does not need a fast answer.
func (s *Service) Wait(ctx context.Context, tenantID, id string, d time.Duration) (audit.Export, error) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	const quickFor, quickMax = 2 * time.Second, 20 * time.Millisecond
	interval := 5 * time.Millisecond
	maxInterval := s.PollInterval
	if maxInterval <= 0 {
		maxInterval = 250 * time.Millisecond
	}
	started := time.Now()
	for {
		e, err := s.Store.GetExport(ctx, tenantID, id)
		if err != nil || e.Status.Done() {
			return e, err
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return e, nil
		case <-deadline.C:
			t.Stop()
			return e, nil
		case <-t.C:
		}
		limit := maxInterval
		if time.Since(started) < quickFor {
			limit = quickMax
		}
		if interval = interval * 3 / 2; interval > limit {
			interval = limit
		}
	}
}
