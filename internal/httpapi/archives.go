package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/manifest"
	"github.com/auditsentinel/sentinel/internal/objstore"
)

// ArchiveStore is what the archive endpoints need from the SQL store.
type ArchiveStore interface {
	ListExports(ctx context.Context, f audit.ExportListFilter) ([]audit.Export, error)
	// RetireArchive deletes a finished export's record and, through
	// remove, its file, atomically with guard (audit.RetentionStore).
	RetireArchive(ctx context.Context, tenantID, id string, expireAt *time.Time, guard audit.ArchiveGuard,
		remove func(audit.Export) error) (audit.Export, error)
	// The manifests of scheduled runs are frozen on their records.
	manifest.IssueStore
}

// ObjectDeleter removes stored files (DELETE /exports/{id}).
type ObjectDeleter interface {
	Delete(ctx context.Context, key string) error
}

// Listing and link limits.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500

	DefaultDownloadURLTTL = 15 * time.Minute
	MinDownloadURLTTL     = time.Minute
	MaxDownloadURLTTL     = 24 * time.Hour
)

var listQueryParams = []string{"created_from", "created_to", "cursor", "file_type", "limit", "requested_by", "schedule_id", "status"}

var exportStatuses = []string{
	string(audit.StatusQueued), string(audit.StatusRunning), string(audit.StatusCompleted),
	string(audit.StatusFailed), string(audit.StatusExpired),
}

// ArchiveEntry is one export in a listing: the status document plus the
// links that only make sense for a stored file.
type ArchiveEntry struct {
	ExportStatus
	ManifestURL string `json:"manifest_url,omitempty"`
	// PresignURL hands out a presigned download link (S3 storage only).
	PresignURL string `json:"presign_url,omitempty"`
}

// ArchiveList is a page of the listing. NextCursor is empty on the last
// page.
type ArchiveList struct {
	Exports    []ArchiveEntry `json:"exports"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

// archiveEntry lists e; the presign link only where storage can presign,
// so clients are never pointed at a 501.
func archiveEntry(e audit.Export, canPresign bool) ArchiveEntry {
	a := ArchiveEntry{ExportStatus: statusView(e)}
	if e.Status == audit.StatusCompleted {
		a.ManifestURL = exportURL(e.ID) + "/manifest"
		if canPresign {
			a.PresignURL = exportURL(e.ID) + "/download-url"
		}
	}
	return a
}

// cursor is where a listing continues: strictly after this (created_at,
// id) in the newest-first order. It travels as base64url JSON, which
// clients treat as opaque.
type cursor struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"id"`
}

func (c cursor) encode() string { return encodeCursor(c) }

func decodeCursor(s string) (cursor, error) {
	return decodeOpaque(s, func(c cursor) bool { return c.ID != "" && !c.CreatedAt.IsZero() })
}

// encodeCursor turns a cursor struct into the opaque token clients pass
// back (base64url JSON).
func encodeCursor(v any) string {
	b, _ := json.Marshal(v) // cursor structs hold times, strings and ints: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeOpaque reads a token made by encodeCursor; anything else, or a
// cursor that valid refuses, is a 400 naming the cursor parameter.
func decodeOpaque[T any](s string, valid func(T) bool) (T, error) {
	var v T
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err != nil || !valid(v) {
		var zero T
		return zero, audit.Invalid("cursor", "cursor is not one this API returned; pass next_cursor unchanged")
	}
	return v, nil
}

// parseListQuery reads the listing's query string. Unknown parameters are
// refused, as on the export endpoint: a typo must not list everything.
func parseListQuery(raw string) (audit.ExportListFilter, error) {
	f := audit.ExportListFilter{Limit: DefaultListLimit}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return f, audit.Invalid("query", "the query string is malformed: %v", unwrapURLError(err))
	}
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range q {
			if !yield(k) {
				return
			}
		}
	}) {
		vals := q[key]
		name := strings.TrimSuffix(key, "[]")
		if name != "status" && name != key {
			return f, audit.Invalid(key, "%s takes one value, not a list", name)
		}
		if name != "status" {
			if _, err := single(name, vals); err != nil {
				return f, err
			}
		}
		v := vals[0]
		switch name {
		case "status":
			for _, v := range vals {
				for s := range strings.SplitSeq(v, ",") {
					s = strings.ToLower(strings.TrimSpace(s))
					if !slices.Contains(exportStatuses, s) {
						return f, &audit.Error{Code: audit.EINVALID, Param: "status", Allowed: exportStatuses,
							Message: fmt.Sprintf("unknown status %q; allowed: %s", s, strings.Join(exportStatuses, ", "))}
					}
					if !slices.Contains(f.Status, audit.ExportStatus(s)) {
						f.Status = append(f.Status, audit.ExportStatus(s))
					}
				}
			}
		case "file_type":
			ft := strings.ToLower(v)
			if !slices.Contains(audit.FileTypes, ft) {
				return f, &audit.Error{Code: audit.EINVALID, Param: "file_type", Allowed: audit.FileTypes,
					Message: fmt.Sprintf("unknown file_type %q; allowed: %s", v, strings.Join(audit.FileTypes, ", "))}
			}
			f.FileType = audit.FileType(ft)
		case "schedule_id":
			f.ScheduleID = v
		case "requested_by":
			// The form self-audit events name their actor with.
			switch kind, id, _ := strings.Cut(v, ":"); {
			case kind == "key" && id != "":
				f.RequesterKeyID = id
			case kind == "schedule" && id != "":
				f.ScheduleID = id
			default:
				return f, audit.Invalid("requested_by", "requested_by is key:<key id> or schedule:<schedule id>, got %q", v)
			}
		case "created_from", "created_to":
			t, err := export.ParseTime(name, v)
			if err != nil {
				return f, err
			}
			if name == "created_from" {
				f.CreatedFrom = &t
			} else {
				f.CreatedTo = &t
			}
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxListLimit {
				return f, audit.Invalid("limit", "limit must be an integer from 1 to %d, got %q", MaxListLimit, v)
			}
			f.Limit = n
		case "cursor":
			c, err := decodeCursor(v)
			if err != nil {
				return f, err
			}
			f.AfterCreatedAt, f.AfterID = &c.CreatedAt, c.ID
		default:
			return f, &audit.Error{Code: audit.EINVALID, Param: key, Allowed: listQueryParams,
				Message: fmt.Sprintf("unknown query parameter %q; allowed: %s", key, strings.Join(listQueryParams, ", "))}
		}
	}
	if f.CreatedFrom != nil && f.CreatedTo != nil && f.CreatedTo.Before(*f.CreatedFrom) {
		return f, audit.Invalid("created_to", "created_to is before created_from")
	}
	return f, nil
}

