package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/errgroup"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/live"
	"github.com/auditsentinel/sentinel/internal/objstore"
	"github.com/auditsentinel/sentinel/internal/render"
	"github.com/auditsentinel/sentinel/internal/tracing"
)

// RunStore is what a run needs from the SQL store.
type RunStore interface {
	GetExport(ctx context.Context, tenantID, id string) (audit.Export, error)
	StartExport(ctx context.Context, tenantID, id string, at time.Time, rowsTotal int64) (audit.Export, error)
	UpdateProgress(ctx context.Context, tenantID, id string, rowsWritten int64, at time.Time) error
	CompleteExport(ctx context.Context, tenantID, id string, r audit.ExportResult, at, expiresAt time.Time) error
	FailExport(ctx context.Context, tenantID, id, code, message string, at time.Time) error
	StreamEventRows(ctx context.Context, f audit.Filter, fn func([]audit.EventRow) error) error
	CountEvents(ctx context.Context, f audit.Filter, limit int64) (int64, error)
	SetRowsTotal(ctx context.Context, tenantID, id string, attempt int, rowsTotal int64) error
}

// PolicyReader reads a tenant's retention policy.
type PolicyReader interface {
	GetRetention(ctx context.Context, tenantID string) (audit.RetentionPolicy, error)
}

// Bucket is where files go.
type Bucket interface {
	objstore.Writer
	objstore.UploadJanitor
}

// Runner is the run side: it produces the file of an export the queue
// hands a worker. It streams the matching events from the store through a
// renderer into object storage, records progress as it goes and, at the
// end, the object's size, row count and SHA-256. Run is idempotent, because
// the queue may deliver a task twice.
type Runner struct {
	Store     RunStore
	Bucket    Bucket
	Renderers render.Registry
	Logger    *slog.Logger
	Now       func() time.Time
	// Retention is how long a completed export is kept unless the export
	// carries its own RetentionDays.
	Retention    time.Duration
	PDFMaxEvents int64
	// ProgressEvery throttles progress writes (default 1s).
	ProgressEvery time.Duration
	// HeartbeatEvery is how often a run proves it is alive even when no row
	// flows (a slow query plan); default 30s. The sweeper fails exports
	// silent for much longer (see Sweeper.SilentRunning).
	HeartbeatEvery time.Duration
	// CountAfter is how long a CSV runs before its rows are counted for
	// progress reporting (default 2s; negative: at once), on a store that
	// does not estimate totals (SQLite; see EstimatesEvents). Counting costs
	// the database a scan of every matching row (a parallel one, on
	// PostgreSQL) while the export itself reads them: an export that is
	// over within seconds does not need a progress bar and should not pay.
	CountAfter time.Duration
	// Live, when set, relays a CSV's bytes to the API while it renders
	// (package live), so a waiting GET can answer before the file is
	// stored.
	Live *live.Publisher
	// Metrics counts attempts, completions, rows and bytes; nil: none.
	Metrics *Metrics
	// Version is this worker's version, recorded with each file it makes
	// (the manifest names it as the file's producer).
	Version string
	// ScheduleName, when set, names the schedule that fired an export, for
	// the title block of its PDF. A failure only leaves the name out: the
	// file is the same otherwise, and the schedule may have been deleted.
	ScheduleName func(ctx context.Context, tenantID, scheduleID string) (string, error)
	// Tracer traces the database stream and the upload of each run, as
	// children of the task's span; nil traces nothing.
	Tracer trace.TracerProvider
	// Policies, when set, reads the tenant's archive minimum retention: a
	// completed export never expires before it ends.
	Policies PolicyReader
}

// tracerName names the spans this package starts.
const tracerName = "github.com/auditsentinel/sentinel/internal/export"

// startSpan starts one of a run's spans; end records the error, if any.
// The stream and the upload are siblings under the task: they run at the
// same time, bytes flowing from one to the other through a pipe.
func (r *Runner) startSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span, func(error)) {
	ctx, span := tracing.Tracer(r.Tracer, tracerName).Start(ctx, name, trace.WithAttributes(attrs...))
	return ctx, span, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, name+" failed")
		}
		span.End()
	}
}

// ObjectKey is where an export's file lives. The tenant is part of the key
// so that even a bug in a query cannot hand one tenant another's object
// under its own prefix, and a retry writes the same key.
func ObjectKey(e audit.Export) string {
	return fmt.Sprintf("tenants/%s/exports/%s.%s", e.TenantID, e.ID, Extension(e.Params))
}

