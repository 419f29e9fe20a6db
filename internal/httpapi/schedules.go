package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/schedule"
)

// schedulesPath is the collection of export schedules.
const schedulesPath = "/export-schedules"

// MaxScheduleBody bounds a schedule's JSON body.
const MaxScheduleBody = 64 << 10

func (s *Server) registerSchedules(g *echo.Group) {
	if s.cfg.Schedules == nil {
		return
	}
	g.POST(schedulesPath, s.createSchedule)
	g.GET(schedulesPath, s.listSchedules)
	g.GET(schedulesPath+"/:id", s.getSchedule)
	g.PATCH(schedulesPath+"/:id", s.updateSchedule)
	g.DELETE(schedulesPath+"/:id", s.deleteSchedule)
	g.POST(schedulesPath+"/:id/run", s.runSchedule)
	g.GET(schedulesPath+"/:id/deliveries", s.listDeliveries)
}

// ScheduleFilters is the "filters" object of a schedule: the export
// endpoint's parameters, as JSON.
type ScheduleFilters struct {
	AuditeeID    []string            `json:"auditee_id,omitempty"`
	EventType    []string            `json:"event_type,omitempty"`
	SubType      []string            `json:"sub_type,omitempty"`
	SystemSource []string            `json:"system_source,omitempty"`
	Metadata     map[string][]string `json:"metadata,omitempty"`
	FileType     string              `json:"file_type"`
	Locale       string              `json:"locale"`
	// Timezone is the zone times are displayed in, not the schedule's.
	Timezone string `json:"timezone"`
	// Paper is a PDF's page size (a4 or letter); absent for a CSV.
	Paper string `json:"paper,omitempty"`
	// The file options of the export endpoint (omitted when unset).
	BOM         bool     `json:"bom,omitempty"`
	Delimiter   string   `json:"delimiter,omitempty"`
	Columns     []string `json:"columns,omitempty"`
	Compression string   `json:"compression,omitempty"`
}

