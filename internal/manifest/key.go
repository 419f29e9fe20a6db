package manifest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ParseKey reads an Ed25519 private key (SIGNING_KEY): PEM ("PRIVATE KEY",
// PKCS #8), or base64 (standard or URL alphabet, padded or not) of the
// 32-byte seed or of the 64-byte seed‖public key. A 64-byte key whose public
// half does not match its seed is refused: it is corrupt, and signatures
// made with it would not verify. Errors never contain the key.
func ParseKey(s string) (ed25519.PrivateKey, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		block, _ := pem.Decode([]byte(s))
		if block == nil {
			return nil, errors.New("manifest: private key: malformed PEM")
		}
		if block.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("manifest: private key: PEM block %q, want \"PRIVATE KEY\" (PKCS #8)", block.Type)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("manifest: private key: %w", err)
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("manifest: private key: %T, want Ed25519", k)
		}
		return priv, nil
	}
	b, err := DecodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("manifest: private key: not PEM and not base64: %w", err)
	}
	switch len(b) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	case ed25519.PrivateKeySize:
		priv := ed25519.NewKeyFromSeed(b[:ed25519.SeedSize])
		if !priv.Public().(ed25519.PublicKey).Equal(ed25519.PublicKey(b[ed25519.SeedSize:])) {
			return nil, errors.New("manifest: private key: the public half does not match the seed")
		}
		return priv, nil
	default:
		return nil, fmt.Errorf("manifest: private key: %d bytes, want %d (seed) or %d", len(b), ed25519.SeedSize, ed25519.PrivateKeySize)
	}
}

// ParsePublicKey reads an Ed25519 public key: PEM ("PUBLIC KEY", PKIX) or
// base64 of its 32 bytes.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		block, _ := pem.Decode([]byte(s))
		if block == nil || block.Type != "PUBLIC KEY" {
			return nil, errors.New("manifest: public key: want a PEM \"PUBLIC KEY\" block")
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("manifest: public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("manifest: public key: %T, want Ed25519", k)
		}
		return pub, nil
	}
	b, err := DecodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("manifest: public key: not PEM and not base64: %w", err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("manifest: public key: %d bytes, want %d", len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// DecodeBase64 decodes a key written in base64, standard or URL alphabet,
// padded or not: the forms ParseKey and ParsePublicKey read. Configuration
// reads its other keys (SECRETS_KEY) with it too, so every key the service
// is given is written alike.
func DecodeBase64(s string) ([]byte, error) {
	var first error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// GenerateKey returns a new private key and its seed in base64, the form
// ParseKey reads from configuration. For development and the demo.
func GenerateKey() (ed25519.PrivateKey, string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("manifest: generate key: %w", err)
	}
	return priv, base64.StdEncoding.EncodeToString(priv.Seed()), nil
}

// KeyID names a public key: the first 16 hex digits of the SHA-256 of its
// 32 bytes.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// PublicKeys are the keys that may have signed a manifest, by KeyID. A
// service that rotates keys keeps the old public keys here.
type PublicKeys map[string]ed25519.PublicKey

// Add adds pub under its KeyID and returns the id.
func (k PublicKeys) Add(pub ed25519.PublicKey) string {
	id := KeyID(pub)
	k[id] = pub
	return id
}

// PublicKeyInfo is how a public key is published (the signing-keys
// endpoint) and read back by clients.
type PublicKeyInfo struct {
	KeyID     string `json:"key_id"`
	Algorithm string `json:"algorithm"`  // "Ed25519"
	PublicKey string `json:"public_key"` // standard base64 of the 32 bytes
}

// List returns the keys for publication, ordered by key id.
func (k PublicKeys) List() []PublicKeyInfo {
	out := make([]PublicKeyInfo, 0, len(k))
	for _, id := range slices.Sorted(maps.Keys(k)) {
		out = append(out, PublicKeyInfo{KeyID: id, Algorithm: "Ed25519", PublicKey: base64.StdEncoding.EncodeToString(k[id])})
	}
	return out
}

// KeysFromList reads published keys, checking that each key id is the
// key's own.
func KeysFromList(list []PublicKeyInfo) (PublicKeys, error) {
	keys := PublicKeys{}
	for _, info := range list {
		if info.Algorithm != "Ed25519" {
			return nil, fmt.Errorf("manifest: key %s: algorithm %q, want Ed25519", info.KeyID, info.Algorithm)
		}
		pub, err := ParsePublicKey(info.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", info.KeyID, err)
		}
		if id := keys.Add(pub); id != info.KeyID {
			return nil, fmt.Errorf("manifest: key published as %s has id %s", info.KeyID, id)
		}
	}
	return keys, nil
}
