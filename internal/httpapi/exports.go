package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/objstore"
)

// ExportStatus is the JSON view of an export record.
type ExportStatus struct {
	ID          string       `json:"id"`
	Status      string       `json:"status"`
	FileType    string       `json:"file_type"`
	Locale      string       `json:"locale"`
	Timezone    string       `json:"timezone"`
	Filters     audit.Filter `json:"filters"`
	BOM         bool         `json:"bom,omitempty"`
	Delimiter   string       `json:"delimiter,omitempty"`
	Columns     []string     `json:"columns,omitempty"`
	Compression string       `json:"compression,omitempty"`
	RowsWritten int64        `json:"rows_written"`
	RowsTotal   *int64       `json:"rows_total"`
	// RowsEstimate is the database's estimate of an unfinished export's
	// total while rows_total is unknown (PostgreSQL; see withEstimate).
	RowsEstimate *int64     `json:"rows_estimate,omitempty"`
	SizeBytes    *int64     `json:"size_bytes,omitempty"`
	SHA256       string     `json:"sha256,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	StartedAt    *time.Time `json:"started_at,omitempty"`
	CompletedAt  *time.Time `json:"completed_at,omitempty"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
	ScheduleID   string     `json:"schedule_id,omitempty"`
	Occurrence   *time.Time `json:"occurrence,omitempty"`
	// RequestedBy is the key or schedule that asked for the export.
	RequestedBy *audit.Requester `json:"requested_by,omitempty"`
	Error       *ExportFailure   `json:"error,omitempty"`
	StatusURL   string           `json:"status_url"`
	FileURL     string           `json:"file_url"`
	// Warnings name list filter values that match no event of the tenant
	// (see withWarnings).
	Warnings []export.Warning `json:"warnings,omitempty"`
	// AsOf, AsOfPosition and AsOfSnapshot say which snapshot of the
	// tenant's events the export holds (asof.go); absent for exports made
	// before snapshots were recorded.
	AsOf         *time.Time `json:"as_of,omitempty"`
	AsOfPosition *int64     `json:"as_of_position,omitempty"`
	AsOfSnapshot string     `json:"as_of_snapshot,omitempty"`
	// Reused and AgeSeconds answer an export request: whether it got an
	// export made for an earlier identical request, and how old that
	// export's snapshot is.
	Reused     *bool  `json:"reused,omitempty"`
	AgeSeconds *int64 `json:"age_seconds,omitempty"`
}

// ExportFailure says why an export failed.
type ExportFailure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func exportURL(id string) string { return Prefix + "/exports/" + id }

func statusView(e audit.Export) ExportStatus {
	v := ExportStatus{
		ID: e.ID, Status: string(e.Status), FileType: string(e.Params.FileType), Locale: e.Params.Locale,
		Timezone: e.Params.Timezone, Filters: e.Params.Filter, RowsWritten: e.RowsWritten,
		BOM: e.Params.BOM, Delimiter: e.Params.Delimiter, Columns: e.Params.Columns, Compression: string(e.Params.Compression),
		CreatedAt: e.CreatedAt, StartedAt: e.StartedAt, CompletedAt: e.CompletedAt, ExpiresAt: e.ExpiresAt,
		ScheduleID: e.ScheduleID, Occurrence: e.Occurrence, RequestedBy: e.Requester(),
		StatusURL: exportURL(e.ID), FileURL: exportURL(e.ID) + "/file",
	}
	if e.RowsTotal >= 0 {
		t := e.RowsTotal
		v.RowsTotal = &t
	}
	if e.Status == audit.StatusCompleted {
		sz := e.SizeBytes
		v.SizeBytes, v.SHA256 = &sz, e.SHA256
		v.RowsWritten = max(v.RowsWritten, 0)
	}
	if e.Status == audit.StatusFailed {
		v.Error = &ExportFailure{Code: e.ErrorCode, Message: e.ErrorMessage}
	}
	if e.AsOf != nil {
		at, pos := e.AsOf.At, e.AsOf.Snapshot.Position()
		v.AsOf, v.AsOfPosition, v.AsOfSnapshot = &at, &pos, e.AsOf.Snapshot.String()
	}
	return v
}