// ScheduleView is the JSON of a schedule. WebhookSecret is only set in the
// answer to its creation.
type ScheduleView struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	Cron          string          `json:"cron"`
	Timezone      string          `json:"timezone"`
	Window        audit.Window    `json:"window"`
	Filters       ScheduleFilters `json:"filters"`
	RetentionDays int             `json:"retention_days"`
	// MinRetentionDays: the schedule's archives cannot be deleted for
	// this many days after completion (0: the tenant's minimum only).
	MinRetentionDays int        `json:"min_retention_days"`
	Enabled          bool       `json:"enabled"`
	WebhookURL       string     `json:"webhook_url,omitempty"`
	WebhookSecret    string     `json:"webhook_secret,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	LastFiredAt      *time.Time `json:"last_fired_at,omitempty"`
	NextRunAt        *time.Time `json:"next_run_at,omitempty"`
	URL              string     `json:"url"`
}

// paperView is the page size a PDF's params print on, spelled out (the
// canonical form leaves the default, A4, unset); "" for a CSV.
func paperView(p audit.ExportParams) string {
	if p.FileType != audit.FilePDF {
		return ""
	}
	if p.Canonical().Paper == audit.PaperLetter {
		return string(audit.PaperLetter)
	}
	return string(audit.PaperA4)
}

func scheduleURL(id string) string { return Prefix + schedulesPath + "/" + id }

func (s *Server) scheduleView(sc audit.Schedule) ScheduleView {
	p := sc.Params
	v := ScheduleView{
		ID: sc.ID, Name: sc.Name, Cron: sc.Cron, Timezone: sc.Timezone, Window: sc.Window,
		Filters: ScheduleFilters{
			AuditeeID: p.Filter.AuditeeIDs, EventType: p.Filter.EventTypes, SubType: p.Filter.SubTypes,
			SystemSource: p.Filter.SystemSources, Metadata: p.Filter.Metadata,
			FileType: string(p.FileType), Locale: p.Locale, Timezone: p.Timezone,
			Paper: paperView(p),
			BOM:   p.BOM, Delimiter: p.Delimiter, Columns: p.Columns, Compression: string(p.Compression),
		},
		RetentionDays: sc.RetentionDays, MinRetentionDays: sc.MinRetentionDays, Enabled: sc.Enabled, WebhookURL: sc.WebhookURL,
		CreatedAt: sc.CreatedAt, UpdatedAt: sc.UpdatedAt, LastFiredAt: sc.LastFiredAt, URL: scheduleURL(sc.ID),
	}
	if sc.Enabled {
		base := s.cfg.Now()
		if sc.LastFiredAt != nil && sc.LastFiredAt.After(base) {
			base = *sc.LastFiredAt
		}
		if next := schedule.Next(sc, base); !next.IsZero() {
			next = next.UTC()
			v.NextRunAt = &next
		}
	}
	return v
}

// scheduleBody is the body of POST and PATCH. A field left out is nil: the
// default on creation, unchanged on update. Window and filters.metadata are
// replaced whole when given; the other filters field by field.
type scheduleBody struct {
	Name             *string          `json:"name"`
	Cron             *string          `json:"cron"`
	Timezone         *string          `json:"timezone"`
	Window           *windowBody      `json:"window"`
	Filters          *filtersBody     `json:"filters"`
	RetentionDays    *int             `json:"retention_days"`
	MinRetentionDays *int             `json:"min_retention_days"`
	Enabled          *bool            `json:"enabled"`
	WebhookURL       *json.RawMessage `json:"webhook_url"` // a string, or null to remove
}

type windowBody struct {
	Kind  string `json:"kind"`
	Hours int    `json:"hours"`
}

type filtersBody struct {
	AuditeeID    *[]string            `json:"auditee_id"`
	EventType    *[]string            `json:"event_type"`
	SubType      *[]string            `json:"sub_type"`
	SystemSource *[]string            `json:"system_source"`
	Metadata     *map[string][]string `json:"metadata"`
	FileType     *string              `json:"file_type"`
	Locale       *string              `json:"locale"`
	Timezone     *string              `json:"timezone"`
	Paper        *string              `json:"paper"`
	BOM          *bool                `json:"bom"`
	Delimiter    *string              `json:"delimiter"`
	Columns      *[]string            `json:"columns"`
	Compression  *string              `json:"compression"`
}

// Fields a body may hold, by object, for the message that answers a typo.
var (
	scheduleFields = []string{"cron", "enabled", "filters", "min_retention_days", "name", "retention_days", "timezone", "webhook_url", "window"}
	windowFields   = []string{"hours", "kind"}
	filtersFields  = []string{"auditee_id", "bom", "columns", "compression", "delimiter", "event_type", "file_type", "locale",
		"metadata", "paper", "sub_type", "system_source", "timezone"}
)

// readScheduleBody decodes a schedule body strictly: unknown fields (at any
// level), wrong types, trailing data and oversized bodies are refused with
// the offending field named.
func readScheduleBody(c echo.Context) (scheduleBody, error) {
	var b scheduleBody
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, MaxScheduleBody+1))
	if err != nil {
		return b, audit.Invalid("body", "could not read the request body")
	}
	if len(raw) > MaxScheduleBody {
		return b, &audit.Error{Code: audit.ETOOLARGE, Param: "body",
			Message: fmt.Sprintf("a schedule body is at most %d bytes", MaxScheduleBody)}
	}
	if err := checkFields(raw); err != nil {
		return b, err
	}
	if err := checkBodyText(raw); err != nil {
		return b, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, jsonError(err)
	}
	if dec.More() {
		return b, audit.Invalid("body", "the body must hold one JSON object")
	}
	return b, nil
}

// checkFields names the first unknown field, which encoding/json's own
// error does only in its text.
func checkFields(raw []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return jsonError(err)
	}
	if err := unknownField("", top, scheduleFields); err != nil {
		return err
	}
	for name, allowed := range map[string][]string{"window": windowFields, "filters": filtersFields} {
		var obj map[string]json.RawMessage
		if v, ok := top[name]; ok && json.Unmarshal(v, &obj) == nil {
			if err := unknownField(name+".", obj, allowed); err != nil {
				return err
			}
		}
	}
	return nil
}

func unknownField(prefix string, obj map[string]json.RawMessage, allowed []string) error {
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range obj {
			if !yield(k) {
				return
			}
		}
	}) {
		if !slices.Contains(allowed, k) {
			return &audit.Error{Code: audit.EINVALID, Param: prefix + k, Allowed: allowed,
				Message: fmt.Sprintf("unknown field %q; allowed: %s", prefix+k, strings.Join(allowed, ", "))}
		}
	}
	return nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return audit.Invalid(te.Field, "%s must be a JSON %s", te.Field, jsonKind(te.Type.Kind().String()))
	}
	if errors.Is(err, io.EOF) {
		return audit.Invalid("body", "the body is empty; send a JSON object")
	}
	return audit.Invalid("body", "the body is not valid JSON")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "slice":
		return "array"
	case "map", "struct":
		return "object"
	case "int", "int64":
		return "integer"
	case "bool":
		return "boolean"
	}
	return goKind
}

// apply writes the fields b holds into sc.
func (b scheduleBody) apply(sc *audit.Schedule) error {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&sc.Name, b.Name)
	set(&sc.Cron, b.Cron)
	set(&sc.Timezone, b.Timezone)
	if b.Window != nil {
		sc.Window = audit.Window{Kind: audit.WindowKind(b.Window.Kind), Hours: b.Window.Hours}
	}
	if f := b.Filters; f != nil {
		p := &sc.Params
		for _, l := range []struct {
			dst *[]string
			src *[]string
		}{
			{&p.Filter.AuditeeIDs, f.AuditeeID}, {&p.Filter.EventTypes, f.EventType},
			{&p.Filter.SubTypes, f.SubType}, {&p.Filter.SystemSources, f.SystemSource},
		} {
			if l.src != nil {
				*l.dst = *l.src
			}
		}
		if f.Metadata != nil {
			p.Filter.Metadata = *f.Metadata
		}
		if f.FileType != nil {
			p.FileType = audit.FileType(*f.FileType)
		}
		set(&p.Locale, f.Locale)
		set(&p.Timezone, f.Timezone)
		if f.Paper != nil {
			p.Paper = audit.Paper(*f.Paper)
		}
		if f.BOM != nil {
			p.BOM = *f.BOM
		}
		if f.Delimiter != nil {
			p.Delimiter = strings.ToLower(*f.Delimiter)
		}
		if f.Columns != nil {
			p.Columns = *f.Columns
		}
		if f.Compression != nil {
			p.Compression = audit.Compression(strings.ToLower(*f.Compression))
		}
	}
	if b.RetentionDays != nil {
		sc.RetentionDays = *b.RetentionDays
	}
	if b.MinRetentionDays != nil {
		sc.MinRetentionDays = *b.MinRetentionDays
	}
	if b.Enabled != nil {
		sc.Enabled = *b.Enabled
	}
	if b.WebhookURL != nil {
		var u *string
		if err := json.Unmarshal(*b.WebhookURL, &u); err != nil {
			return audit.Invalid("webhook_url", "webhook_url must be a string, or null to remove it")
		}
		sc.WebhookURL = ""
		if u != nil {
			sc.WebhookURL = *u
		}
	}
	return nil
}

// createSchedule is POST /export-schedules. The answer is the only one
// that shows the webhook secret.
func (s *Server) createSchedule(c echo.Context) error {
	b, err := readScheduleBody(c)
	if err != nil {
		return err
	}
	svc := s.cfg.Schedules
	sc := audit.Schedule{Enabled: true, RetentionDays: svc.Defaults()}
	if err := b.apply(&sc); err != nil {
		return err
	}
	sc, err = svc.Create(c.Request().Context(), tenantOf(c), sc)
	if err != nil {
		return err
	}
	v := s.scheduleView(sc)
	v.WebhookSecret = sc.WebhookSecret
	c.Response().Header().Set(echo.HeaderLocation, v.URL)
	return c.JSON(http.StatusCreated, v)
}

// getSchedule is GET /export-schedules/{id}.
func (s *Server) getSchedule(c echo.Context) error {
	sc, err := s.cfg.Schedules.Get(c.Request().Context(), tenantOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.scheduleView(sc))
}

// updateSchedule is PATCH /export-schedules/{id}: the fields given
// change, the others stay.
func (s *Server) updateSchedule(c echo.Context) error {
	b, err := readScheduleBody(c)
	if err != nil {
		return err
	}
	sc, err := s.cfg.Schedules.Update(c.Request().Context(), tenantOf(c), c.Param("id"), b.apply)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.scheduleView(sc))
}

// deleteSchedule is DELETE /export-schedules/{id}. Exports it fired stay.
func (s *Server) deleteSchedule(c echo.Context) error {
	if err := s.cfg.Schedules.Delete(c.Request().Context(), tenantOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// runSchedule is POST /export-schedules/{id}/run: an export now, answered
// like a pending export (202, Location: its status URL).
func (s *Server) runSchedule(c echo.Context) error {
	e, err := s.cfg.Schedules.RunNow(c.Request().Context(), tenantOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.Set(ctxKeyExportID, e.ID)
	return s.accepted(c, e)
}

// ScheduleList is a page of schedules; NextCursor is empty on the last.
type ScheduleList struct {
	Schedules  []ScheduleView `json:"schedules"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

