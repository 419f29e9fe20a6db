package app_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/auditsentinel/sentinel/internal/app"
	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/manifest"
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

// After a rotation the old key's public half stays published
// (SIGNING_KEYS_RETIRED), beside the current one, so manifests signed
// before the rotation keep verifying with what /signing-keys lists.
func TestRetiredSigningKeysArePublished(t *testing.T) {
	_, seed, err := manifest.GenerateKey()
	apptest.Must(t, err)
	old, _, err := manifest.GenerateKey()
	apptest.Must(t, err)
	oldPub := old.Public().(ed25519.PublicKey)
	retired := manifest.KeyID(oldPub) + ":" + base64.StdEncoding.EncodeToString(oldPub)
	env := apptest.Boot(t, apptest.Options{Env: map[string]string{"SIGNING_KEY": seed, "SIGNING_KEYS_RETIRED": retired}})
	res, body := env.Do(http.MethodGet, "/v5/audit-sentinel/signing-keys", env.Key("acme"), nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("signing-keys: %d %s", res.StatusCode, body)
	}
	var got struct {
		Keys []manifest.PublicKeyInfo `json:"keys"`
	}
	apptest.Must(t, json.Unmarshal(body, &got))
	keys, err := manifest.KeysFromList(got.Keys)
	apptest.Must(t, err)
	cur, err := manifest.ParseKey(seed)
	apptest.Must(t, err)
	if len(keys) != 2 || !keys[manifest.KeyID(oldPub)].Equal(oldPub) ||
		!keys[manifest.KeyID(cur.Public().(ed25519.PublicKey))].Equal(cur.Public()) {
		t.Fatalf("published keys %s; want the current and the retired one", body)
	}
}