// exportEvents is GET /events/export: the reference document's endpoint.
// It answers 200 with the file when the export finishes within the wait,
// and 202 with a status URL otherwise; retrying the same URL attaches to the
// same export until its file is there.
func (s *Server) exportEvents(c echo.Context) error {
	params, opts, err := parseExportQuery(c.QueryString())
	if err != nil {
		return err
	}
	opts.RequesterKeyID, opts.RequesterKeyName = keyOf(c).ID, keyOf(c).Name
	if params, err = clampExport(keyOf(c), params); err != nil {
		return err
	}
	wait, err := s.preferredWait(c.Request().Header.Values("Prefer"))
	if err != nil {
		return err
	}
	// Refuse an impossible Accept-Encoding before starting an export whose
	// file could not be sent.
	if _, err := negotiate(c.Request(), codable(params)); err != nil {
		return err
	}
	opts.NoCache = noCache(c.Request())
	out, err := s.cfg.Exports.Answer(c.Request().Context(), export.AnswerRequest{
		TenantID: tenantOf(c), Params: params, Options: opts, Wait: wait,
		Ranged: c.Request().Header.Get("Range") != "",
	})
	if out.Export.ID != "" {
		c.Set(ctxKeyExportID, out.Export.ID)
	}
	if err != nil {
		return err
	}
	s.noteReuse(c, out.Export, out.Created)
	s.withWarnings(c, out.Export)
	defer out.Release()
	switch out.Kind {
	case export.Streaming:
		return s.serveLive(c, out.Export, out.Copy)
	case export.Done:
		return s.serveDone(c, out.Export)
	}
	if wait == 0 && strings.Contains(strings.ToLower(strings.Join(c.Request().Header.Values("Prefer"), ",")), "respond-async") {
		c.Response().Header().Set("Preference-Applied", "respond-async")
	}
	return s.accepted(c, out.Export)
}

// serveDone answers for an export that will not change any more: its file,
// its failure, or that it expired.
func (s *Server) serveDone(c echo.Context, e audit.Export) error {
	switch e.Status {
	case audit.StatusCompleted:
		return s.serveFile(c, e)
	case audit.StatusFailed:
		return failureError(e)
	}
	return audit.Errorf(audit.EGONE, "export %s has expired and its file was deleted; request it again", e.ID)
}

func failureError(e audit.Export) error {
	code := e.ErrorCode
	if _, ok := statusOf[code]; !ok || code == "" {
		code = audit.EINTERNAL
	}
	msg := e.ErrorMessage
	if msg == "" {
		msg = "the export failed"
	}
	// Failed exports are never reused: the next identical request starts
	// afresh, which the message says.
	// No Param: the record keeps a failure's code and message, not which
	// parameter was at fault (the message says what went wrong), and
	// blaming one by the code alone would name file_type for a time zone.
	return &audit.Error{Code: code, Message: fmt.Sprintf("export %s failed: %s", e.ID, msg),
		Details: map[string]string{"export_id": e.ID}}
}

// accepted answers 202 for an export still under way.
func (s *Server) accepted(c echo.Context, e audit.Export) error {
	h := c.Response().Header()
	h.Set(echo.HeaderLocation, exportURL(e.ID))
	h.Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	return c.JSON(http.StatusAccepted, withReuse(c, s.statusWithWarnings(c, e)))
}

// retryAfterSeconds is when a 202 suggests polling again. Exports stream at
// hundreds of thousands of rows a second, so a couple of seconds is the
// right grain for any export, whatever its progress.
const retryAfterSeconds = 2

