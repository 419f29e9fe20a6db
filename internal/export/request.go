package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/live"
	"github.com/auditsentinel/sentinel/internal/webhook"
)

// RequestStore is what the request side needs from the SQL store.
type RequestStore interface {
	CreateOrAttachExport(ctx context.Context, e audit.Export, reuseSince time.Time, maxActive int64) (audit.Export, bool, error)
	GetExport(ctx context.Context, tenantID, id string) (audit.Export, error)
	CountEvents(ctx context.Context, f audit.Filter, limit int64) (int64, error)
	Snapshot(ctx context.Context) (audit.Snapshot, error)
	SupersedeRequest(ctx context.Context, tenantID, requestHash string, at time.Time) error
	// GetTenantWebhookSecret is audit.ErrNotFound when the tenant has none.
	GetTenantWebhookSecret(ctx context.Context, tenantID string) (audit.TenantWebhookSecret, error)
}

// Queue hands an export to the workers. Enqueueing the same export twice
// must be harmless (the queue deduplicates by export id).
type Queue interface {
	EnqueueExport(ctx context.Context, tenantID, exportID string) error
}

// Service is the request side: it accepts export requests, and decides how
// a request that waits for its file is answered (Answer).
type Service struct {
	Store  RequestStore
	Queue  Queue
	Logger *slog.Logger
	Now    func() time.Time
	// ReuseWindow is how long a completed export answers identical requests.
	ReuseWindow time.Duration
	// Metrics counts requests by outcome; nil: none.
	Metrics *Metrics
	// PDFMaxEvents caps PDF exports (the reference doc's 5,000).
	PDFMaxEvents int64
	// MaxActivePerTenant caps a tenant's on-demand exports queued or
	// running at once (EXPORT_MAX_ACTIVE_PER_TENANT; 0: no cap), so that
	// one tenant's burst cannot occupy every worker for everyone else.
	MaxActivePerTenant int64
	// PollInterval bounds how often Wait re-reads the record.
	PollInterval time.Duration
	// WebhookAllowPrivate accepts webhook URLs on loopback, private and
	// link-local addresses (WEBHOOK_ALLOW_PRIVATE), as for schedules.
	WebhookAllowPrivate bool
	// WebhookResolver resolves webhook hosts (default net.DefaultResolver).
	WebhookResolver webhook.Resolver
	// Live follows the streams workers publish while they render (package
	// live): Answer's wait wakes when its export is done, and a CSV still
	// rendering is answered as it renders. Nil: Answer polls the record and
	// answers with stored files only.
	Live *live.Follower

	liveSlotsOnce sync.Once
	liveSlots     chan struct{} // one per live answer under way (MaxLiveStreams)

	// Values, when set, lets Warnings tell filter values that match no
	// event of the tenant (see warnings.go).
	Values ValueStore
}

// Options are the parts of a request that do not change the file.
type Options struct {
	// RequesterKeyID and RequesterKeyName name the API key asking; a new
	// export records them (an attached request leaves the record as is).
	RequesterKeyID, RequesterKeyName string
	// WebhookURL, when set, is told how the export ended, signed with the
	// tenant's webhook secret (which must exist when the request is made).
	WebhookURL string
	// BeforeQueue, when set, is called with the export's record once it is
	// known and before it is (re)queued: a waiting reader says it wants the
	// export's live bytes there, before any worker can start it. It must be
	// quick; its failure only costs the caller what it wanted.
	BeforeQueue func(ctx context.Context, e audit.Export)
	// NoCache starts a new export even when an identical one would do
	// (Cache-Control: no-cache).
	NoCache bool
}

// pdfCountCeiling bounds the count a rejected PDF request pays for: past it
// the message says "more than".
const pdfCountCeiling = 1_000_000

