package app_test

import (
	"bytes"
	"crypto/ed25519"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/auditsentinel/sentinel/internal/app"
	"github.com/auditsentinel/sentinel/internal/config"
)

func TestEnsureSigningKey(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(dir, "audit.db")}[k]
	})
	if err != nil {
		t.Fatal(err)
	}

	// Distributed mode without SIGNING_KEY: no key, manifests answer 501.
	if k, err := app.EnsureSigningKey(cfg, false, logger); err != nil || k != nil {
		t.Fatalf("not embedded: %v %v", k, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "signing-key")); !os.IsNotExist(err) {
		t.Fatal("a key file was written outside embedded mode")
	}

	// Embedded: generated beside the database, private, and the same after
	// a restart.
	k1, err := app.EnsureSigningKey(cfg, true, logger)
	if err != nil || len(k1) != ed25519.PrivateKeySize {
		t.Fatalf("embedded: %v %v", k1, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "signing-key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	k2, err := app.EnsureSigningKey(cfg, true, logger)
	if err != nil || !k1.Equal(k2) {
		t.Fatal("the key changed across restarts")
	}

	// SIGNING_KEY always wins.
	cfg.SigningKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	if k, _ := app.EnsureSigningKey(cfg, true, logger); !k.Equal(cfg.SigningKey) {
		t.Fatal("SIGNING_KEY was not used")
	}
}
