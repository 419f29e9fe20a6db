package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// RetentionStore is what the retention and legal hold routes need.
type RetentionStore interface {
	GetRetention(ctx context.Context, tenantID string) (audit.RetentionPolicy, error)
	PutRetention(ctx context.Context, p audit.RetentionPolicy) error
	CreateHold(ctx context.Context, h audit.LegalHold) error
	ListHolds(ctx context.Context, tenantID string, withReleased bool) ([]audit.LegalHold, error)
	ReleaseHold(ctx context.Context, tenantID, id string, at time.Time) (audit.LegalHold, error)
}

// RetentionView is the JSON of a tenant's retention policy.
type RetentionView struct {
	// EventDays: events older than this many days are purged; 0 keeps
	// them forever.
	EventDays int `json:"event_days"`
	// ArchiveMinDays: an archive cannot be deleted for this many days
	// after it completed; 0: no minimum.
	ArchiveMinDays int        `json:"archive_min_days"`
	UpdatedAt      *time.Time `json:"updated_at,omitempty"`
}

// NewRetentionView is p as the API shows it (sentinelctl prints the same).
func NewRetentionView(p audit.RetentionPolicy) RetentionView {
	v := RetentionView{EventDays: p.EventDays, ArchiveMinDays: p.ArchiveMinDays}
	if !p.UpdatedAt.IsZero() {
		t := p.UpdatedAt
		v.UpdatedAt = &t
	}
	return v
}

// LegalHoldView is the JSON of a legal hold.
type LegalHoldView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	RangeStart *time.Time `json:"range_start,omitempty"`
	RangeEnd   *time.Time `json:"range_end,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by_key_id,omitempty"`
	ReleasedAt *time.Time `json:"released_at,omitempty"`
}

// LegalHoldList is GET /legal-holds.
type LegalHoldList struct {
	Holds []LegalHoldView `json:"holds"`
}

// NewLegalHoldView is h as the API shows it (sentinelctl prints the same).
func NewLegalHoldView(h audit.LegalHold) LegalHoldView {
	return LegalHoldView{ID: h.ID, Name: h.Name, RangeStart: h.RangeStart, RangeEnd: h.RangeEnd, CreatedAt: h.CreatedAt,
		CreatedBy: h.CreatedByKeyID, ReleasedAt: h.ReleasedAt}
}

func (s *Server) retentionStore() (RetentionStore, error) {
	if s.cfg.Retention == nil {
		return nil, audit.Errorf(audit.ENOTIMPLEMENTED, "retention and legal holds are not available on this server")
	}
	return s.cfg.Retention, nil
}

// getRetention is GET /retention.
func (s *Server) getRetention(c echo.Context) error {
	st, err := s.retentionStore()
	if err != nil {
		return err
	}
	p, err := st.GetRetention(c.Request().Context(), tenantOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewRetentionView(p))
}

type retentionBody struct {
	EventDays      *int `json:"event_days"`
	ArchiveMinDays *int `json:"archive_min_days"`
}

// putRetention is PUT /retention. A field left out keeps its value, so
// setting one does not reset the other.
func (s *Server) putRetention(c echo.Context) error {
	st, err := s.retentionStore()
	if err != nil {
		return err
	}
	var b retentionBody
	if err := readSmallBody(c, []string{"archive_min_days", "event_days"}, &b); err != nil {
		return err
	}
	if b.EventDays == nil && b.ArchiveMinDays == nil {
		return audit.Invalid("body", "set event_days, archive_min_days or both")
	}
	ctx, tenant := c.Request().Context(), tenantOf(c)
	old, err := st.GetRetention(ctx, tenant)
	if err != nil {
		return err
	}
	p := old
	if b.EventDays != nil {
		p.EventDays = *b.EventDays
	}
	if b.ArchiveMinDays != nil {
		p.ArchiveMinDays = *b.ArchiveMinDays
	}
	p.UpdatedAt = s.cfg.Now().UTC().Truncate(audit.TimePrecision)
	if err := p.Validate(); err != nil {
		return err
	}
	if err := st.PutRetention(ctx, p); err != nil {
		return err
	}
	s.logger.InfoContext(ctx, "retention changed", "tenant", tenant, "event_days", p.EventDays,
		"archive_min_days", p.ArchiveMinDays, "by", keyOf(c).ID)
	addAuditMeta(c, "event_days", strconv.Itoa(p.EventDays), "archive_min_days", strconv.Itoa(p.ArchiveMinDays),
		"previous_event_days", strconv.Itoa(old.EventDays), "previous_archive_min_days", strconv.Itoa(old.ArchiveMinDays))
	return c.JSON(http.StatusOK, NewRetentionView(p))
}

