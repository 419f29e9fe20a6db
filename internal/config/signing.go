package config

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"

	"github.com/auditsentinel/sentinel/internal/manifest"
)

// ParseRetiredKey decodes one SIGNING_KEYS_RETIRED entry, KEY_ID:PUBLIC_KEY
// as GET /signing-keys lists a key (its key_id and public_key). The key id
// is required because a 32-byte Ed25519 seed (a SIGNING_KEY) looks exactly
// like a public key: put here by mistake, it would be published to the
// world. A seed does not match a key id copied from /signing-keys, so the
// mistake is refused, and the error never shows the value.
func ParseRetiredKey(s string) (ed25519.PublicKey, error) {
	id, b64, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(id) != 16 || strings.Trim(strings.ToLower(id), "0123456789abcdef") != "" {
		// Not shown: it may be a secret pasted in the wrong place.
		return nil, errors.New("not KEY_ID:PUBLIC_KEY with a 16-digit hex key id")
	}
	raw, err := manifest.DecodeBase64(b64)
	if err != nil {
		return nil, fmt.Errorf("key %s: not base64", id)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("key %s: decodes to %d bytes, want %d", id, len(raw), ed25519.PublicKeySize)
	}
	if got := manifest.KeyID(raw); got != strings.ToLower(id) {
		return nil, fmt.Errorf("key %s: the key's id is not %s; copy key_id and public_key from GET /signing-keys "+
			"(never a private key)", id, id)
	}
	return ed25519.PublicKey(raw), nil
}

// ParseSecretsKey decodes SECRETS_KEY: base64 (any alphabet, padded or
// not) of 32 random bytes. Errors never contain the key.
func ParseSecretsKey(s string) ([]byte, error) {
	raw, err := manifest.DecodeBase64(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("not base64")
	}
	if len(raw) != 32 {
		return nil, fmt.Errorf("decodes to %d bytes, want 32", len(raw))
	}
	return raw, nil
}
