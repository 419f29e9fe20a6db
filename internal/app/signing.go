package app

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/manifest"
)

// signingKeyFile keeps the generated manifest key beside the data.
const signingKeyFile = "signing-key"

// DataDir is where embedded mode keeps its own files: beside the SQLite
// database, else ./data.
func DataDir(cfg config.Config) string {
	if cfg.DatabaseKind == "sqlite" {
		return filepath.Dir(cfg.DatabaseDSN)
	}
	return "./data"
}

// EnsureSigningKey returns the key that signs export manifests. SIGNING_KEY
// wins. Without it, embedded mode (one process, demo and evaluation) loads
// or generates a key in DataDir so manifests work out of the box and stay
// verifiable across restarts; a distributed deployment gets nil, and its
// manifest endpoint answers 501 naming SIGNING_KEY — generating a key per
// replica would make manifests verify or not depending on which replica
// answered.
func EnsureSigningKey(cfg config.Config, embedded bool, logger *slog.Logger) (ed25519.PrivateKey, error) {
	if cfg.SigningKey != nil {
		return cfg.SigningKey, nil
	}
	if !embedded {
		logger.Warn("SIGNING_KEY is unset: export manifests are disabled (GET …/manifest answers 501)")
		return nil, nil
	}
	dir := DataDir(cfg)
	path := filepath.Join(dir, signingKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := config.ParseSigningKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	k, seed, err := manifest.GenerateKey()
	if err != nil {
		return nil, err
	}
	// O_EXCL: two processes starting at once must not each write a key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return EnsureSigningKey(cfg, embedded, logger)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if _, err := f.WriteString(seed + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	logger.Info("embedded mode: generated a manifest signing key; set SIGNING_KEY in production",
		"path", path, "key_id", manifest.KeyID(k.Public().(ed25519.PublicKey)))
	return k, nil
}
