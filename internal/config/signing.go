package config

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ParseSigningKey decodes SIGNING_KEY: base64 (standard or URL alphabet,
// padded or not) of an Ed25519 seed (32 bytes) or of a full private key
// (64 bytes, seed followed by public key, as crypto/ed25519 and most tools
// write it). A 64-byte key whose public half does not match its seed is
// rejected: it is corrupt, and signatures made with it would not verify.
//
// Errors never contain the key.
func ParseSigningKey(s string) (ed25519.PrivateKey, error) {
	raw, err := decodeBase64(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("not base64")
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ed25519.PrivateKeySize:
		k := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
		if !bytes.Equal(k[ed25519.SeedSize:], raw[ed25519.SeedSize:]) {
			return nil, errors.New("the public half of the 64-byte key does not match its seed")
		}
		return k, nil
	default:
		return nil, fmt.Errorf("decodes to %d bytes, want %d or %d", len(raw), ed25519.SeedSize, ed25519.PrivateKeySize)
	}
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}
