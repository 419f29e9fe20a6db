// Package client is a Go client of the Audit Sentinel HTTP API: it
// requests exports, follows their progress, lists and deletes archives,
// fetches manifests and signing keys, and downloads files with resume and
// checksum verification. sentinelctl is built on it.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/manifest"
)

// Client talks to one Audit Sentinel server with one API key.
type Client struct {
	// BaseURL is the server's root, e.g. https://audit.example.com.
	BaseURL string
	APIKey  string
	// HTTP is the client used; http.DefaultClient when nil. Downloads can
	// be long, so it should not have an overall Timeout.
	HTTP      *http.Client
	UserAgent string
	// Throttled, when set, is told each time RequestExport waits because
	// the tenant is at its limit of active exports (429), and for how long.
	Throttled func(wait time.Duration, err *Error)
}

// Error is an error answer of the API.
type Error struct {
	Status    int
	Code      string
	Message   string
	Param     string
	Allowed   []string
	RequestID string
	// RetryAfter is the server's Retry-After (seconds form); 0 when absent.
	RetryAfter time.Duration
}

// Error reads "param: message", the way the API reports a bad parameter.
func (e *Error) Error() string {
	msg := e.Message
	if e.Param != "" {
		msg = e.Param + ": " + msg
	}
	if e.Status >= 500 && e.RequestID != "" {
		msg += " (request id " + e.RequestID + ")"
	}
	return msg
}