// listExports is GET /exports: the tenant's exports, newest first.
func (s *Server) listExports(c echo.Context) error {
	f, err := parseListQuery(c.QueryString())
	if err != nil {
		return err
	}
	f.TenantID = tenantOf(c)
	limit := f.Limit
	f.Limit = limit + 1 // one more tells whether there is a next page
	list, err := s.cfg.Archives.ListExports(c.Request().Context(), f)
	if err != nil {
		return err
	}
	_, canPresign := s.cfg.Files.(objstore.Presigner)
	out := ArchiveList{Exports: make([]ArchiveEntry, 0, min(len(list), limit))}
	for i, e := range list {
		if i == limit {
			last := list[limit-1]
			out.NextCursor = cursor{CreatedAt: last.CreatedAt, ID: last.ID}.encode()
			break
		}
		// A windowed key does not see exports beyond its window; a page
		// may then hold fewer than limit, and next_cursor still goes on.
		if visibleTo(keyOf(c), e) {
			out.Exports = append(out.Exports, archiveEntry(e, canPresign))
		}
	}
	if out.NextCursor != "" {
		q := c.QueryParams()
		q.Set("cursor", out.NextCursor)
		c.Response().Header().Set("Link", fmt.Sprintf(`<%s/exports?%s>; rel="next"`, Prefix, q.Encode()))
	}
	return c.JSON(http.StatusOK, out)
}

// completedExport loads export {id} and insists that its file is there to
// be had.
func (s *Server) completedExport(c echo.Context) (audit.Export, error) {
	e, err := s.cfg.Store.GetExport(c.Request().Context(), tenantOf(c), c.Param("id"))
	if err != nil {
		return e, err
	}
	c.Set(ctxKeyExportID, e.ID)
	switch e.Status {
	case audit.StatusCompleted:
		return e, nil
	case audit.StatusFailed:
		return e, failureError(e)
	case audit.StatusExpired:
		return e, audit.Errorf(audit.EGONE, "export %s has expired and its file was deleted", e.ID)
	}
	return e, &audit.Error{Code: audit.ECONFLICT, Message: fmt.Sprintf("export %s is %s; its file is not ready yet", e.ID, e.Status),
		Details: statusView(e)}
}

// DownloadURL is the answer of GET /exports/{id}/download-url.
type DownloadURL struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
	SizeBytes int64     `json:"size_bytes"`
	SHA256    string    `json:"sha256"`
	Filename  string    `json:"filename"`
}

