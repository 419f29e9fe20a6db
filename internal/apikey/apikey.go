// Package apikey mints API keys and resolves a presented key to its tenant.
// Keys are 256-bit random secrets, so a plain SHA-256 is the right hash:
// there is nothing to brute-force, and lookups stay a single index probe.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/google/uuid"
)

// secretPrefix marks our keys so that secret scanners (and people) can
// recognise one in a log or a repository.
const secretPrefix = "ask_"

// Hash returns the stored form of a secret.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Store is what the authenticator and the minting need.
type Store interface {
	CreateAPIKey(ctx context.Context, k audit.APIKey, secretHash string) error
	APIKeyByHash(ctx context.Context, secretHash string) (audit.APIKey, error)
}

// Create mints a key for tenantID and stores its hash. The secret is
// returned once and cannot be recovered later.
func Create(ctx context.Context, s Store, tenantID, name string, now time.Time) (audit.APIKey, string, error) {
	if err := ValidateTenant(tenantID); err != nil {
		return audit.APIKey{}, "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return audit.APIKey{}, "", fmt.Errorf("apikey: random: %w", err)
	}
	secret := secretPrefix + hex.EncodeToString(b)
	k := audit.APIKey{
		ID:        uuid.Must(uuid.NewV7()).String(),
		TenantID:  tenantID,
		Name:      name,
		Prefix:    secret[:len(secretPrefix)+8],
		CreatedAt: now.UTC().Truncate(audit.TimePrecision),
	}
	if err := s.CreateAPIKey(ctx, k, Hash(secret)); err != nil {
		return audit.APIKey{}, "", fmt.Errorf("apikey: create: %w", err)
	}
	return k, secret, nil
}

// ValidateTenant checks a tenant id: it becomes part of object keys, so it
// is restricted to a safe alphabet.
func ValidateTenant(t string) error {
	if t == "" || len(t) > 64 {
		return audit.Invalid("tenant", "tenant must be 1 to 64 characters")
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return audit.Invalid("tenant", "tenant may contain only letters, digits, '-', '_' and '.'")
		}
	}
	return nil
}

// Authenticate resolves a presented secret to its key. Missing, unknown and
// revoked keys are all EUNAUTHORIZED with a message that does not reveal
// which keys exist.
func Authenticate(ctx context.Context, s Store, secret string) (audit.APIKey, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return audit.APIKey{}, audit.Errorf(audit.EUNAUTHORIZED, "missing API key: send it in the apikey header")
	}
	return ByHash(ctx, s, Hash(secret))
}

// ByHash resolves a key by the hash of its secret, as Authenticate does:
// the console keeps only the hash in its session and checks it again on
// every request, so revoking the key ends the session.
func ByHash(ctx context.Context, s Store, secretHash string) (audit.APIKey, error) {
	k, err := s.APIKeyByHash(ctx, secretHash)
	if errors.Is(err, audit.ErrNotFound) {
		return audit.APIKey{}, audit.Errorf(audit.EUNAUTHORIZED, "invalid API key")
	}
	if err != nil {
		return audit.APIKey{}, fmt.Errorf("apikey: authenticate: %w", err)
	}
	if k.RevokedAt != nil {
		return audit.APIKey{}, audit.Errorf(audit.EUNAUTHORIZED, "invalid API key: it was revoked")
	}
	return k, nil
}
