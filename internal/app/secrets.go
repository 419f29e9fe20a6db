package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"

	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/secretbox"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
)

// secretsKeyFile keeps embedded mode's generated SECRETS_KEY beside the data.
const secretsKeyFile = "secrets-key"

// sealSecrets returns store sealing the webhook secrets it keeps under
// SECRETS_KEY (store itself when there is no key), having sealed those stored before the key was set or under a
// key now in SECRETS_KEYS_RETIRED (a rotation). Embedded mode
// without SECRETS_KEY loads or generates a key in DataDir, as it does the
// signing key; a distributed deployment without it stores them unsealed
// and says so (one generated per process would not open the others' rows).
func sealSecrets(ctx context.Context, cfg config.Config, embedded bool, store *sqlstore.DB, logger *slog.Logger) (*sqlstore.DB, error) {
	key := cfg.SecretsKey
	if key == nil && embedded {
		f, created, err := keyFile(DataDir(cfg), secretsKeyFile, func() (string, error) {
			return base64.StdEncoding.EncodeToString(secretbox.GenerateKey()), nil
		})
		if err == nil {
			key, err = config.ParseSecretsKey(f.contents)
		}
		if err != nil {
			return nil, fmt.Errorf("secrets key %s: %w", f.name, err)
		}
		if created {
			logger.Info("embedded mode: generated the key that seals webhook secrets; set SECRETS_KEY in production",
				"path", f.name)
		}
	}
	if key == nil {
		logger.Warn("SECRETS_KEY is unset: webhook signing secrets are stored unsealed in the database")
		return store, nil
	}
	box, err := secretbox.New(key, cfg.RetiredSecretsKeys...)
	if err != nil {
		return nil, err
	}
	store = store.WithSecretBox(box)
	n, unopened, err := store.SealStoredSecrets(ctx)
	if err != nil {
		return nil, fmt.Errorf("seal the webhook secrets stored before SECRETS_KEY: %w", err)
	}
	if unopened > 0 {
		logger.Error("webhook secrets sealed under a key neither SECRETS_KEY nor SECRETS_KEYS_RETIRED holds: "+
			"their webhooks fail until that key is configured again or the secrets are rotated",
			"count", unopened, "key_id", box.KeyID())
	}
	if n > 0 {
		logger.Info("sealed webhook secrets stored unsealed or under a retired key", "count", n, "key_id", box.KeyID())
	}
	return store, nil
}
