package app

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/redisconn/embedded"
	"github.com/auditsentinel/sentinel/internal/secretbox"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// openEnv opens Deps on the configuration vars make (an embedded Redis
// when REDIS_URL is not among them).
func openEnv(t *testing.T, vars map[string]string) (config.Config, *Deps) {
	t.Helper()
	cfg, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	d, err := Open(t.Context(), cfg, slog.New(slog.DiscardHandler), embedded.Start)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return cfg, d
}

// Every live response holds a connection of the Redis client while it
// waits on its stream: the pool must have room for all of them (in a
// cluster, on each node, since one node may hold every stream read).
func TestRedisPoolFitsLiveStreams(t *testing.T) {
	for name, url := range map[string]string{"embedded": "", "standalone": testenv.RedisURL(t),
		"cluster": testenv.RedisClusterURL(t)} {
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{"REDIS_URL": url, "DATABASE_URL": "sqlite:" + testenv.SQLitePath(t),
				"STORAGE_URL": "file://" + t.TempDir()}
			cfg, d := openEnv(t, vars)
			if err := d.PingRedis(t.Context()); err != nil {
				t.Fatal(err)
			}
			var pool int
			switch c := d.rdb.(type) {
			case *redis.Client:
				if name != "cluster" {
					pool = c.Options().PoolSize
				}
			case *redis.ClusterClient:
				if name == "cluster" {
					pool = c.Options().PoolSize // per node
				}
			}
			if pool == 0 {
				t.Fatalf("client is a %T for REDIS_URL %s", d.rdb, cfg.Redis)
			}
			if pool <= export.MaxLiveStreams {
				t.Fatalf("pool size %d; want more than %d", pool, export.MaxLiveStreams)
			}
		})
	}
}

