package audit

import (
	"context"
	"time"
)

// The ports below are implemented by every SQL backend (internal/sqlstore/
// postgres, internal/sqlstore/sqlite) and exercised by one contract suite
// (internal/sqlstore/storetest). Consumers declare the smaller interfaces they actually use.

// EventStore keeps audit events.
type EventStore interface {
	// InsertEvents stores events for tenantID in one transaction: all or
	// nothing. An event whose (tenant, id) already exists is skipped, so a
	// re-sent batch is not duplicated. It returns how many were new.
	InsertEvents(ctx context.Context, tenantID string, events []Event) (inserted int, err error)
	// InsertEventStream is InsertEvents for a batch that arrives in chunks:
	// every chunk fill passes to put goes into ONE transaction, committed
	// only when fill returns nil. fill may be called again, from the start,
	// when the transaction lost a deadlock to a concurrent batch: it must
	// put the same events each time. fill may run on a goroutine of its
	// own (the store then stores one chunk while fill makes the next); the
	// store has waited for it to return when InsertEventStream returns.
	InsertEventStream(ctx context.Context, tenantID string, fill func(put func([]Event) error) error) (inserted int, err error)
	// StreamEvents calls fn for every event matching f in ascending
	// (OccurredAt, ID) order without holding the result in memory. f.TenantID
	// must be set. An error from fn stops the stream and is returned.
	StreamEvents(ctx context.Context, f Filter, fn func(*Event) error) error
	// StreamEventRows is StreamEvents for exports: fn gets the events as
	// EventRows, in order, a batch at a time. A batch and its strings are
	// fn's to keep (the store never reuses them), so fn may hand it to
	// another goroutine.
	StreamEventRows(ctx context.Context, f Filter, fn func([]EventRow) error) error
	// CountEvents counts events matching f, stopping at limit when limit > 0
	// (so a cap check costs at most limit rows).
	CountEvents(ctx context.Context, f Filter, limit int64) (int64, error)
	// Snapshot says which ingest transactions have committed now: an
	// export created now holds exactly the events visible in it.
	Snapshot(ctx context.Context) (Snapshot, error)
	// FeedPage returns up to limit events matching f after cursor in
	// ingest order, never one that a transaction still in progress could
	// later place before the returned Next (see FeedPage).
	FeedPage(ctx context.Context, f Filter, after FeedCursor, limit int) (FeedPage, error)
}

// APIKey is an API key's record; the secret itself is never stored, only its
// SHA-256.
type APIKey struct {
	ID        string
	TenantID  string
	Name      string
	Prefix    string // first characters of the secret, to recognise it in lists
	CreatedAt time.Time
	RevokedAt *time.Time
	// Scopes are what the key may do (see Scope); never empty for a key
	// that can authenticate.
	Scopes []Scope
	// ExpiresAt, when set, is when the key stops working.
	ExpiresAt *time.Time
	// Window, when set, bounds what the key reads (auditor keys).
	Window *TimeWindow
}

// KeyStore keeps API keys.
type KeyStore interface {
	CreateAPIKey(ctx context.Context, k APIKey, secretHash string) error
	// APIKeyByHash returns the key whose secret hashes to secretHash,
	// revoked or not; ErrNotFound when none.
	APIKeyByHash(ctx context.Context, secretHash string) (APIKey, error)
	// ListAPIKeys lists keys of tenantID, or of every tenant when it is "".
	ListAPIKeys(ctx context.Context, tenantID string) ([]APIKey, error)
	// RevokeAPIKey marks the key revoked; ErrNotFound when there is none.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	// RevokeTenantAPIKey is RevokeAPIKey for a key of tenantID: another
	// tenant's key is ErrNotFound.
	RevokeTenantAPIKey(ctx context.Context, tenantID, id string, at time.Time) error
}

// ExportListFilter selects exports of one tenant for listing, newest first.
type ExportListFilter struct {
	TenantID   string
	Status     []ExportStatus
	FileType   FileType
	ScheduleID string
	// RequesterKeyID keeps the exports created by this API key.
	RequesterKeyID string
	CreatedFrom    *time.Time
	CreatedTo      *time.Time
	// After continues a listing after the export with this (CreatedAt, ID).
	AfterCreatedAt *time.Time
	AfterID        string
	Limit          int
}

