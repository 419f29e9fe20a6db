package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/auditsentinel/sentinel/internal/httpapi"
)

// Feed reads one page of the event feed (GET /v5/audit-sentinel/events)
// with the filters in q, after cursor ("" from the beginning), up to limit
// events (0: the server's default).
func (c *Client) Feed(ctx context.Context, q url.Values, cursor string, limit int) (httpapi.FeedPageJSON, error) {
	v := url.Values{}
	for k, vs := range q {
		v[k] = vs
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	v.Set("format", "json")
	req, err := c.newRequest(ctx, http.MethodGet, httpapi.Prefix+"/events", v)
	if err != nil {
		return httpapi.FeedPageJSON{}, err
	}
	var p httpapi.FeedPageJSON
	err = c.getJSON(req, &p)
	return p, err
}