// Request validates p and o, then returns the tenant's export for them: an
// identical one that is queued, running or recently completed, or a new one
// that has been queued. created tells which. Requests that differ only in
// their webhook are not identical: each receiver hears of its own export.
func (s *Service) Request(ctx context.Context, tenantID string, p audit.ExportParams, o Options) (audit.Export, bool, error) {
	p, err := Validate(p)
	if err != nil {
		return audit.Export{}, false, err
	}
	p.Filter.TenantID = tenantID
	if o.WebhookURL != "" {
		if err := s.checkWebhook(ctx, tenantID, o.WebhookURL); err != nil {
			return audit.Export{}, false, err
		}
	}
	if p.FileType == audit.FilePDF {
		if err := s.checkPDFCap(ctx, p.Filter); err != nil {
			return audit.Export{}, false, err
		}
	}
	now := s.Now().UTC().Truncate(audit.TimePrecision)
	// The snapshot is taken after the request arrived, so every event whose
	// ingest had returned by then is in the export (snapshot.go).
	snap, err := s.Store.Snapshot(ctx)
	if err != nil {
		return audit.Export{}, false, fmt.Errorf("export: snapshot: %w", err)
	}
	e := audit.Export{
		AsOf:        &audit.AsOf{At: now, Snapshot: snap},
		ID:          uuid.Must(uuid.NewV7()).String(),
		TenantID:    tenantID,
		Params:      p,
		RequestHash: requestHash(p, o),
		Status:      audit.StatusQueued,
		RowsTotal:   -1,
		CreatedAt:   now,
		WebhookURL:  o.WebhookURL,

		RequesterKeyID: o.RequesterKeyID, RequesterKeyName: o.RequesterKeyName,
	}
	if o.NoCache {
		if err := s.Store.SupersedeRequest(ctx, tenantID, e.RequestHash, now); err != nil {
			return audit.Export{}, false, fmt.Errorf("export: no-cache: %w", err)
		}
	}
	got, created, err := s.Store.CreateOrAttachExport(ctx, e, now.Add(-s.ReuseWindow), s.MaxActivePerTenant)
	if err != nil {
		if ae := audit.AsError(err); ae != nil && ae.Code == audit.ETOOMANY {
			s.Logger.WarnContext(ctx, "export refused: tenant at its limit of active exports", "tenant", tenantID,
				"limit", s.MaxActivePerTenant)
			return audit.Export{}, false, err
		}
		return audit.Export{}, false, fmt.Errorf("export: create or attach: %w", err)
	}
	// Enqueue whenever the export still waits for a worker, not only when we
	// created it: if the process that created it died before enqueueing, the
	// next identical request repairs that. The queue deduplicates.
	if o.BeforeQueue != nil && !got.Status.Done() {
		o.BeforeQueue(ctx, got)
	}
	if got.Status == audit.StatusQueued {
		if err := s.Queue.EnqueueExport(ctx, tenantID, got.ID); err != nil {
			return audit.Export{}, false, queueUnavailable(ctx, s.Logger, got, err)
		}
	}
	s.Metrics.exportRequested(string(p.FileType), created)
	s.Logger.InfoContext(ctx, "export requested", "export_id", got.ID, "tenant", tenantID,
		"created", created, "status", got.Status, "file_type", p.FileType, "webhook", o.WebhookURL != "")
	return got, created, nil
}

// requestHash identifies a request within a tenant. Without a webhook it is
// the params' hash, as it always was; with one, the URL is mixed in, so
// requests for different receivers never share an export. The webhook is
// kept out of audit.ExportParams on purpose: the params describe the file
// and are copied into its signed manifest, where a receiver's URL (often a
// bearer capability) has no place.
func requestHash(p audit.ExportParams, o Options) string {
	h := p.Hash()
	if o.WebhookURL == "" {
		return h
	}
	sum := sha256.Sum256([]byte(h + "\x00webhook_url\x00" + o.WebhookURL))
	return hex.EncodeToString(sum[:])
}

// checkWebhook refuses a webhook URL that is malformed or points into our
// network (unless allowed), and a webhook the tenant could not verify
// because it has no secret yet: creating one silently would sign with a
// secret nobody was shown.
func (s *Service) checkWebhook(ctx context.Context, tenantID, rawURL string) error {
	if err := webhook.CheckURL(ctx, rawURL, s.WebhookAllowPrivate, s.WebhookResolver); err != nil {
		return err
	}
	_, err := s.Store.GetTenantWebhookSecret(ctx, tenantID)
	if errors.Is(err, audit.ErrNotFound) {
		return &audit.Error{Code: audit.ECONFLICT, Param: "webhook_url",
			Message: "this tenant has no webhook secret to sign with; create one with POST " +
				"/v5/audit-sentinel/webhook-secret (it is shown once), then request the export again"}
	}
	if err != nil {
		return fmt.Errorf("export: webhook secret: %w", err)
	}
	return nil
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
