package app_test

import (
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/app"
	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/demo"
	"github.com/auditsentinel/sentinel/internal/redisconn/embedded"
)

// TestDemoSeedsOnceAndReusesData: -demo's first start creates a key and
// ~100,000 events; a restart finds both and prints the same key.
func TestDemoSeedsOnceAndReusesData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vars := map[string]string{
		"DATABASE_URL": "sqlite:" + filepath.Join(dir, "data", "audit.db"),
		"STORAGE_URL":  "file://" + filepath.Join(dir, "data", "exports"),
	}
	cfg, err := config.FromEnv(func(k string) string { return vars[k] })
	apptest.Must(t, err)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func() (string, int64) {
		deps, err := app.Open(t.Context(), cfg, logger, embedded.Start)
		apptest.Must(t, err)
		defer deps.Close()
		key, err := app.SeedDemo(t.Context(), cfg, deps, logger)
		apptest.Must(t, err)
		n, err := deps.Store.CountEvents(t.Context(), audit.Filter{TenantID: app.DemoTenant}, 0)
		apptest.Must(t, err)
		return key, n
	}
	key1, n1 := start()
	key2, n2 := start()
	if n1 != demo.DefaultEvents || n2 != n1 {
		t.Errorf("events after first start %d, after restart %d; want %d both times", n1, n2, demo.DefaultEvents)
	}
	if key1 == "" || key1 != key2 {
		t.Errorf("restart printed another key: %q then %q", key1, key2)
	}
	banner := app.DemoBanner(key1, "127.0.0.1:8080")
	if !strings.Contains(banner, "apikey: "+key1) || !strings.Contains(banner, demo.DemoEntityID) {
		t.Errorf("banner lacks the key or the sample entity:\n%s", banner)
	}
}

func TestHealthEndpoints(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		if res, body := env.Do(http.MethodGet, "/healthz", "", nil); res.StatusCode != http.StatusOK {
			t.Errorf("healthz: %d %s", res.StatusCode, body)
		}
		res, body := env.Do(http.MethodGet, "/readyz", "", nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"database":"ok"`) ||
			!strings.Contains(string(body), `"redis":"ok"`) || !strings.Contains(string(body), `"storage":"ok"`) {
			t.Errorf("readyz: %d %s", res.StatusCode, body)
		}
	})
}