// ContentType returns the media type of a file type.
func ContentType(t audit.FileType) string {
	switch t {
	case audit.FilePDF:
		return "application/pdf"
	case audit.FileNDJSON:
		return "application/x-ndjson"
	case audit.FileParquet:
		return "application/vnd.apache.parquet"
	}
	return "text/csv; charset=utf-8"
}

// ContentTypeOf returns the media type of the file p describes. A
// compressed file is the compressor's type (application/gzip, RFC 6713;
// application/zstd, RFC 8878), not the CSV's with a Content-Encoding: the
// file is stored, signed and handed over compressed, and a browser or an
// HTTP client that saw Content-Encoding would decode it on the way and keep
// bytes whose digest is not the manifest's.
func ContentTypeOf(p audit.ExportParams) string {
	switch p.Compression {
	case audit.CompressGzip:
		return "application/gzip"
	case audit.CompressZstd:
		return "application/zstd"
	}
	return ContentType(p.FileType)
}

// Extension is the file name extension of the file p describes: the file
// type, then the compression's (csv.gz, ndjson.zst).
func Extension(p audit.ExportParams) string {
	switch p.Compression {
	case audit.CompressGzip:
		return string(p.FileType) + ".gz"
	case audit.CompressZstd:
		return string(p.FileType) + ".zst"
	}
	return string(p.FileType)
}

// Streams reports whether an export of p is relayed live while it renders
// (see Runner.Live): the formats written row by row, whose first bytes are
// final as soon as they are written. A PDF is laid out at the end; a
// Parquet file is readable only once its footer, written last, is there.
func Streams(p audit.ExportParams) bool {
	return p.FileType == audit.FileCSV || p.FileType == audit.FileNDJSON
}

// Permanent reports whether err must not be retried: the export can never
// succeed as asked (a client-side code such as EINVALID).
func Permanent(err error) bool {
	switch audit.ErrorCode(err) {
	case audit.EINVALID, audit.ENOTFOUND, audit.ETOOLARGE, audit.ENOTIMPLEMENTED:
		return true
	}
	return false
}

// ReadFilter is the filter a run of e reads: its parameters' filter, scoped
// to e's tenant, at the snapshot e was created at (every attempt reads the
// same events, the same bytes, however much was ingested since), with the
// late arrivals a scheduled run's predecessor did not see (audit.LateRule).
func ReadFilter(e audit.Export) audit.Filter {
	f := e.Params.Filter
	f.TenantID = e.TenantID
	if e.AsOf != nil {
		f.AsOf = &e.AsOf.Snapshot
	}
	f.Late = e.Chain.Late()
	return f
}

