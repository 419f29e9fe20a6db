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
	var k ed25519.PrivateKey
	path, created, err := keyFile(DataDir(cfg), signingKeyFile, func() (string, error) {
		_, seed, err := manifest.GenerateKey()
		return seed, err
	})
	if err == nil {
		k, err = manifest.ParseKey(path.contents)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path.name, err)
	}
	if created {
		logger.Info("embedded mode: generated a manifest signing key; set SIGNING_KEY in production",
			"path", path.name, "key_id", manifest.KeyID(k.Public().(ed25519.PublicKey)))
	}
	return k, nil
}

// keyFileContents is a key file's path and what it holds.
type keyFileContents struct{ name, contents string }

// keyFile returns what file name in dir holds, creating it (mode 0600) with
// newValue's value first when it does not exist. O_EXCL: two processes
// starting at once must not each write a key; the loser reads the winner's.
func keyFile(dir, name string, newValue func() (string, error)) (f keyFileContents, created bool, err error) {
	f.name = filepath.Join(dir, name)
	for {
		b, err := os.ReadFile(f.name)
		if err == nil {
			f.contents = string(b)
			return f, created, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return f, false, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return f, false, err
		}
		v, err := newValue()
		if err != nil {
			return f, false, err
		}
		w, err := os.OpenFile(f.name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return f, false, err
		}
		_, werr := w.WriteString(v + "\n")
		if cerr := w.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return f, false, werr
		}
		created = true
	}
}