// listHolds is GET /legal-holds: the active holds, or every one with
// include_released=true.
func (s *Server) listHolds(c echo.Context) error {
	st, err := s.retentionStore()
	if err != nil {
		return err
	}
	all := false
	if v := c.QueryParam("include_released"); v != "" {
		if all, err = strconv.ParseBool(v); err != nil {
			return audit.Invalid("include_released", "include_released must be true or false")
		}
	}
	hs, err := st.ListHolds(c.Request().Context(), tenantOf(c), all)
	if err != nil {
		return err
	}
	out := LegalHoldList{Holds: []LegalHoldView{}}
	for _, h := range hs {
		out.Holds = append(out.Holds, NewLegalHoldView(h))
	}
	return c.JSON(http.StatusOK, out)
}

type holdBody struct {
	Name       string  `json:"name"`
	RangeStart *string `json:"range_start"`
	RangeEnd   *string `json:"range_end"`
}

// createHold is POST /legal-holds: a hold on the whole tenant, or on the
// events that occurred within [range_start, range_end].
func (s *Server) createHold(c echo.Context) error {
	st, err := s.retentionStore()
	if err != nil {
		return err
	}
	var b holdBody
	if err := readSmallBody(c, []string{"name", "range_end", "range_start"}, &b); err != nil {
		return err
	}
	if len(b.Name) > 200 {
		return audit.Invalid("name", "name is at most 200 bytes")
	}
	ctx, caller := c.Request().Context(), keyOf(c)
	h := audit.LegalHold{ID: uuid.Must(uuid.NewV7()).String(), TenantID: caller.TenantID, Name: b.Name,
		CreatedAt: s.cfg.Now().UTC().Truncate(audit.TimePrecision), CreatedByKeyID: caller.ID}
	for _, f := range []struct {
		param string
		in    *string
		out   **time.Time
	}{{"range_start", b.RangeStart, &h.RangeStart}, {"range_end", b.RangeEnd, &h.RangeEnd}} {
		if f.in == nil {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, *f.in)
		if err != nil {
			return audit.Invalid(f.param, "%s must be an RFC 3339 time, e.g. 2026-01-01T00:00:00Z", f.param)
		}
		t = t.UTC().Truncate(audit.TimePrecision)
		*f.out = &t
	}
	if err := st.CreateHold(ctx, h); err != nil {
		return err
	}
	s.logger.InfoContext(ctx, "legal hold created", "tenant", h.TenantID, "hold_id", h.ID, "by", caller.ID)
	addAuditMeta(c, holdMeta(h)...)
	c.Response().Header().Set("Location", Prefix+"/legal-holds/"+h.ID)
	return c.JSON(http.StatusCreated, NewLegalHoldView(h))
}

// releaseHold is DELETE /legal-holds/{id}: the hold stops applying; its
// record stays (GET /legal-holds?include_released=true). Releasing a
// released hold answers the same.
func (s *Server) releaseHold(c echo.Context) error {
	st, err := s.retentionStore()
	if err != nil {
		return err
	}
	ctx, caller := c.Request().Context(), keyOf(c)
	h, err := st.ReleaseHold(ctx, caller.TenantID, c.Param("id"), s.cfg.Now().UTC().Truncate(audit.TimePrecision))
	if err != nil {
		return err
	}
	s.logger.InfoContext(ctx, "legal hold released", "tenant", h.TenantID, "hold_id", h.ID, "by", caller.ID)
	addAuditMeta(c, holdMeta(h)...)
	return c.JSON(http.StatusOK, NewLegalHoldView(h))
}

func holdMeta(h audit.LegalHold) []string {
	kv := []string{"hold_name", h.Name}
	if h.RangeStart != nil {
		kv = append(kv, "range_start", h.RangeStart.Format(time.RFC3339Nano))
	}
	if h.RangeEnd != nil {
		kv = append(kv, "range_end", h.RangeEnd.Format(time.RFC3339Nano))
	}
	return kv
}