// Run produces the file of export id. It returns nil when the export is
// already done (a duplicate delivery) and a Permanent error when it can
// never succeed; the caller decides about retries and calls Fail when it
// gives up.
func (r *Runner) Run(ctx context.Context, tenantID, id string) (err error) {
	log := r.Logger.With("export_id", id, "tenant", tenantID)
	e, err := r.Store.GetExport(ctx, tenantID, id)
	if err != nil {
		return fmt.Errorf("export: load %s: %w", id, err)
	}
	if e.Status.Done() {
		log.InfoContext(ctx, "export already done; duplicate delivery ignored", "status", e.Status)
		return nil
	}
	e.TenantID = tenantID // never trust anything but the record's tenant
	p := e.Params
	p.Filter = ReadFilter(e)
	loc, err := LoadLocation(p.Timezone)
	if err != nil {
		return err
	}
	if _, ok := r.Renderers[p.FileType]; !ok {
		return audit.Errorf(audit.ENOTIMPLEMENTED, "file_type %s is not supported by this worker", p.FileType)
	}

	// A PDF needs its count first (its title block, and the cap: the API
	// checked it before queueing, but events may have arrived since, and a
	// truncated PDF must not be rendered). A CSV does not: it is counted
	// beside the run, for progress only, instead of delaying its first row.
	total := int64(-1)
	if p.FileType == audit.FilePDF {
		if total, err = r.Store.CountEvents(ctx, p.Filter, r.PDFMaxEvents+1); err != nil {
			return fmt.Errorf("export: count: %w", err)
		}
		if total > r.PDFMaxEvents {
			return audit.Invalid("file_type", "a PDF export holds at most %d events and this request now matches more; "+
				"use file_type=csv or narrow the filters", r.PDFMaxEvents)
		}
	}
	if e, err = r.Store.StartExport(ctx, tenantID, id, r.Now().UTC(), total); errors.Is(err, audit.ErrConflict) {
		return nil // finished by another delivery meanwhile
	} else if err != nil {
		return fmt.Errorf("export: start: %w", err)
	}
	log.InfoContext(ctx, "export started", "attempt", e.Attempts, "rows_total", total, "file_type", p.FileType)
	defer r.Metrics.attemptStarted(string(p.FileType))()

	key := ObjectKey(e)
	r.abortLeftovers(ctx, log, key)

	started := r.Now()
	var rows atomic.Int64
	stopBeat := r.heartbeat(ctx, e, &rows, log)
	stopCount := func() {}
	if est, ok := r.Store.(interface{ EstimatesEvents() bool }); total < 0 && (!ok || !est.EstimatesEvents()) {
		// Where the database estimates totals (PostgreSQL's planner), the
		// status document carries its estimate instead (httpapi): a count
		// would read every matching row a second time while the run reads
		// them, doubling the database's share of a long export.
		stopCount = r.countBeside(ctx, e, p.Filter, log)
	}
	res, rendered, err := r.render(ctx, e, p, loc, total, key, log, &rows)
	stopCount()
	stopBeat()
	if err != nil {
		return err
	}
	at := r.Now().UTC()
	retention := r.Retention
	if e.RetentionDays > 0 {
		retention = time.Duration(e.RetentionDays) * 24 * time.Hour
	}
	expires := at.Add(retention)
	if r.Policies != nil {
		// The expiry sweep must not delete what DELETE would refuse.
		p, err := r.Policies.GetRetention(ctx, tenantID)
		if err != nil {
			return fmt.Errorf("export: retention policy: %w", err)
		}
		done := e
		done.CompletedAt = &at
		if until, ok := p.LockedUntil(done); ok && until.After(expires) {
			expires = until
		}
	}
	if err := r.Store.CompleteExport(ctx, tenantID, id, res, at, expires); err != nil {
		return fmt.Errorf("export: complete: %w", err)
	}
	now := r.Now()
	took := now.Sub(started)
	r.Metrics.exportCompleted(string(p.FileType), took, now.Sub(rendered), res.Rows, res.SizeBytes)
	// render_ms is the start to the last byte rendered; store_ms the rest,
	// until the file is stored and recorded: the object store finishing the
	// upload (S3's CompleteMultipartUpload; a server that assembles the
	// parts by copying them takes time in proportion to the file) and the
	// database recording it. A waiting GET ends only after both.
	log.InfoContext(ctx, "export completed", "rows", res.Rows, "bytes", res.SizeBytes, "sha256", res.SHA256,
		"duration_ms", took.Milliseconds(), "render_ms", rendered.Sub(started).Milliseconds(),
		"store_ms", now.Sub(rendered).Milliseconds())
	return nil
}

// countBeside counts the export's rows, once it has run for CountAfter,
// and records the total for progress reporting. Stopping it (before the
// run is recorded complete) cancels a count still waiting or running: the
// run's own figure wins.
func (r *Runner) countBeside(ctx context.Context, e audit.Export, f audit.Filter, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	after := r.CountAfter
	if after == 0 {
		after = 2 * time.Second
	}
	go func() {
		defer close(done)
		if after > 0 {
			t := time.NewTimer(after)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
		n, err := r.Store.CountEvents(ctx, f, 0)
		if err == nil {
			err = r.Store.SetRowsTotal(ctx, e.TenantID, e.ID, e.Attempts, n)
		}
		if err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "count rows for progress", "err", err)
		}
	}()
	return func() { cancel(); <-done }
}

// abortLeftovers removes the multipart upload a crashed earlier attempt may
// have left for this key, so nothing half-written outlives the retry.
func (r *Runner) abortLeftovers(ctx context.Context, log *slog.Logger, key string) {
	ups, err := r.Bucket.ListIncompleteUploads(ctx, key)
	if err != nil {
		log.WarnContext(ctx, "list incomplete uploads", "key", key, "err", err)
		return
	}
	for _, u := range ups {
		if u.Key != key {
			continue
		}
		if err := r.Bucket.AbortIncompleteUpload(ctx, u); err != nil {
			log.WarnContext(ctx, "abort leftover upload", "key", key, "upload_id", u.UploadID, "err", err)
			continue
		}
		log.InfoContext(ctx, "aborted upload left by an earlier attempt", "key", key, "upload_id", u.UploadID)
	}
}