// preferredWait reads RFC 7240 Prefer: respond-async answers at once,
// wait=N waits up to N seconds (bounded by MaxWait).
func (s *Server) preferredWait(prefs []string) (time.Duration, error) {
	wait := s.cfg.ExportWait
	for _, line := range prefs {
		for _, pref := range strings.Split(line, ",") {
			pref = strings.TrimSpace(pref)
			name, val, _ := strings.Cut(pref, "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "respond-async":
				return 0, nil
			case "wait":
				n, err := strconv.ParseFloat(strings.Trim(strings.TrimSpace(val), `"`), 64)
				if err != nil || n < 0 || math.IsNaN(n) {
					return 0, audit.Invalid("Prefer", "Prefer: wait=N takes a number of seconds, got %q", val)
				}
				// Compare in seconds before converting: a huge or infinite
				// n overflows time.Duration into a negative wait.
				if n >= s.cfg.MaxWait.Seconds() {
					wait = s.cfg.MaxWait
				} else {
					wait = time.Duration(n * float64(time.Second))
				}
			}
		}
	}
	return wait, nil
}

// getExport is GET /exports/{id}: the status document.
func (s *Server) getExport(c echo.Context) error {
	e, err := s.cfg.Store.GetExport(c.Request().Context(), tenantOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.Set(ctxKeyExportID, e.ID)
	s.withWarnings(c, e)
	v := s.statusWithWarnings(c, e)
	v.RowsEstimate = s.estimate(c.Request().Context(), e)
	return c.JSON(http.StatusOK, v)
}

// rowEstimator is a store whose database estimates how many events match
// a filter without reading them (sqlstore on PostgreSQL).
type rowEstimator interface {
	EstimateEvents(ctx context.Context, f audit.Filter) (n int64, ok bool, err error)
}

// estimate is the total to show for unfinished export e while its count is
// unknown: the planner's estimate, never below the rows already written;
// nil when there is a count, or no estimate. The worker does not count
// where the database estimates (export.Runner), so that progress does not
// cost a second read of every row; the estimate costs a query plan, made
// only when someone asks for the status.
func (s *Server) estimate(ctx context.Context, e audit.Export) *int64 {
	est, ok := s.cfg.Store.(rowEstimator)
	if !ok || e.Status.Done() || e.RowsTotal >= 0 {
		return nil
	}
	n, ok, err := est.EstimateEvents(ctx, export.ReadFilter(e))
	if err != nil {
		s.logger.WarnContext(ctx, "estimate export rows", "export_id", e.ID, "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	n = max(n, e.RowsWritten)
	return &n
}

// getExportFile is GET /exports/{id}/file.
func (s *Server) getExportFile(c echo.Context) error {
	e, err := s.cfg.Store.GetExport(c.Request().Context(), tenantOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.Set(ctxKeyExportID, e.ID)
	s.withWarnings(c, e)
	if e.Status.Done() {
		return s.serveDone(c, e)
	}
	return &audit.Error{Code: audit.ECONFLICT, Message: fmt.Sprintf("export %s is %s; its file is not ready yet", e.ID, e.Status),
		Details: statusView(e)}
}

// serveFile streams a completed export's object. http.ServeContent does
// Range, If-Range and conditional requests; the lazy ReadSeeker fetches only
// the bytes asked for. A storage failure mid-body aborts the connection, so
// a truncated file can never pass for a complete 200.
//
// A text file is content-coded when Accept-Encoding asks (negotiate): the
// stored bytes go through the same verifying reader, coded on the way out
// (codedWriter), and the coded stream is ended only once they matched
// their digest. X-Checksum-SHA256 always states the stored (decoded)
// file's SHA-256; ETag and Repr-Digest describe the representation sent.
func (s *Server) serveFile(c echo.Context, e audit.Export) error {
	ctx := c.Request().Context()
	cod, err := negotiate(c.Request(), codable(e.Params))
	if err != nil {
		return err
	}
	info, err := s.cfg.Files.Stat(ctx, e.ObjectKey)
	if errors.Is(err, audit.ErrNotFound) {
		return audit.Errorf(audit.EGONE, "the file of export %s is no longer stored", e.ID)
	}
	if err != nil {
		return fmt.Errorf("httpapi: stat %s: %w", e.ObjectKey, err)
	}
	if info.Size != e.SizeBytes {
		return fmt.Errorf("httpapi: object %s has %d bytes, the record says %d", e.ObjectKey, info.Size, e.SizeBytes)
	}
	w, r := c.Response(), c.Request()
	h := w.Header()
	h.Set(echo.HeaderContentType, contentTypeOf(e))
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, Filename(e)))
	if codable(e.Params) {
		h.Add("Vary", "Accept-Encoding")
	}
	h.Set("ETag", etagOf(e.SHA256, cod))
	if sum, err := hex.DecodeString(e.SHA256); err == nil && cod == identity {
		// RFC 9530: the digest of the whole file, also on a 206. A coded
		// body's comes as a trailer: it is the coded bytes'.
		h.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":")
	}
	h.Set("X-Checksum-SHA256", e.SHA256)
	h.Set("X-Export-Id", e.ID)
	h.Set("X-Export-Rows", strconv.FormatInt(e.RowsWritten, 10))
	h.Set("Cache-Control", "private, no-transform")
	setAsOfHeaders(h, e)
	// A large download may take longer than the server's write timeout.
	_ = http.NewResponseController(w.Writer).SetWriteDeadline(time.Time{})

	rs := objstore.NewReadSeeker(ctx, s.cfg.Files, e.ObjectKey, info.Size)
	defer rs.Close()
	modified := e.CreatedAt
	if e.CompletedAt != nil {
		modified = *e.CompletedAt
	}
	vr := newVerifyingReader(rs, info.Size, e.SHA256)
	var out http.ResponseWriter = &jsonStatusWriter{ResponseWriter: w, requestID: h.Get(echo.HeaderXRequestID), req: r}
	var coded *codedWriter
	if cod != identity {
		coded = &codedWriter{ResponseWriter: out, c: cod, head: r.Method == http.MethodHead}
		out = coded
	}
	http.ServeContent(out, r, "", modified, vr)
	if vr.Mismatch() {
		s.corrupted(ctx, e)
		panic(http.ErrAbortHandler)
	}
	if err := rs.Err(); err != nil {
		s.logger.ErrorContext(ctx, "download aborted: storage failed mid-stream", "export_id", e.ID,
			"request_id", h.Get(echo.HeaderXRequestID), "err", err)
		panic(http.ErrAbortHandler)
	}
	if coded != nil {
		if err := coded.finish(info.Size); errors.Is(err, errShortCoded) {
			if ctx.Err() == nil { // not merely a client that went away
				s.logger.ErrorContext(ctx, "coded download aborted: the file read short", "export_id", e.ID,
					"request_id", h.Get(echo.HeaderXRequestID), "bytes", coded.n, "size", info.Size)
			}
			panic(http.ErrAbortHandler)
		}
		// Any other error: the client went away, nobody to answer.
	}
	return nil
}

// contentTypeOf is the media type of e's file: the one it was stored with.
func contentTypeOf(e audit.Export) string {
	if e.ContentType != "" {
		return e.ContentType
	}
	return export.ContentTypeOf(e.Params) // a record that does not say
}

// Filename is the download name: what, when and which export, so a folder of
// downloads sorts and explains itself.
func Filename(e audit.Export) string {
	at := e.CreatedAt
	if e.CompletedAt != nil {
		at = *e.CompletedAt
	}
	return FilenameOf(e.TenantID, e.ID, at, e.Params)
}

// FilenameOf is Filename from the parts a manifest states too (tenant,
// export id, completion time, parameters): `sentinelctl verify --chain`
// finds a run's file beside its manifest by it.
func FilenameOf(tenantID, exportID string, at time.Time, p audit.ExportParams) string {
	short := exportID
	if len(short) > 8 {
		short = short[len(short)-8:]
	}
	return fmt.Sprintf("audit-events_%s_%s_%s.%s", tenantID, at.UTC().Format("20060102T150405Z"), short, export.Extension(p))
}
