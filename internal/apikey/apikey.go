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
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/auditsentinel/sentinel/internal/audit"
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

// Spec describes a key to mint.
type Spec struct {
	TenantID string
	Name     string
	Scopes   []audit.Scope
	// ExpiresAt, when set, is when the key stops working.
	ExpiresAt *time.Time
	// Window, when set, bounds what the key reads; only read-only scopes
	// may carry one (audit.ReadOnlyScopes).
	Window *audit.TimeWindow
}

// Create mints an admin key for tenantID (every scope, no expiry): the key
// an operator makes for a tenant's own administrator.
func Create(ctx context.Context, s Store, tenantID, name string, now time.Time) (audit.APIKey, string, error) {
	return Mint(ctx, s, Spec{TenantID: tenantID, Name: name, Scopes: []audit.Scope{audit.ScopeAdmin}}, now)
}

// MaxNameLength bounds a key's name.
const MaxNameLength = 200

// Check validates spec as of now: known scopes, an expiry in the future,
// and a window only on a read-only key.
func Check(spec Spec, now time.Time) error {
	if err := ValidateTenant(spec.TenantID); err != nil {
		return err
	}
	if len(spec.Name) > MaxNameLength {
		return audit.Invalid("name", "a key name has at most %d bytes", MaxNameLength)
	}
	if len(spec.Scopes) == 0 {
		return audit.Invalid("scopes", "a key needs at least one scope")
	}
	for _, sc := range spec.Scopes {
		if !slices.Contains(audit.Scopes, sc) {
			return &audit.Error{Code: audit.EINVALID, Param: "scopes", Allowed: audit.ScopeNames(), Message: fmt.Sprintf("unknown scope %q", sc)}
		}
	}
	if spec.ExpiresAt != nil && !spec.ExpiresAt.After(now) {
		return audit.Invalid("expires_at", "the expiry must be in the future")
	}
	if spec.Window != nil {
		for _, sc := range spec.Scopes {
			if !slices.Contains(audit.ReadOnlyScopes, sc) {
				return audit.Invalid("window", "a window bounds what a key reads: only keys with the read-only scopes %s and %s may have one, not %s",
					audit.ScopeEventsRead, audit.ScopeSchedulesRead, sc)
			}
		}
	}
	return nil
}

// CheckGrant refuses a key that would give more than its creator has: a
// scope the creator lacks, a life beyond the creator's expiry, or reads
// beyond the creator's window. Without the rule, any key able to mint keys
// could mint its way to everything.
func CheckGrant(creator audit.APIKey, spec Spec) error {
	for _, sc := range spec.Scopes {
		if !creator.Allows(sc) {
			return &audit.Error{Code: audit.EFORBIDDEN, Param: "scopes", Details: map[string]string{"required_scope": string(sc)},
				Message: fmt.Sprintf("this API key cannot grant the scope %s, which it does not have itself", sc)}
		}
	}
	if creator.ExpiresAt != nil && (spec.ExpiresAt == nil || spec.ExpiresAt.After(*creator.ExpiresAt)) {
		return &audit.Error{Code: audit.EFORBIDDEN, Param: "expires_at",
			Message: fmt.Sprintf("this API key expires at %s and cannot create a key that outlives it", creator.ExpiresAt.UTC().Format(time.RFC3339))}
	}
	if creator.Window != nil && (spec.Window == nil || !creator.Window.Contains(spec.Window.Start, spec.Window.End)) {
		return &audit.Error{Code: audit.EFORBIDDEN, Param: "window",
			Message: "this API key is limited to a window and cannot create a key that reads beyond it"}
	}
	return nil
}

// Mint checks spec and stores a new key with the hash of a fresh secret.
// The secret is returned once and cannot be recovered later.
func Mint(ctx context.Context, s Store, spec Spec, now time.Time) (audit.APIKey, string, error) {
	if err := Check(spec, now); err != nil {
		return audit.APIKey{}, "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return audit.APIKey{}, "", fmt.Errorf("apikey: random: %w", err)
	}
	secret := secretPrefix + hex.EncodeToString(b)
	scopes := slices.Clone(spec.Scopes)
	slices.Sort(scopes)
	k := audit.APIKey{
		ID:        uuid.Must(uuid.NewV7()).String(),
		TenantID:  spec.TenantID,
		Name:      spec.Name,
		Prefix:    secret[:len(secretPrefix)+8],
		CreatedAt: now.UTC().Truncate(audit.TimePrecision),
		Scopes:    slices.Compact(scopes),
		Window:    spec.Window,
	}
	if spec.ExpiresAt != nil {
		t := spec.ExpiresAt.UTC().Truncate(audit.TimePrecision)
		k.ExpiresAt = &t
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
	if t == "." || t == ".." {
		// A path segment that means "here" or "up" would not name the
		// tenant's own folder of objects: every export of it would fail.
		return audit.Invalid("tenant", "tenant %q cannot be used: it must not be \".\" or \"..\"", t)
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return audit.Invalid("tenant", "tenant may contain only letters, digits, '-', '_' and '.'")
		}
	}
	return nil
}

// invalidKey is the one answer for a key that exists in no usable form:
// unknown, revoked and expired keys are told apart only in our logs, so a
// caller cannot probe which secrets once were valid.
const invalidKey = "invalid API key: it is unknown, revoked or expired"

// Authenticate resolves a presented secret to its key as of now. Missing,
// unknown, revoked and expired keys are all EUNAUTHORIZED; the last three
// with one message that does not reveal which keys exist or existed.
func Authenticate(ctx context.Context, s Store, secret string, now time.Time) (audit.APIKey, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return audit.APIKey{}, audit.Errorf(audit.EUNAUTHORIZED, "missing API key: send it in the apikey header")
	}
	return ByHash(ctx, s, Hash(secret), now)
}

// ByHash resolves a key by the hash of its secret, as Authenticate does:
// the console keeps only the hash in its session and checks it again on
// every request, so revoking the key ends the session.
func ByHash(ctx context.Context, s Store, secretHash string, now time.Time) (audit.APIKey, error) {
	k, err := s.APIKeyByHash(ctx, secretHash)
	if errors.Is(err, audit.ErrNotFound) {
		return audit.APIKey{}, audit.Errorf(audit.EUNAUTHORIZED, invalidKey)
	}
	if err != nil {
		return audit.APIKey{}, fmt.Errorf("apikey: authenticate: %w", err)
	}
	if k.RevokedAt != nil || (k.ExpiresAt != nil && !now.Before(*k.ExpiresAt)) {
		return audit.APIKey{}, audit.Errorf(audit.EUNAUTHORIZED, invalidKey)
	}
	return k, nil
}
