package app_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app"
	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/demo"
	"github.com/auditsentinel/sentinel/internal/redisconn/embedded"
)

// TestMainBootsLikeTheBinary runs app.Main as `api -demo` does (port :0,
// embedded defaults under a temporary directory): the banner prints a key
// that works, an export goes through the embedded queue and worker and
// answers, the generated signing key is published, and Close leaves
// nothing running — no listener, no goroutine.
//
// Not parallel, so that no other test's goroutines come and go while it
// counts them (parallel tests start only after the sequential ones).
func TestMainBootsLikeTheBinary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	vars := map[string]string{
		"HTTP_ADDR":    "127.0.0.1:0",
		"DATABASE_URL": "sqlite:" + filepath.Join(dir, "audit.db"),
		"STORAGE_URL":  "file://" + filepath.Join(dir, "exports"),
		"EXPORT_WAIT":  "1m",
	}
	cfg, err := config.FromEnv(func(k string) string { return vars[k] })
	apptest.Must(t, err)
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}
	before := runtime.NumGoroutine()

	var stdout bytes.Buffer
	m := &app.Main{Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Demo: true, Stdout: &stdout, StartRedis: embedded.Start}
	if err := m.Run(t.Context()); err != nil {
		_ = m.Close()
		t.Fatalf("run: %v", err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = m.Close()
		}
	}()
	addr := m.Addr()
	banner := stdout.String()
	key := regexp.MustCompile(`API key: (\S+)`).FindStringSubmatch(banner)
	if key == nil || !strings.Contains(banner, addr) {
		t.Fatalf("banner lacks the key or the address %s:\n%s", addr, banner)
	}
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		apptest.Must(t, err)
		req.Header.Set("apikey", key[1])
		res, err := client.Do(req)
		apptest.Must(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		apptest.Must(t, err)
		return res, body
	}

	q := url.Values{"file_type": {"csv"}, "metadata[entity_id]": {demo.DemoEntityID}, "locale": {"en"}}
	res, body := get("/v5/audit-sentinel/events/export?" + q.Encode())
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export of the demo entity: %d %s", res.StatusCode, body)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("export answered %d rows (%v), want a header and the entity's events:\n%.500s", len(rows), err, body)
	}
	// Embedded mode generated the manifest key beside the database, as
	// the binary does, and the API publishes it.
	if _, err := os.Stat(filepath.Join(dir, "signing-key")); err != nil {
		t.Errorf("no generated signing key: %v", err)
	}
	res, body = get("/v5/audit-sentinel/signing-keys")
	var keys struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &keys) != nil || len(keys.Keys) != 1 {
		t.Errorf("signing-keys: %d %s; want the one generated key", res.StatusCode, body)
	}

	closed = true
	if err := m.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Close", addr)
	}
	// Goroutines wind down asynchronously (connection readers, timers):
	// wait for them rather than sleep a fixed time.
	deadline := time.Now().Add(15 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines after Close, %d before Run:\n%s", n, before, buf)
	}
}
