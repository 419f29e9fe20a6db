// Package console is the browser console for compliance officers and
// auditors, served by the api binary at /console/: sign in with an API key,
// request exports and watch them run, browse and delete archives, manage
// schedules.
//
// It renders pages on the server (html/template) and calls the JSON API
// in-process (Config.API) with the session's key in the request context
// (httpapi.WithAPIKey), so every view, filter, page and error message is
// the API's own; the one exception is requesting an export, which goes to
// the export service with the API's own query parser because the export
// endpoint would answer a finished export with its whole file. The
// browser never calls the API itself: the API stays free of cookies, and
// so of cross-site request forgery. A little JavaScript polls an export's
// status through the console's read-only bridge (/console/api/).
package console

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/httpapi"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Base is where the console is mounted.
const Base = "/console/"

const (
	sessionCookie = "sentinel_session"
	langCookie    = "sentinel_lang"
	zoneCookie    = "sentinel_tz"
)

// csp allows nothing but the console's own files: no inline script or
// style, no frames, forms posting only back here.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Exporter requests exports (export.Service).
type Exporter interface {
	Request(ctx context.Context, tenantID string, p audit.ExportParams, o export.Options) (audit.Export, bool, error)
}

// Config holds the console's dependencies.
type Config struct {
	// API is the JSON API (httpapi.Server), called in-process.
	API      http.Handler
	Keys     apikey.Store
	Exports  Exporter
	Sessions *Sessions
	// Audit records the actions the console takes itself, rather than
	// through API, into the tenant's stream (an export requested);
	// nil: none.
	Audit  Recorder
	Logger *slog.Logger
	Now    func() time.Time
}

// Recorder records self-audit events (selfaudit.Recorder).
type Recorder interface {
	Record(ctx context.Context, ev audit.Event)
}

// Console is the console's http.Handler.
type Console struct {
	cfg   Config
	mux   *http.ServeMux
	pages map[string]*pageTemplate
}

// New builds the console.
func New(cfg Config) *Console {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Console{cfg: cfg, mux: http.NewServeMux(), pages: parsePages()}
	static, _ := fs.Sub(staticFS, "static") // the embedded tree has that directory
	c.mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	c.mux.HandleFunc("GET /console/{$}", c.authed(c.home))
	c.mux.HandleFunc("GET /console/signin", c.signinPage)
	c.mux.HandleFunc("POST /console/signin", c.signin)
	c.mux.HandleFunc("POST /console/signout", c.authed(c.signout))
	c.mux.HandleFunc("GET /console/prefs", c.prefs)
	c.mux.HandleFunc("GET /console/exports/new", c.authed(c.exportForm))
	c.mux.HandleFunc("POST /console/exports", c.authed(c.requestExport))
	c.mux.HandleFunc("GET /console/exports/{id}", c.authed(c.exportPage))
	c.mux.HandleFunc("GET /console/archives", c.authed(c.archives))
	c.mux.HandleFunc("GET /console/archives/{id}/delete", c.authed(c.confirmDelete))
	c.mux.HandleFunc("POST /console/archives/{id}/delete", c.authed(c.deleteArchive))
	c.mux.HandleFunc("GET /console/schedules", c.authed(c.schedules))
	c.mux.HandleFunc("GET /console/schedules/new", c.authed(c.scheduleForm))
	c.mux.HandleFunc("POST /console/schedules", c.authed(c.saveSchedule))
	c.mux.HandleFunc("GET /console/schedules/{id}", c.authed(c.schedulePage))
	c.mux.HandleFunc("GET /console/schedules/{id}/edit", c.authed(c.scheduleForm))
	c.mux.HandleFunc("POST /console/schedules/{id}", c.authed(c.saveSchedule))
	c.mux.HandleFunc("POST /console/schedules/{id}/enabled", c.authed(c.setEnabled))
	c.mux.HandleFunc("POST /console/schedules/{id}/run", c.authed(c.runSchedule))
	c.mux.HandleFunc("GET /console/api/", c.authed(c.bridge))
	return c
}

// ServeHTTP serves the console with its security headers on every answer.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/console/static/") {
		h.Set("Cache-Control", "no-store")
	}
	if r.Method == http.MethodPost && !sameOrigin(r) {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	c.mux.ServeHTTP(w, r)
}

// sameOrigin refuses a state change another site's page sent: browsers
// name the page's origin on every POST (or at least say cross-site).
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "cross-site", "same-site":
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true // not a browser's form: the CSRF token still guards it
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// request is one authenticated request: its session and key.
type request struct {
	*http.Request
	id   string // the session id
	sess session
	key  audit.APIKey
}