// Temporary reports whether retrying the same request may succeed.
func (e *Error) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// ErrChecksum reports a downloaded file whose SHA-256 or size is not the
// one the server stated.
var ErrChecksum = errors.New("checksum mismatch")

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// url resolves a path (as the API returns them, e.g. status_url) against
// BaseURL.
func (c *Client) url(path string, q url.Values) (string, error) {
	base, err := url.Parse(strings.TrimRight(c.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return "", fmt.Errorf("client: server URL %q is not an absolute http(s) URL", c.BaseURL)
	}
	ref, err := url.Parse(path)
	if err != nil {
		return "", fmt.Errorf("client: path %q: %w", path, err)
	}
	u := base.ResolveReference(ref)
	if strings.HasPrefix(path, "/") && base.Path != "" {
		// Keep a base path such as https://host/audit in front.
		u.Path = base.Path + ref.Path
	}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

func (c *Client) newRequest(ctx context.Context, method, path string, q url.Values) (*http.Request, error) {
	u, err := c.url(path, q)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if c.APIKey != "" {
		req.Header.Set("apikey", c.APIKey)
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

func (c *Client) do(req *http.Request) (*http.Response, error) {
	res, err := c.http().Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	return res, nil
}

// getJSON sends req and decodes a 2xx JSON answer into out (nil: discard).
// The response is closed before it returns.
func (c *Client) getJSON(req *http.Request, out any) error {
	res, err := c.do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		return readError(res)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

// readError turns an error answer into *Error; bodies that are not the
// API's JSON (a proxy's HTML page) still give a readable message.
func readError(res *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	var retry time.Duration
	if n, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && n >= 0 {
		retry = time.Duration(n) * time.Second
	}
	var body httpapi.ErrorBody
	if json.Unmarshal(b, &body) == nil && body.Error.Message != "" {
		d := body.Error
		return &Error{Status: res.StatusCode, Code: d.Code, Message: d.Message, Param: d.Param, Allowed: d.Allowed,
			RequestID: d.RequestID, RetryAfter: retry}
	}
	msg := http.StatusText(res.StatusCode)
	if t := strings.TrimSpace(string(bytes.ToValidUTF8(b, nil))); t != "" {
		msg += ": " + t[:min(len(t), 200)]
	}
	return &Error{Status: res.StatusCode, Message: fmt.Sprintf("HTTP %d %s", res.StatusCode, msg),
		RequestID: res.Header.Get("X-Request-Id"), RetryAfter: retry}
}

// RequestExport asks for an export of the events q selects (the export
// endpoint's parameters) without waiting for it (Prefer: respond-async),
// and returns its status. An identical export finished recently is reused
// by the server, which then answers with the file at once; RequestExport
// returns that export's status all the same. While the tenant is at its
// limit of active exports (429) it waits as the server says and asks
// again, until ctx ends.
func (c *Client) RequestExport(ctx context.Context, q url.Values) (httpapi.ExportStatus, error) {
	for {
		st, err := c.requestExport(ctx, q)
		var ce *Error
		if !errors.As(err, &ce) || ce.Status != http.StatusTooManyRequests {
			return st, err
		}
		wait := min(max(ce.RetryAfter, time.Second), time.Minute)
		if c.Throttled != nil {
			c.Throttled(wait, ce)
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("%w (gave up waiting: %w)", err, ctx.Err())
		case <-time.After(wait):
		}
	}
}

func (c *Client) requestExport(ctx context.Context, q url.Values) (httpapi.ExportStatus, error) {
	var st httpapi.ExportStatus
	req, err := c.newRequest(ctx, http.MethodGet, httpapi.Prefix+"/events/export", q)
	if err != nil {
		return st, err
	}
	req.Header.Set("Prefer", "respond-async")
	res, err := c.do(req)
	if err != nil {
		return st, err
	}
	defer res.Body.Close()
	switch res.StatusCode {
	case http.StatusAccepted:
		if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
			return st, fmt.Errorf("export request: decode status: %w", err)
		}
		return st, nil
	case http.StatusOK:
		id := res.Header.Get("X-Export-Id")
		if id == "" {
			return st, errors.New("export request: the server sent a file without an X-Export-Id header")
		}
		// The file is fetched again through the resumable path.
		return c.GetExport(ctx, id)
	}
	return st, readError(res)
}

// GetExport returns the status of export id.
func (c *Client) GetExport(ctx context.Context, id string) (httpapi.ExportStatus, error) {
	var st httpapi.ExportStatus
	req, err := c.newRequest(ctx, http.MethodGet, httpapi.Prefix+"/exports/"+url.PathEscape(id), nil)
	if err != nil {
		return st, err
	}
	err = c.getJSON(req, &st)
	return st, err
}

// ExportFailedError is a finished export that has no file.
type ExportFailedError struct {
	Status httpapi.ExportStatus
}

func (e *ExportFailedError) Error() string {
	st := e.Status
	if st.Status == "expired" {
		return fmt.Sprintf("export %s has expired and its file was deleted; request it again", st.ID)
	}
	if st.Error != nil {
		return fmt.Sprintf("export %s failed: %s (%s)", st.ID, st.Error.Message, st.Error.Code)
	}
	return fmt.Sprintf("export %s %s", st.ID, st.Status)
}

// WaitExport polls export id every interval until it is done, calling
// progress (if not nil) with every status seen. It returns the completed
// status, or *ExportFailedError.
func (c *Client) WaitExport(ctx context.Context, id string, interval time.Duration, progress func(httpapi.ExportStatus)) (httpapi.ExportStatus, error) {
	if interval <= 0 {
		interval = time.Second
	}
	for {
		st, err := c.GetExport(ctx, id)
		if err != nil {
			return st, err
		}
		if progress != nil {
			progress(st)
		}
		switch st.Status {
		case "completed":
			return st, nil
		case "failed", "expired":
			return st, &ExportFailedError{Status: st}
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return st, ctx.Err()
		case <-t.C:
		}
	}
}

// ListExports returns one page of the tenant's exports; q holds the
// listing's filters, limit and cursor.
func (c *Client) ListExports(ctx context.Context, q url.Values) (httpapi.ArchiveList, error) {
	var out httpapi.ArchiveList
	req, err := c.newRequest(ctx, http.MethodGet, httpapi.Prefix+"/exports", q)
	if err != nil {
		return out, err
	}
	err = c.getJSON(req, &out)
	return out, err
}

// DownloadURL returns a presigned link to the file of export id, valid for
// ttl (0: the server's default).
func (c *Client) DownloadURL(ctx context.Context, id string, ttl time.Duration) (httpapi.DownloadURL, error) {
	var out httpapi.DownloadURL
	q := url.Values{}
	if ttl > 0 {
		q.Set("ttl", ttl.String())
	}
	req, err := c.newRequest(ctx, http.MethodGet, httpapi.Prefix+"/exports/"+url.PathEscape(id)+"/download-url", q)
	if err != nil {
		return out, err
	}
	err = c.getJSON(req, &out)
	return out, err
}

// DeleteExport deletes export id and its file.
func (c *Client) DeleteExport(ctx context.Context, id string) error {
	req, err := c.newRequest(ctx, http.MethodDelete, httpapi.Prefix+"/exports/"+url.PathEscape(id), nil)
	if err != nil {
		return err
	}
	err = c.getJSON(req, nil)
	return err
}

// Manifest returns the signed manifest of export id, as served and parsed.
func (c *Client) Manifest(ctx context.Context, id string) ([]byte, manifest.Manifest, error) {
	req, err := c.newRequest(ctx, http.MethodGet, httpapi.Prefix+"/exports/"+url.PathEscape(id)+"/manifest", nil)
	if err != nil {
		return nil, manifest.Manifest{}, err
	}
	res, err := c.do(req)
	if err != nil {
		return nil, manifest.Manifest{}, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, manifest.Manifest{}, readError(res)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, manifest.Manifest{}, fmt.Errorf("manifest of %s: %w", id, err)
	}
	m, err := manifest.Parse(bytes.NewReader(b))
	return b, m, err
}

// SigningKeys returns the public keys that check manifests. keysURL is an
// absolute URL or a path on the server; empty means the server's
// /signing-keys.
func (c *Client) SigningKeys(ctx context.Context, keysURL string) (manifest.PublicKeys, error) {
	if keysURL == "" {
		keysURL = httpapi.Prefix + "/signing-keys"
	}
	var req *http.Request
	var err error
	if u, perr := url.Parse(keysURL); perr == nil && u.IsAbs() {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, keysURL, nil)
		if err == nil && c.APIKey != "" {
			req.Header.Set("apikey", c.APIKey)
		}
	} else {
		req, err = c.newRequest(ctx, http.MethodGet, keysURL, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	var out httpapi.SigningKeys
	if err := c.getJSON(req, &out); err != nil {
		return nil, err
	}
	return manifest.KeysFromList(out.Keys)
}