// downloadURL is GET /exports/{id}/download-url: a presigned link that
// fetches the file straight from S3 without an API key.
func (s *Server) downloadURL(c echo.Context) error {
	ttl := DefaultDownloadURLTTL
	for k, vs := range c.QueryParams() {
		if k != "ttl" {
			return &audit.Error{Code: audit.EINVALID, Param: k, Allowed: []string{"ttl"},
				Message: fmt.Sprintf("unknown query parameter %q; allowed: ttl", k)}
		}
		v, err := single("ttl", vs)
		if err != nil {
			return err
		}
		if ttl, err = parseTTL(v); err != nil {
			return err
		}
	}
	e, err := s.completedExport(c)
	if err != nil {
		return err
	}
	p, ok := s.cfg.Files.(objstore.Presigner)
	if !ok {
		return audit.Errorf(audit.ENOTIMPLEMENTED,
			"presigned download links need S3 storage (STORAGE_URL=s3://…); this deployment stores files locally, use %s/file",
			exportURL(e.ID))
	}
	// A link never outlives the file it points at.
	if e.ExpiresAt != nil {
		left := e.ExpiresAt.Sub(s.cfg.Now())
		if left <= 0 {
			return audit.Errorf(audit.EGONE, "export %s has expired; its file is about to be deleted", e.ID)
		}
		ttl = min(ttl, left)
	}
	u, exp, err := p.PresignGet(c.Request().Context(), e.ObjectKey, ttl, Filename(e))
	if err != nil {
		return fmt.Errorf("httpapi: presign %s: %w", e.ObjectKey, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, DownloadURL{URL: u, ExpiresAt: exp.UTC(), SizeBytes: e.SizeBytes, SHA256: e.SHA256, Filename: Filename(e)})
}

// parseTTL reads a link lifetime: seconds ("900") or a Go duration ("15m").
func parseTTL(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.ParseInt(v, 10, 64)
		if nerr != nil || n > int64(MaxDownloadURLTTL/time.Second) {
			return 0, audit.Invalid("ttl", "ttl is seconds or a duration such as 15m, from %s to %s; got %q",
				MinDownloadURLTTL, MaxDownloadURLTTL, v)
		}
		d = time.Duration(n) * time.Second
	}
	if d < MinDownloadURLTTL || d > MaxDownloadURLTTL {
		return 0, audit.Invalid("ttl", "ttl must be from %s to %s, got %s", MinDownloadURLTTL, MaxDownloadURLTTL, d)
	}
	return d, nil
}

// deleteExport is DELETE /exports/{id}: the object first, then the record,
// so that a failure in between leaves a record that a retry can finish
// deleting rather than an object nothing points at. Only finished exports
// may go: a queued or running one would be re-created by its worker.
func (s *Server) deleteExport(c echo.Context) error {
	ctx := c.Request().Context()
	tenant := tenantOf(c)
	e, err := s.cfg.Store.GetExport(ctx, tenant, c.Param("id"))
	if err != nil {
		return err
	}
	c.Set(ctxKeyExportID, e.ID)
	if !e.Status.Done() {
		return &audit.Error{Code: audit.ECONFLICT, Details: statusView(e),
			Message: fmt.Sprintf("export %s is %s; it can be deleted once it has finished", e.ID, e.Status)}
	}
	// The check and the deletion are one transaction that a legal hold
	// being placed waits for (RetireArchive).
	e, err = s.cfg.Archives.RetireArchive(ctx, tenant, e.ID, nil, audit.DeletionRefused(s.cfg.Now()), func(e audit.Export) error {
		if e.ObjectKey == "" {
			return nil
		}
		if err := s.cfg.Objects.Delete(ctx, e.ObjectKey); err != nil && !errors.Is(err, audit.ErrNotFound) {
			return fmt.Errorf("httpapi: delete object %s: %w", e.ObjectKey, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.logger.InfoContext(ctx, "export deleted", "export_id", e.ID, "tenant", tenant, "key", e.ObjectKey,
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	return c.NoContent(http.StatusNoContent)
}

// getManifest is GET /exports/{id}/manifest. A scheduled run's manifest
// is frozen the first time it is served and links to its predecessor's
// (manifest.Issuer); any other is signed on request, the same bytes each
// time under the same key and version.
func (s *Server) getManifest(c echo.Context) error {
	// Which export comes first: a missing or unfinished one is that,
	// whatever this deployment's signing setup.
	e, err := s.completedExport(c)
	if err != nil {
		return err
	}
	if s.cfg.Signer == nil {
		return audit.Errorf(audit.ENOTIMPLEMENTED,
			"export manifests are not signed by this deployment: set SIGNING_KEY to an Ed25519 key (`sentinelctl signing-key` makes one)")
	}
	is := manifest.Issuer{Store: s.cfg.Archives, Signer: s.cfg.Signer, Version: s.cfg.Version}
	m, err := is.Issue(c.Request().Context(), e)
	if audit.ErrorCode(err) == audit.ECONFLICT {
		return err
	}
	if err != nil {
		return fmt.Errorf("httpapi: manifest of %s: %w", e.ID, err)
	}
	c.Response().Header().Set(echo.HeaderContentDisposition,
		fmt.Sprintf(`attachment; filename="%s.manifest.json"`, Filename(e)))
	return c.JSONPretty(http.StatusOK, m, "  ")
}

// SigningKeys is the answer of GET /signing-keys.
type SigningKeys struct {
	Keys []manifest.PublicKeyInfo `json:"keys"`
}

// signingKeys is GET /signing-keys: the public keys that check manifests,
// by key id. Keys retired by a rotation stay listed (Config.PublicKeys) so
// that old manifests keep verifying.
func (s *Server) signingKeys(c echo.Context) error {
	keys := manifest.PublicKeys{}
	for id, k := range s.cfg.PublicKeys {
		keys[id] = k
	}
	if s.cfg.Signer != nil {
		keys.Add(s.cfg.Signer.PublicKey())
	}
	return c.JSON(http.StatusOK, SigningKeys{Keys: keys.List()})
}