// authed resolves the session, checks its key again (a revoked key ends
// the session at once) and, on a state change, its CSRF token.
func (c *Console) authed(h func(http.ResponseWriter, *request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ck, _ := r.Cookie(sessionCookie)
		id := ""
		if ck != nil {
			id = ck.Value
		}
		sess, err := c.cfg.Sessions.get(ctx, id, c.cfg.Now())
		if err != nil && !errors.Is(err, errNoSession) {
			c.internal(w, r, err)
			return
		}
		var key audit.APIKey
		if err == nil {
			key, err = apikey.ByHash(ctx, c.cfg.Keys, sess.KeyHash, c.cfg.Now())
			if err != nil {
				if ae := audit.AsError(err); ae == nil || ae.Code != audit.EUNAUTHORIZED {
					c.internal(w, r, err)
					return
				}
				_ = c.cfg.Sessions.end(ctx, id)
				c.clearSession(w, r)
				c.toSignin(w, r, audit.ErrorMessage(err))
				return
			}
		}
		if err != nil {
			c.clearSession(w, r)
			c.toSignin(w, r, "")
			return
		}
		if r.Method == http.MethodPost {
			tok := r.PostFormValue("csrf")
			if tok == "" {
				tok = r.Header.Get("X-CSRF-Token")
			}
			if subtle.ConstantTimeCompare([]byte(tok), []byte(sess.CSRF)) != 1 {
				http.Error(w, "missing or wrong CSRF token; reload the page", http.StatusForbidden)
				return
			}
		}
		h(w, &request{Request: r, id: id, sess: sess, key: key})
	}
}

func (c *Console) toSignin(w http.ResponseWriter, r *http.Request, reason string) {
	if strings.HasPrefix(r.URL.Path, "/console/api/") {
		writeJSONError(w, http.StatusUnauthorized, audit.EUNAUTHORIZED, orDefault(reason, "sign in again"))
		return
	}
	q := url.Values{}
	if reason != "" {
		q.Set("reason", reason)
	}
	target := Base + "signin"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(httpapi.ErrorBody{Error: httpapi.ErrorDetail{Code: code, Message: msg}})
}

func (c *Console) setSession(w http.ResponseWriter, r *http.Request, id string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: Base, Expires: expires, MaxAge: int(time.Until(expires).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

func (c *Console) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Base, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

func (c *Console) internal(w http.ResponseWriter, r *http.Request, err error) {
	c.cfg.Logger.ErrorContext(r.Context(), "console: internal error", "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// apiResult is an in-process API answer.
type apiResult struct {
	status int
	header http.Header
	body   []byte
}

// failure is the API's error body, when the answer is one.
func (a apiResult) failure() *httpapi.ErrorDetail {
	if a.status < 400 {
		return nil
	}
	var b httpapi.ErrorBody
	if json.Unmarshal(a.body, &b) != nil || b.Error.Message == "" {
		return &httpapi.ErrorDetail{Code: audit.EINTERNAL, Message: http.StatusText(a.status)}
	}
	return &b.Error
}

func (a apiResult) decode(v any) error { return json.Unmarshal(a.body, v) }

// recorder buffers an in-process API answer (JSON documents only; files
// go through bridge, which streams).
type recorder struct {
	h      http.Header
	status int
	buf    bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.buf.Write(b)
}

// call makes an API request in-process as the session's key. path is
// relative to httpapi.Prefix.
func (c *Console) call(r *request, method, path, query string, body any) (apiResult, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return apiResult{}, err
		}
		rd = bytes.NewReader(b)
	}
	u := httpapi.Prefix + path
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(httpapi.WithAPIKey(r.Context(), r.key), method, u, rd)
	if err != nil {
		return apiResult{}, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := &recorder{h: http.Header{}}
	c.cfg.API.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return apiResult{status: rec.status, header: rec.h, body: rec.buf.Bytes()}, nil
}

// bridge is GET /console/api/{path}: the API's read-only export routes for
// the console's script (status polling) and links (file, manifest),
// streamed as the API answers them. Only reads of existing exports pass:
// GET /events/export creates exports, so it is not bridged.
func (c *Console) bridge(w http.ResponseWriter, r *request) {
	rest := strings.TrimPrefix(r.URL.Path, "/console/api")
	if !strings.HasPrefix(rest, "/exports/") {
		writeJSONError(w, http.StatusNotFound, audit.ENOTFOUND, "not found")
		return
	}
	req := r.Clone(httpapi.WithAPIKey(r.Context(), r.key))
	req.URL.Path = httpapi.Prefix + rest
	req.URL.RawPath = ""
	req.RequestURI = req.URL.RequestURI()
	req.Header.Del("Cookie")
	c.cfg.API.ServeHTTP(w, req)
}