// listSchedules is GET /export-schedules: newest first, paginated.
func (s *Server) listSchedules(c echo.Context) error {
	limit, after, err := pageQuery(c.QueryString())
	if err != nil {
		return err
	}
	f := audit.ScheduleListFilter{TenantID: tenantOf(c), Limit: limit + 1}
	if after != "" {
		cur, err := decodeCursor(after)
		if err != nil {
			return err
		}
		f.AfterCreatedAt, f.AfterID = &cur.CreatedAt, cur.ID
	}
	list, err := s.cfg.Schedules.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := ScheduleList{Schedules: []ScheduleView{}}
	for i, sc := range list {
		if i == limit {
			last := list[limit-1]
			out.NextCursor = cursor{CreatedAt: last.CreatedAt, ID: last.ID}.encode()
			break
		}
		out.Schedules = append(out.Schedules, s.scheduleView(sc))
	}
	return c.JSON(http.StatusOK, out)
}

// pageQuery reads limit and cursor, the only parameters of the schedule
// listings.
func pageQuery(raw string) (limit int, after string, err error) {
	limit = DefaultListLimit
	q, err := url.ParseQuery(raw)
	if err != nil {
		return 0, "", audit.Invalid("query", "the query string is malformed: %v", unwrapURLError(err))
	}
	allowed := []string{"cursor", "limit"}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range q {
			if !yield(k) {
				return
			}
		}
	}) {
		if len(q[k]) != 1 {
			return 0, "", audit.Invalid(k, "%s takes one value", k)
		}
		v := q[k][0]
		switch k {
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxListLimit {
				return 0, "", audit.Invalid("limit", "limit must be an integer from 1 to %d, got %q", MaxListLimit, v)
			}
			limit = n
		case "cursor":
			after = v
		default:
			return 0, "", &audit.Error{Code: audit.EINVALID, Param: k, Allowed: allowed,
				Message: fmt.Sprintf("unknown query parameter %q; allowed: %s", k, strings.Join(allowed, ", "))}
		}
	}
	return limit, after, nil
}