// Embedded mode without SECRETS_KEY generates one beside the data (0600)
// and keeps using it, so the secrets it sealed stay readable after a
// restart; a distributed deployment without it seals nothing.
func TestSealSecretsKeyFile(t *testing.T) {
	cfg := config.Default()
	cfg.DatabaseKind, cfg.DatabaseDSN = "sqlite", filepath.Join(t.TempDir(), "sentinel.db")
	var boxes []string
	for range 2 {
		opened, err := OpenStore(t.Context(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		db, err := sealSecrets(t.Context(), cfg, true, opened, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.PutTenantWebhookSecret(t.Context(), audit.TenantWebhookSecret{TenantID: "acme", Secret: "whsec_x", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetTenantWebhookSecret(t.Context(), "acme")
		if err != nil || got.Secret != "whsec_x" {
			t.Fatalf("after a restart: %+v, %v", got, err)
		}
		if _, err := opened.GetTenantWebhookSecret(t.Context(), "acme"); err == nil { // the handle without the box
			t.Fatal("the secret was stored unsealed")
		}
		b, err := os.ReadFile(filepath.Join(DataDir(cfg), secretsKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		boxes = append(boxes, string(b))
		db.Close()
	}
	if boxes[0] != boxes[1] {
		t.Fatal("the second start made a new key")
	}
	fi, err := os.Stat(filepath.Join(DataDir(cfg), secretsKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}

	db, err := OpenStore(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db, err = sealSecrets(t.Context(), cfg, false, db, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if err := db.PutTenantWebhookSecret(t.Context(), audit.TenantWebhookSecret{TenantID: "b", Secret: "whsec_y", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.GetTenantWebhookSecret(t.Context(), "b"); err != nil || got.Secret != "whsec_y" {
		t.Fatalf("distributed without a key: %+v, %v", got, err)
	}
}

// A SECRETS_KEY rotation: the next start with the old key in
// SECRETS_KEYS_RETIRED seals every stored secret under the new key, after
// which the new key alone reads them.
func TestSecretsKeyRotation(t *testing.T) {
	cfg := config.Default()
	cfg.DatabaseKind, cfg.DatabaseDSN = "sqlite", filepath.Join(t.TempDir(), "sentinel.db")
	oldKey, newKey := secretbox.GenerateKey(), secretbox.GenerateKey()
	start := func(key []byte, retired ...[]byte) *sqlstore.DB {
		t.Helper()
		c := cfg
		c.SecretsKey, c.RetiredSecretsKeys = key, retired
		db, err := OpenStore(t.Context(), c, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if db, err = sealSecrets(t.Context(), c, false, db, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := start(oldKey)
	if err := db.PutTenantWebhookSecret(t.Context(), audit.TenantWebhookSecret{TenantID: "acme", Secret: "whsec_x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// A start with only the new key still starts (exports do not depend
	// on webhook secrets), but cannot read the old one's.
	if _, err := start(newKey).GetTenantWebhookSecret(t.Context(), "acme"); err == nil {
		t.Fatal("the new key alone read a secret sealed under the old one")
	}
	start(newKey, oldKey) // seals it again under the new key
	if got, err := start(newKey).GetTenantWebhookSecret(t.Context(), "acme"); err != nil || got.Secret != "whsec_x" {
		t.Fatalf("after the rotation, the new key alone: %+v, %v", got, err)
	}
}

// A process given no StartRedis (the worker, which does not link one)
// refuses embedded mode, naming REDIS_URL, instead of starting anything.
func TestOpenWithoutStartRedisRefusesEmbeddedMode(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "sqlite:" + testenv.SQLitePath(t), "STORAGE_URL": "file://" + t.TempDir()}
	cfg, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	d, err := Open(t.Context(), cfg, slog.New(slog.DiscardHandler), nil)
	if err == nil {
		d.Close()
		t.Fatal("Open in embedded mode without StartRedis succeeded")
	}
	if !strings.Contains(err.Error(), "REDIS_URL") {
		t.Fatalf("Open: %v; want an error naming REDIS_URL", err)
	}
}

// The sweeper's cadence comes from the environment, and its costly steps
// are spaced for the whole cluster (leases on the queue's Redis); with
// nothing set, config's defaults are the sweeper's own.
func TestSweeperCadenceFromConfig(t *testing.T) {
	def := config.Default()
	for name, pair := range map[string][2]time.Duration{
		"SWEEP_EVERY":             {def.SweepEvery, export.DefaultSweepEvery},
		"SWEEP_ORPHAN_SCAN_EVERY": {def.SweepOrphanScanEvery, export.DefaultOrphanScanEvery},
		"SWEEP_UPLOAD_SCAN_EVERY": {def.SweepUploadScanEvery, export.DefaultUploadScanEvery},
		"PURGE_EVERY":             {def.PurgeEvery, export.DefaultPurgeEvery},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%s defaults to %s in config, %s in the sweeper", name, pair[0], pair[1])
		}
	}
	if def.PurgeDuty != export.DefaultPurgeDuty {
		t.Errorf("PURGE_DUTY defaults to %v in config, %v in the sweeper", def.PurgeDuty, export.DefaultPurgeDuty)
	}

	vars := map[string]string{"DATABASE_URL": "sqlite:" + testenv.SQLitePath(t), "STORAGE_URL": "file://" + t.TempDir(),
		"SWEEP_EVERY": "20s", "SWEEP_ORPHAN_SCAN_EVERY": "6h", "SWEEP_UPLOAD_SCAN_EVERY": "30m",
		"PURGE_EVERY": "2m", "PURGE_DUTY": "0.05"}
	cfg, d := openEnv(t, vars)
	w := NewWorker(cfg, slog.New(slog.DiscardHandler), d)
	s := w.sweeper
	if s.OrphanScanEvery != 6*time.Hour || s.UploadScanEvery != 30*time.Minute || s.PurgeEvery != 2*time.Minute ||
		s.PurgeDuty != 0.05 {
		t.Fatalf("sweeper: orphans every %s, uploads every %s, purge every %s at duty %v; want the environment's",
			s.OrphanScanEvery, s.UploadScanEvery, s.PurgeEvery, s.PurgeDuty)
	}
	if s.Leases == nil {
		t.Fatal("the sweeper takes no leases: every worker would list the bucket and purge on its own clock")
	}
	if ok, err := s.Leases.Acquire(t.Context(), "wiring-test", time.Second); err != nil || !ok {
		t.Fatalf("the sweeper's leases do not reach Redis: %v, %v", ok, err)
	}
	if got := w.srv.SweepEvery(); got != 20*time.Second {
		t.Fatalf("sweeps scheduled every %s; want SWEEP_EVERY's 20s", got)
	}
}