// lockUntil is the retain-until date storage should keep e's file to
// (S3 Object Lock): the end of its minimum retention counted from now,
// which is never after the end the service counts from completion, so
// storage never refuses a deletion the API allows. Zero: none.
func (r *Runner) lockUntil(ctx context.Context, e audit.Export) (time.Time, error) {
	if r.Policies == nil {
		return time.Time{}, nil
	}
	p, err := r.Policies.GetRetention(ctx, e.TenantID)
	if err != nil {
		return time.Time{}, fmt.Errorf("export: retention policy: %w", err)
	}
	now := r.Now().UTC()
	e.CompletedAt = &now
	until, _ := p.LockedUntil(e)
	return until, nil
}

// render streams events → renderer → pipe → upload, hashing and counting
// the bytes on their way to storage. rendered is when the last byte was
// rendered, before the upload finished.
func (r *Runner) render(ctx context.Context, e audit.Export, p audit.ExportParams, loc *time.Location,
	total int64, key string, log *slog.Logger, rows *atomic.Int64) (_ audit.ExportResult, rendered time.Time, _ error) {
	until, err := r.lockUntil(ctx, e)
	if err != nil {
		return audit.ExportResult{}, rendered, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	pr, pw := io.Pipe()
	type upResult struct {
		info objstore.ObjectInfo
		err  error
	}
	upDone := make(chan upResult, 1)
	contentType := ContentTypeOf(p)
	go func() {
		ctx, span, end := r.startSpan(ctx, "upload", attribute.String("object.key", key),
			attribute.String("content_type", contentType))
		var info objstore.ObjectInfo
		var err error
		if rw, ok := r.Bucket.(objstore.RetainingWriter); ok && !until.IsZero() {
			info, err = rw.UploadRetained(ctx, key, pr, contentType, until)
		} else {
			info, err = r.Bucket.Upload(ctx, key, pr, contentType)
		}
		// Unblock the writer whatever happened to the upload.
		pr.CloseWithError(fmt.Errorf("upload ended: %w", errOrEOF(err)))
		span.SetAttributes(attribute.Int64("object.size", info.Size))
		end(err)
		upDone <- upResult{info, err}
	}()

	h := sha256.New()
	out := []io.Writer{pw, h}
	var feed *live.Feed
	if r.Live != nil && Streams(p) {
		feed = r.Live.Start(ctx, e.ID, e.Attempts)
		out = append(out, feed)
	}
	cw := &render.Counter{W: io.MultiWriter(out...)}
	// The renderer writes through the compressor, when there is one: what
	// is hashed, counted, relayed and stored is the compressed file.
	zw, err := compressor(p.Compression, cw)
	if err != nil {
		pw.CloseWithError(err)
		cancel()
		<-upDone
		return audit.ExportResult{}, rendered, err
	}
	rep := render.Report{
		ExportID:    e.ID,
		TenantID:    e.TenantID,
		Params:      p,
		Location:    loc,
		GeneratedAt: r.Now().UTC(),
		EventCount:  total,
		ScheduleID:  e.ScheduleID,
	}
	if e.AsOf != nil {
		rep.AsOf, rep.AsOfPosition = e.AsOf.At, strconv.FormatInt(e.AsOf.Snapshot.Position(), 10)
	}
	if e.ScheduleID != "" && r.ScheduleName != nil && p.FileType == audit.FilePDF {
		name, err := r.ScheduleName(ctx, e.TenantID, e.ScheduleID)
		if err != nil {
			log.WarnContext(ctx, "name the schedule in the report", "schedule_id", e.ScheduleID, "err", err)
		}
		rep.Name = name
	}
	res := audit.ExportResult{ObjectKey: key, ContentType: contentType, ProducerVersion: r.Version}
	renderErr := r.pipeline(ctx, e, p.Filter, rep, zw, &res, rows, log)
	if renderErr == nil {
		if err := zw.Close(); err != nil {
			renderErr = fmt.Errorf("export: finish %s compression: %w", p.Compression, err)
		}
	}
	rendered = r.Now()
	if feed != nil {
		// Every byte is rendered: readers get the last of them now, not
		// after the upload has finished.
		feed.Close(context.WithoutCancel(ctx))
	}
	if renderErr != nil {
		pw.CloseWithError(renderErr)
		cancel() // the upload must abort, not complete with what it has
		<-upDone
		return res, rendered, renderErr
	}
	pw.Close()
	up := <-upDone
	if up.err != nil {
		return res, rendered, fmt.Errorf("export: upload %s: %w", key, up.err)
	}
	if up.info.Size != cw.N {
		return res, rendered, fmt.Errorf("export: stored %d bytes of %d for %s", up.info.Size, cw.N, key)
	}
	res.SizeBytes = cw.N
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	return res, rendered, nil
}

// pipeline reads events in one goroutine and renders them in another, so
// the two halves of an export's CPU (reading rows; formatting and hashing)
// use two cores. The store hands over batches the reader may pass on as
// they are. Either side's error stops both.
func (r *Runner) pipeline(ctx context.Context, e audit.Export, f audit.Filter, rep render.Report, w io.Writer,
	res *audit.ExportResult, rows *atomic.Int64, log *slog.Logger) error {
	rd, err := r.Renderers.Open(rep, w)
	if err != nil {
		return err
	}
	write := rowWriter(rd, e.TenantID)
	g, gctx := errgroup.WithContext(ctx)
	// Two batches may wait: enough that neither side waits on the
	// other's hiccups, few enough that an export holds little (each is
	// some 300 KiB of rows, doubled by the collector's headroom; four
	// were a tenth of what each concurrent export added, issue 12).
	batches := make(chan []audit.EventRow, 2)
	g.Go(func() (err error) {
		defer close(batches)
		sctx, span, end := r.startSpan(gctx, "stream events", attribute.String("file_type", string(rep.Params.FileType)))
		var n int64
		defer func() { span.SetAttributes(attribute.Int64("rows", n)); end(err) }()
		err = r.Store.StreamEventRows(sctx, f, func(batch []audit.EventRow) error {
			select {
			case batches <- batch:
				n += int64(len(batch))
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
		if err != nil {
			return fmt.Errorf("export: stream events: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		every := r.ProgressEvery
		if every <= 0 {
			every = time.Second
		}
		lastProgress := r.Now()
		for batch := range batches {
			for i := range batch {
				if err := write(&batch[i]); err != nil {
					return err
				}
			}
			if res.Rows == 0 {
				res.FirstEventID = batch[0].ID
			}
			res.LastEventID = batch[len(batch)-1].ID
			res.Rows += int64(len(batch))
			rows.Store(res.Rows)
			if now := r.Now(); now.Sub(lastProgress) >= every {
				lastProgress = now
				if err := r.Store.UpdateProgress(gctx, e.TenantID, e.ID, res.Rows, now.UTC()); err != nil {
					log.WarnContext(ctx, "record progress", "err", err)
				}
			}
		}
		if err := gctx.Err(); err != nil {
			return err // the reader failed: do not finish the file
		}
		return rd.Close()
	})
	return g.Wait()
}

// rowWriter is how rows reach rd: as they are when rd is a
// render.RowWriter (CSV), as domain events otherwise (PDF).
func rowWriter(rd render.Renderer, tenantID string) func(*audit.EventRow) error {
	if rw, ok := rd.(render.RowWriter); ok {
		return rw.WriteRow
	}
	return func(row *audit.EventRow) error {
		ev, err := row.Event(tenantID)
		if err != nil {
			return err
		}
		return rd.WriteEvent(ev)
	}
}

// heartbeat records progress every HeartbeatEvery until stopped, so a run
// that is alive is never mistaken for a lost one.
func (r *Runner) heartbeat(ctx context.Context, e audit.Export, rows *atomic.Int64, log *slog.Logger) (stop func()) {
	every := r.HeartbeatEvery
	if every <= 0 {
		every = 30 * time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := r.Store.UpdateProgress(ctx, e.TenantID, e.ID, rows.Load(), r.Now().UTC()); err != nil && ctx.Err() == nil {
					log.WarnContext(ctx, "heartbeat", "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

func errOrEOF(err error) error {
	if err == nil {
		return io.EOF
	}
	return err
}
