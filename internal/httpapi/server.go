// Package httpapi is the HTTP face of Audit Sentinel (echo): it
// authenticates, parses and validates requests, and hands them to the
// export service; it streams finished files back from object storage.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/manifest"
	"github.com/auditsentinel/sentinel/internal/objstore"
	"github.com/auditsentinel/sentinel/internal/render/ndjson"
	"github.com/auditsentinel/sentinel/internal/schedule"
	"github.com/auditsentinel/sentinel/internal/selfaudit"
)

// Prefix is the versioned base path of the API.
const Prefix = "/v5/audit-sentinel"

// Store is what the HTTP layer reads and writes directly.
type Store interface {
	apikey.Store
	InsertEvents(ctx context.Context, tenantID string, events []audit.Event) (int, error)
	// InsertEventStream inserts every chunk fn puts in one transaction,
	// committed only when fn returns nil; fn may be called again (from the
	// start) when that transaction is retried, and may run on a goroutine
	// of its own.
	InsertEventStream(ctx context.Context, tenantID string, fn func(put func([]audit.Event) error) error) (int, error)
	GetExport(ctx context.Context, tenantID, id string) (audit.Export, error)
	// MarkExportCorrupt fails a completed export whose stored file no
	// longer matches its digest, so that it is rendered afresh.
	MarkExportCorrupt(ctx context.Context, tenantID, id, message string, at time.Time) error
	ListAPIKeys(ctx context.Context, tenantID string) ([]audit.APIKey, error)
	RevokeTenantAPIKey(ctx context.Context, tenantID, id string, at time.Time) error
}

// Check is one readiness probe.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Config holds the server's dependencies.
type Config struct {
	Logger  *slog.Logger
	Store   Store
	Exports *export.Service
	Files   objstore.Reader
	Checks  []Check
	// ExportWait is how long the export GET waits for a file before it
	// answers 202 (EXPORT_WAIT); Prefer: wait=N may ask for up to MaxWait.
	ExportWait time.Duration
	MaxWait    time.Duration
	Now        func() time.Time
	// OpenAPI is the served OpenAPI document.
	OpenAPI []byte

	// Archives lists and deletes export records; Objects deletes their
	// files. Files doubles as an objstore.Presigner when the storage can
	// hand out links (S3).
	Archives ArchiveStore
	Objects  ObjectDeleter
	// Signer signs export manifests; nil when no SIGNING_KEY is configured
	// (the manifest endpoint then answers 501). PublicKeys are further,
	// retired keys still published at /signing-keys.
	Signer     *manifest.Signer
	PublicKeys manifest.PublicKeys
	// Version is the service version stamped into manifests.
	Version string
	// Schedules serves /export-schedules; nil leaves the routes out.
	Schedules *schedule.Service
	// Webhooks keeps tenants' webhook secrets and lists an export's
	// delivery attempts; nil answers those routes 501.
	Webhooks WebhookStore
	// Feed serves GET /events, the incremental feed (feed.go).
	Feed FeedStore
	// Retention keeps retention policies and legal holds; nil answers
	// those routes 501 and lets archives be deleted at any time.
	Retention RetentionStore
	// SelfAudit records the service's own use into tenants' streams; nil
	// records nothing.
	SelfAudit *selfaudit.Recorder
	// Registry is what GET /metrics serves; the server registers its HTTP
	// and live-stream metrics on it. Nil: a registry of its own.
	Registry Registry
	// Tracer, when set, traces every request (tracing.go).
	Tracer trace.TracerProvider
}

// Registry is where the server registers its metrics and what GET
// /metrics gathers.
type Registry interface {
	prometheus.Registerer
	prometheus.Gatherer
}

// Server is the HTTP API.
type Server struct {
	echo    *echo.Echo
	logger  *slog.Logger
	cfg     Config
	metrics *httpMetrics
	// methods tells which methods a path is served with, for 405s.
	methods methodIndex
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 60 * time.Second
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{echo: echo.New(), logger: cfg.Logger, cfg: cfg, metrics: newHTTPMetrics(cfg.Registry)}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.RequestID())
	e.Use(s.measure)
	if cfg.Tracer != nil {
		e.Use(s.traceRequests(cfg.Tracer)) // before logRequests: its line names the trace
	}
	e.Use(s.logRequests)
	// Recover turns a panic into a 500 but lets http.ErrAbortHandler through,
	// which is how a failed download aborts its connection.
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: s.logPanic}))

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/openapi.yaml", s.openapi)
	// Unauthenticated like the probes: keep it off the public ingress
	// (deploy/README.md).
	e.GET("/metrics", serveMetrics(cfg.Registry))
	// The NDJSON line schema needs no key: a pipeline validates files
	// with it before (and without) holding one.
	e.GET(ndjson.SchemaPath, s.ndjsonSchema)
	// Public keys: whoever verifies a manifest may hold no API key
	// (scopes.go, publicRoutes).
	e.GET(Prefix+"/signing-keys", s.signingKeys)

	v := e.Group(Prefix, s.authenticate, s.checkInput)
	v.POST("/events", s.ingestEvents)
	v.GET("/events", s.feed)
	v.GET("/events/export", s.exportEvents)
	v.GET("/exports/:id", s.getExport)
	v.GET("/exports/:id/file", s.getExportFile)
	// HEAD tells size, digest and ETag before a download (ServeContent
	// writes no body for it).
	v.HEAD("/exports/:id/file", s.getExportFile)
	v.GET("/exports", s.listExports)
	v.DELETE("/exports/:id", s.deleteExport)
	v.GET("/exports/:id/download-url", s.downloadURL)
	v.GET("/exports/:id/manifest", s.getManifest)
	v.POST("/webhook-secret", s.rotateWebhookSecret)
	v.GET("/exports/:id/deliveries", s.listExportDeliveries)
	s.registerSchedules(v)
	v.GET("/api-keys", s.listKeys)
	v.POST("/api-keys", s.createKey)
	v.DELETE("/api-keys/:id", s.revokeKey)
	v.GET("/retention", s.getRetention)
	v.PUT("/retention", s.putRetention)
	v.GET("/legal-holds", s.listHolds)
	v.POST("/legal-holds", s.createHold)
	v.DELETE("/legal-holds/:id", s.releaseHold)
	s.methods = newMethodIndex(e.Routes())
	return s
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

func (s *Server) logPanic(c echo.Context, err error, stack []byte) error {
	s.logger.ErrorContext(c.Request().Context(), "panic", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		"err", err, "stack", string(stack))
	return err
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	out := map[string]string{}
	ok := true
	for _, ch := range s.cfg.Checks {
		if err := ch.Ping(ctx); err != nil {
			ok = false
			out[ch.Name] = "unavailable"
			s.logger.WarnContext(ctx, "readiness check failed", "check", ch.Name, "err", err)
			continue
		}
		out[ch.Name] = "ok"
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	return c.JSON(status, map[string]any{"ready": ok, "checks": out})
}

func (s *Server) ndjsonSchema(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, "application/schema+json", ndjson.Schema)
}

func (s *Server) openapi(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", s.cfg.OpenAPI)
}

// Routes lists the registered routes as "METHOD /path", with path
// parameters written {name} as in the OpenAPI document, sorted. Echo's
// catch-all not-found routes of the API group are left out.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.echo.Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		out = append(out, routeName(r.Method, r.Path))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
