// Package apptest boots a whole Audit Sentinel (api + worker) in-process on
// real services — PostgreSQL or SQLite, a private redis-server, versitygw or
// a directory — for end-to-end tests through HTTP.
package apptest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/app"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/demo"
	"github.com/auditsentinel/sentinel/internal/secretbox"
	"github.com/auditsentinel/sentinel/internal/testenv"
	"github.com/auditsentinel/sentinel/internal/tracing"
)

var awsEnvOnce sync.Once

// Options choose the backends.
type Options struct {
	Database string // "postgres" or "sqlite"
	Storage  string // "s3" or "file"
	// Env overrides further variables (EXPORT_WAIT, PDF_MAX_EVENTS, …).
	Env map[string]string
	// NoWorker boots the api without any worker (tests that run workers as
	// separate processes).
	NoWorker bool
	// Tracing, when set, is what the api and the worker trace with (a span
	// recorder); nil: what the environment says (off).
	Tracing *tracing.Tracing
	// Logs, when set, receives every log line from info up, as JSON,
	// instead of the test log (which shows warnings only). It must be
	// safe for concurrent writes.
	Logs io.Writer
}

// Env is a running service.
type Env struct {
	URL    string
	Config config.Config
	Deps   *app.Deps
	S3     *testenv.S3
	Vars   map[string]string // the environment the service was configured from
	Main   *app.Main         // the api, booted as cmd/api boots it
	API    *app.API
	Worker *app.Worker // nil with NoWorker
	// WorkerMain is the worker as cmd/worker boots it; nil with NoWorker.
	WorkerMain *app.WorkerMain
	Client     *http.Client
	t          testing.TB
}

