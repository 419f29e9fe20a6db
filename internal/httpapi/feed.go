package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
)

// FeedStore serves the incremental feed.
type FeedStore interface {
	FeedPage(ctx context.Context, f audit.Filter, after audit.FeedCursor, limit int) (audit.FeedPage, error)
}

// Feed page sizes: a poller that asks for nothing gets feedDefaultLimit
// events, and none may ask for more than feedMaxLimit (a page is built in
// memory).
const (
	feedDefaultLimit = 1000
	feedMaxLimit     = 10_000
)

// Feed headers: the cursor to send next, and whether more events follow it
// already (call again at once) or the poller is at the end (wait a while).
const (
	headerNextCursor = "X-Next-Cursor"
	headerHasMore    = "X-Has-More"
)

// feedParams are the feed's parameters, for the message that answers a
// typo.
var feedParams = []string{
	"auditee_id", "cursor", "event_type", "format", "limit", "metadata[KEY]",
	"range_end", "range_start", "sub_type", "system_source",
}

// FeedPageJSON is a page of the feed as JSON.
type FeedPageJSON struct {
	Events     []audit.Event `json:"events"`
	NextCursor string        `json:"next_cursor"`
	HasMore    bool          `json:"has_more"`
}

// feed is GET /events: the tenant's events in ingest order after cursor,
// with the export's filters. A poller that stores next_cursor and calls
// again gets every event exactly once, late commits included (see
// sqlstore.FeedPage: the feed reads only below every transaction still in
// progress).
func (s *Server) feed(c echo.Context) error {
	if s.cfg.Feed == nil {
		return audit.Errorf(audit.ENOTIMPLEMENTED, "this server has no event feed")
	}
	q, err := url.ParseQuery(c.QueryString())
	if err != nil {
		return audit.Invalid("query", "the query string is malformed: %v", unwrapURLError(err))
	}
	cursor, err := decodeFeedCursor(first(q, "cursor"))
	if err != nil {
		return err
	}
	limit := feedDefaultLimit
	if v := first(q, "limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > feedMaxLimit {
			return audit.Invalid("limit", "limit takes a number of events from 1 to %d, got %q", feedMaxLimit, v)
		}
	}
	ndjson, err := feedFormat(first(q, "format"), c.Request().Header.Get(echo.HeaderAccept))
	if err != nil {
		return err
	}
	filter := url.Values{}
	for key, vals := range q {
		switch strings.TrimSuffix(key, "[]") {
		case "cursor", "limit", "format":
			if len(vals) > 1 {
				return audit.Invalid(key, "%s takes one value", key)
			}
			continue
		case "file_type", "locale", "timezone", "webhook_url":
			return &audit.Error{Code: audit.EINVALID, Param: key, Allowed: feedParams,
				Message: fmt.Sprintf("%s is an export parameter; the feed takes: %s", key, strings.Join(feedParams, ", "))}
		}
		filter[key] = vals
	}
	p, err := parseExportParams(filter.Encode(), &export.Options{})
	if err != nil {
		if ae := audit.AsError(err); ae != nil && slices.Equal(ae.Allowed, exportQueryParams) {
			ae.Allowed = feedParams // an unknown parameter: name the feed's
			ae.Message = fmt.Sprintf("unknown query parameter %q; allowed: %s", ae.Param, strings.Join(feedParams, ", "))
		}
		return err
	}
	if p, err = export.Validate(p); err != nil {
		return err
	}
	f := p.Filter
	f.TenantID = tenantOf(c)
	page, err := s.cfg.Feed.FeedPage(c.Request().Context(), f, cursor, limit)
	if err != nil {
		return err
	}
	next := encodeFeedCursor(page.Next)
	h := c.Response().Header()
	h.Set(headerNextCursor, next)
	h.Set(headerHasMore, strconv.FormatBool(page.More))
	h.Set("Cache-Control", "no-store")
	if page.Events == nil {
		page.Events = []audit.Event{}
	}
	if !ndjson {
		return c.JSON(http.StatusOK, FeedPageJSON{Events: page.Events, NextCursor: next, HasMore: page.More})
	}
	// NDJSON: one event per line and nothing else, so that a line is always
	// an event; the cursor is in the headers.
	h.Set(echo.HeaderContentType, "application/x-ndjson")
	c.Response().WriteHeader(http.StatusOK)
	enc := json.NewEncoder(c.Response())
	for i := range page.Events {
		if err := enc.Encode(&page.Events[i]); err != nil {
			return nil //nolint:nilerr // the client went away; the status is sent, nothing is left to report
		}
	}
	return nil
}

func first(q url.Values, key string) string {
	if vs := q[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// feedFormat picks NDJSON or JSON pages: format= decides, else Accept.
func feedFormat(format, accept string) (ndjson bool, err error) {
	switch strings.ToLower(format) {
	case "ndjson", "jsonl":
		return true, nil
	case "json":
		return false, nil
	case "":
		for _, part := range strings.Split(accept, ",") {
			mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "application/x-ndjson", "application/ndjson", "application/jsonl":
				return true, nil
			}
		}
		return false, nil
	}
	return false, &audit.Error{Code: audit.EINVALID, Param: "format", Allowed: []string{"json", "ndjson"},
		Message: fmt.Sprintf("format %q is not supported; use json or ndjson", format)}
}

// cursorPrefix versions the cursor's form. A cursor is opaque to clients:
// base64url of "c1:<ingest transaction>:<event id>".
const cursorPrefix = "c1:"

func encodeFeedCursor(c audit.FeedCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(c.Tx, 10) + ":" + c.ID))
}

func decodeFeedCursor(s string) (audit.FeedCursor, error) {
	if s == "" {
		return audit.FeedCursor{}, nil
	}
	bad := audit.Invalid("cursor", "cursor is not one this feed handed out; send next_cursor (or X-Next-Cursor) as it came, or none to start from the beginning")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return audit.FeedCursor{}, bad
	}
	rest, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return audit.FeedCursor{}, bad
	}
	txs, id, ok := strings.Cut(rest, ":")
	tx, err := strconv.ParseInt(txs, 10, 64)
	if !ok || err != nil || tx < 0 {
		return audit.FeedCursor{}, bad
	}
	return audit.FeedCursor{Tx: tx, ID: id}, nil
}
