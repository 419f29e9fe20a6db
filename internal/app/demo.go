package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/demo"
)

// DemoTenant is the tenant -demo creates.
const DemoTenant = "demo"

// demoKeyFile keeps the demo key beside the data, so a restart can print
// it again (only its hash is in the database).
const demoKeyFile = "demo-api-key"

// SeedDemo makes sure the demo tenant has a key and events: on first start
// it creates both (about 100,000 events over the last 90 days); later
// starts reuse them. It returns the demo API key.
func SeedDemo(ctx context.Context, cfg config.Config, deps *Deps, logger *slog.Logger) (string, error) {
	dir := DataDir(cfg)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	keyPath := filepath.Join(dir, demoKeyFile)
	secret := ""
	if b, err := os.ReadFile(keyPath); err == nil {
		secret = strings.TrimSpace(string(b))
		if _, err := apikey.Authenticate(ctx, deps.Store, secret, time.Now()); err != nil {
			secret = "" // the database was reset or the key revoked: mint a new one
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if secret == "" {
		var err error
		if _, secret, err = apikey.Create(ctx, deps.Store, DemoTenant, "demo", time.Now()); err != nil {
			return "", err
		}
		if err := os.WriteFile(keyPath, []byte(secret+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	n, err := deps.Store.CountEvents(ctx, audit.Filter{TenantID: DemoTenant}, 1)
	if err != nil {
		return "", err
	}
	if n == 0 {
		start := time.Now()
		logger.Info("seeding demo events (first start only)", "events", demo.DefaultEvents)
		g := demo.New(demo.Config{Seed: 1, TenantID: DemoTenant, Now: time.Now().UTC(),
			Days: demo.DefaultDays, Events: demo.DefaultEvents})
		inserted, err := deps.Store.BulkInsertEvents(ctx, DemoTenant, g.Next)
		if err != nil {
			return "", fmt.Errorf("seed: %w", err)
		}
		logger.Info("demo events seeded", "events", inserted, "duration", time.Since(start).Round(time.Millisecond))
	}
	return secret, nil
}

// DemoBanner is what -demo prints once the server listens.
func DemoBanner(key, addr string) string {
	host := addr
	if strings.HasPrefix(host, "[::]") || strings.HasPrefix(host, "0.0.0.0") {
		host = "localhost" + host[strings.LastIndex(host, ":"):]
	}
	base := "http://" + host
	return fmt.Sprintf(`
Audit Sentinel demo is running on %[1]s (tenant %[3]q).

  API key: %[2]s

Export assessment events as CSV:
  curl -sS -o assessment.csv -D - "%[1]s/v5/audit-sentinel/events/export?file_type=csv&event_type=assessment&locale=en" --header "apikey: %[2]s"

One entity's events as a PDF (-g stops curl from treating [ ] as a pattern):
  curl -g -sS -o entity.pdf -D - "%[1]s/v5/audit-sentinel/events/export?file_type=pdf&metadata[entity_id]=%[4]s&locale=en" --header "apikey: %[2]s"

Console (sign in with the key above): %[1]s/console/

OpenAPI: %[1]s/openapi.yaml   Health: %[1]s/readyz
`, base, key, DemoTenant, demo.DemoEntityID)
}