// ExportStore keeps export records. Every method that takes a tenant ID
// treats another tenant's export as absent (ErrNotFound).
type ExportStore interface {
	// CreateOrAttachExport returns the export of e.TenantID with
	// e.RequestHash that is queued or running, or completed at or after
	// reuseSince, provided no event matching its filter was ingested after
	// its snapshot (e.AsOf; one that has such events is superseded, see
	// SupersedeRequest); otherwise it inserts e (status queued) and returns it with
	// created = true. Concurrent calls with the same hash create one export.
	// With maxActive > 0 it inserts nothing while the tenant already has
	// maxActive on-demand exports queued or running (ETOOMANY); attaching
	// is always allowed. The limit is soft: requests racing for the last
	// place may all get one.
	CreateOrAttachExport(ctx context.Context, e Export, reuseSince time.Time, maxActive int64) (_ Export, created bool, _ error)
	// SupersedeRequest takes the tenant's exports with requestHash out of
	// reuse, so that the next identical request starts a new one.
	SupersedeRequest(ctx context.Context, tenantID, requestHash string, at time.Time) error
	// CreateExport inserts e unconditionally (scheduled runs).
	CreateExport(ctx context.Context, e Export) error
	GetExport(ctx context.Context, tenantID, id string) (Export, error)
	// StartExport moves a queued or running export to running and counts an
	// attempt; ErrConflict when it is already done.
	StartExport(ctx context.Context, tenantID, id string, at time.Time, rowsTotal int64) (Export, error)
	UpdateProgress(ctx context.Context, tenantID, id string, rowsWritten int64, at time.Time) error
	// SetRowsTotal records the row count of a running export once a count
	// made beside the run knows it; it changes nothing (and succeeds) when
	// the export is not running that attempt any more.
	SetRowsTotal(ctx context.Context, tenantID, id string, attempt int, rowsTotal int64) error
	CompleteExport(ctx context.Context, tenantID, id string, r ExportResult, at, expiresAt time.Time) error
	FailExport(ctx context.Context, tenantID, id, code, message string, at time.Time) error
	// ExpireExport marks a completed export expired (its object is gone).
	ExpireExport(ctx context.Context, tenantID, id string, at time.Time) error
	// DeferExpiry moves a completed export's expiry out to until (never
	// in): storage retains its object until then.
	DeferExpiry(ctx context.Context, tenantID, id string, until time.Time) error
	DeleteExport(ctx context.Context, tenantID, id string) error
	ListExports(ctx context.Context, f ExportListFilter) ([]Export, error)
	// ExportsDue lists exports of every tenant that the sweeper must look at
	// (see DueQuery).
	ExportsDue(ctx context.Context, q DueQuery) ([]Export, error)
	// LatestScheduleRun returns the run of the schedule with the highest
	// chain sequence number; ErrNotFound when none was chained yet.
	LatestScheduleRun(ctx context.Context, tenantID, scheduleID string) (Export, error)
	// FrozenManifest returns the signed manifest frozen on the export
	// (FreezeManifest), nil when none is; ErrNotFound without the export.
	FrozenManifest(ctx context.Context, tenantID, id string) ([]byte, error)
	// FreezeManifest stores manifest on the export unless one is stored
	// already, and returns the one stored: the first freeze wins, so
	// concurrent builders all serve one form.
	FreezeManifest(ctx context.Context, tenantID, id string, manifest []byte) ([]byte, error)
	// ObjectKeysExist reports which of keys are owned by some export record
	// that is not expired (used to find orphaned objects).
	ObjectKeysExist(ctx context.Context, keys []string) (map[string]bool, error)
}

// DueQuery selects exports needing maintenance: completed ones whose
// ExpiresAt is at or before Now; queued ones created before QueuedBefore
// (their task may have been lost); running ones whose heartbeat is before
// SilentBefore (their worker is gone and the queue gave up on the task).
// A zero SilentBefore selects no running export.
type DueQuery struct {
	Now          time.Time
	QueuedBefore time.Time
	SilentBefore time.Time
	Limit        int
}

// Store is everything a SQL backend provides.
type Store interface {
	EventStore
	KeyStore
	ExportStore
	ScheduleStore
	WebhookStore
	RetentionStore
	Ping(ctx context.Context) error
	Close() error
}