// DeliveryAttempt is the JSON of one webhook delivery attempt.
type DeliveryAttempt struct {
	DeliveryID string    `json:"delivery_id"`
	ExportID   string    `json:"export_id"`
	URL        string    `json:"url"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	// StatusCode is the receiver's status; 0 when it did not answer.
	StatusCode int    `json:"status_code"`
	Succeeded  bool   `json:"succeeded"`
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// DeliveryList is a page of attempts, newest first.
type DeliveryList struct {
	Attempts   []DeliveryAttempt `json:"attempts"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

// attemptCursor continues a listing of attempts after (At, DeliveryID,
// AttemptNo); opaque to clients like the other cursors.
type attemptCursor struct {
	At         time.Time `json:"t"`
	DeliveryID string    `json:"d"`
	AttemptNo  int       `json:"n"`
}

func (a attemptCursor) encode() string { return encodeCursor(a) }

func decodeAttemptCursor(s string) (attemptCursor, error) {
	return decodeOpaque(s, func(a attemptCursor) bool { return a.DeliveryID != "" && !a.At.IsZero() })
}

// listDeliveries is GET /export-schedules/{id}/deliveries: every webhook
// attempt of the schedule, newest first.
func (s *Server) listDeliveries(c echo.Context) error {
	limit, after, err := pageQuery(c.QueryString())
	if err != nil {
		return err
	}
	f := audit.WebhookAttemptFilter{TenantID: tenantOf(c), ScheduleID: c.Param("id"), Limit: limit + 1}
	if err := continueAttempts(&f, after); err != nil {
		return err
	}
	list, err := s.cfg.Schedules.Attempts(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, attemptPage(list, limit))
}

// listExportDeliveries is GET /exports/{id}/deliveries: every webhook
// attempt about the export, newest first, whether a schedule or the
// request named the webhook.
func (s *Server) listExportDeliveries(c echo.Context) error {
	if s.cfg.Webhooks == nil {
		return audit.Errorf(audit.ENOTIMPLEMENTED, "webhook deliveries are not available on this server")
	}
	limit, after, err := pageQuery(c.QueryString())
	if err != nil {
		return err
	}
	ctx, tenant, id := c.Request().Context(), tenantOf(c), c.Param("id")
	if _, err := s.cfg.Store.GetExport(ctx, tenant, id); err != nil {
		return err
	}
	f := audit.WebhookAttemptFilter{TenantID: tenant, ExportID: id, Limit: limit + 1}
	if err := continueAttempts(&f, after); err != nil {
		return err
	}
	list, err := s.cfg.Webhooks.ListAttempts(ctx, f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, attemptPage(list, limit))
}

// continueAttempts sets f to continue after the cursor, if any.
func continueAttempts(f *audit.WebhookAttemptFilter, after string) error {
	if after == "" {
		return nil
	}
	cur, err := decodeAttemptCursor(after)
	if err != nil {
		return err
	}
	f.AfterAt, f.AfterDeliveryID, f.AfterAttemptNo = &cur.At, cur.DeliveryID, cur.AttemptNo
	return nil
}

// attemptPage is the page of at most limit attempts of list, which was
// asked for limit+1 to learn whether another page follows.
func attemptPage(list []audit.WebhookAttempt, limit int) DeliveryList {
	out := DeliveryList{Attempts: []DeliveryAttempt{}}
	for i, a := range list {
		if i == limit {
			last := list[limit-1]
			out.NextCursor = attemptCursor{At: last.At, DeliveryID: last.DeliveryID, AttemptNo: last.AttemptNo}.encode()
			break
		}
		out.Attempts = append(out.Attempts, attemptView(a))
	}
	return out
}

func attemptView(a audit.WebhookAttempt) DeliveryAttempt {
	return DeliveryAttempt{
		DeliveryID: a.DeliveryID, ExportID: a.ExportID, URL: a.URL, Attempt: a.AttemptNo, At: a.At,
		StatusCode: a.StatusCode, Succeeded: a.Error == "", Error: a.Error, DurationMS: a.Duration.Milliseconds(),
	}
}