// Boot starts api and worker in this process against real services, each
// through the same app.Main/app.WorkerMain the binaries run.
func Boot(t testing.TB, o Options) *Env {
	t.Helper()
	done := new(atomic.Bool)
	t.Cleanup(func() { done.Store(true) }) // runs last: later logs go to stderr
	vars := map[string]string{
		"HTTP_ADDR":   "127.0.0.1:0",
		"REDIS_URL":   testenv.RedisURL(t),
		"LOG_LEVEL":   "warn",
		"LOG_FORMAT":  "json",
		"EXPORT_WAIT": "10s",
		// Webhook secrets are sealed in every end-to-end test, as in
		// production; a process that lacked the key could not sign.
		"SECRETS_KEY": base64.StdEncoding.EncodeToString(secretbox.GenerateKey()),
	}
	switch o.Database {
	case "postgres":
		vars["DATABASE_URL"] = testenv.PostgresURL(t)
	case "sqlite", "":
		vars["DATABASE_URL"] = "sqlite:" + testenv.SQLitePath(t)
	default:
		t.Fatalf("apptest: unknown database %q", o.Database)
	}
	// The client sees the bytes as sent: its transport neither asks for
	// gzip nor decodes it behind the test's back (tests of content coding
	// send Accept-Encoding themselves).
	env := &Env{t: t, Client: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DisableCompression: true}}}
	switch o.Storage {
	case "s3":
		s3 := testenv.VersityGW(t)
		env.S3 = &s3
		for _, kv := range s3.Env() {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
	case "file", "":
		vars["STORAGE_URL"] = "file://" + t.TempDir()
	default:
		t.Fatalf("apptest: unknown storage %q", o.Storage)
	}
	for k, v := range o.Env {
		vars[k] = v
	}
	// The AWS SDK reads credentials from the process environment. They are
	// the same for every versitygw testenv starts, so parallel tests agree;
	// the endpoint differs and goes through the config.
	if env.S3 != nil {
		awsEnvOnce.Do(func() {
			os.Setenv("AWS_ACCESS_KEY_ID", env.S3.AccessKey)
			os.Setenv("AWS_SECRET_ACCESS_KEY", env.S3.SecretKey)
			os.Setenv("AWS_REGION", env.S3.Region)
		})
	}
	cfg, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("apptest: config: %v", err)
	}
	logger := slog.New(slog.NewJSONHandler(testWriter{t, done}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if o.Logs != nil {
		logger = slog.New(slog.NewJSONHandler(o.Logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	ctx := context.Background()
	// The binaries' own path: what cmd/api and cmd/worker run after reading
	// flags and the environment, each with its own connections, as two
	// processes have.
	m := &app.Main{Config: cfg, Logger: logger, Tracing: o.Tracing}
	t.Cleanup(func() { _ = m.Close() })
	if err := m.Run(ctx); err != nil {
		t.Fatalf("apptest: start api: %v", err)
	}
	env.Main = m
	if !o.NoWorker {
		w := &app.WorkerMain{Config: cfg, Logger: logger, Tracing: o.Tracing}
		t.Cleanup(func() { _ = w.Close() })
		if err := w.Run(ctx); err != nil {
			t.Fatalf("apptest: start worker: %v", err)
		}
		env.Worker, env.WorkerMain = w.Worker, w
	}
	env.URL, env.Config, env.Deps, env.API, env.Vars = "http://"+m.Addr(), m.Config, m.Deps, m.API, vars
	return env
}

// Key creates an API key for tenant.
func (e *Env) Key(tenant string) string {
	e.t.Helper()
	_, secret, err := apikey.Create(context.Background(), e.Deps.Store, tenant, "test", time.Now())
	if err != nil {
		e.t.Fatalf("apptest: create key: %v", err)
	}
	return secret
}

// ScopedKey creates an API key for tenant with only scopes, and returns
// its secret.
func (e *Env) ScopedKey(tenant string, scopes ...audit.Scope) string {
	e.t.Helper()
	_, secret, err := apikey.Mint(context.Background(), e.Deps.Store,
		apikey.Spec{TenantID: tenant, Name: "test " + fmt.Sprint(scopes), Scopes: scopes}, time.Now())
	if err != nil {
		e.t.Fatalf("apptest: create key: %v", err)
	}
	return secret
}

// Do sends a request with the API key (when not empty) and returns the
// response with its body read.
func (e *Env) Do(method, path, key string, body io.Reader, header ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.URL+path, body)
	if err != nil {
		e.t.Fatalf("apptest: request: %v", err)
	}
	if key != "" {
		req.Header.Set("apikey", key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := e.Client.Do(req)
	if err != nil {
		e.t.Fatalf("apptest: %s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("apptest: read body of %s %s: %v", method, path, err)
	}
	return res, b
}

// Ingest posts events as {"events": [...]} and fails the test unless 200.
func (e *Env) Ingest(key string, events []map[string]any) map[string]any {
	e.t.Helper()
	b, _ := json.Marshal(map[string]any{"events": events})
	res, body := e.Do(http.MethodPost, "/v5/audit-sentinel/events", key, bytes.NewReader(b),
		"Content-Type", "application/json")
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("apptest: ingest: %d %s", res.StatusCode, body)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		e.t.Fatalf("apptest: ingest answer: %v: %s", err, body)
	}
	return out
}

// SeedDemo stores the demo generator's events for c (c.TenantID; Now
// zero: now) straight into the store, as sentinelctl seed does: the way to
// give a test tens of thousands of events.
func (e *Env) SeedDemo(c demo.Config) {
	e.t.Helper()
	if _, err := e.Deps.Store.BulkInsertEvents(e.t.Context(), c.TenantID, demo.New(c).Next); err != nil {
		e.t.Fatalf("apptest: seed %d demo events of %s: %v", c.Events, c.TenantID, err)
	}
}

// WaitExport polls the status URL until the export is done.
func (e *Env) WaitExport(key, id string) map[string]any {
	e.t.Helper()
	// A bound, not a timing: the crash tests wait out a 30 s task lease
	// and a second run of 100,000+ rows under -race, which on a loaded
	// two-core machine took longer than two minutes.
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		res, body := e.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+id, key, nil)
		if res.StatusCode != http.StatusOK {
			e.t.Fatalf("apptest: status %s: %d %s", id, res.StatusCode, body)
		}
		var st map[string]any
		if err := json.Unmarshal(body, &st); err != nil {
			e.t.Fatal(err)
		}
		switch st["status"] {
		case "completed", "failed", "expired":
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("apptest: export %s not done within 5 minutes", id)
	return nil
}

// testWriter logs through t while the test runs; background goroutines
// that outlive it (asynq's) write to stderr instead of panicking.
type testWriter struct {
	t    testing.TB
	done *atomic.Bool
}

func (w testWriter) Write(p []byte) (int, error) {
	if w.done.Load() {
		return os.Stderr.Write(p)
	}
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Must fails the test on err.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(fmt.Sprint(err))
	}
}
