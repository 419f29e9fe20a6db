// Package secretbox seals the secrets the service must read back later
// (the keys webhooks are signed with) before they are stored, so that a
// copy of the database, a backup or a replica, does not reveal them.
//
// A sealed value is AES-256-GCM (crypto/cipher) under SECRETS_KEY, with a
// fresh random nonce, bound by additional data to the row it belongs to: a
// sealed secret copied into another tenant's row does not open. Its text
// form is
//
//	sb1:KEYID:BASE64URL(nonce ‖ ciphertext ‖ tag)
//
// where KEYID names the key (the first 8 bytes of its SHA-256, in hex), so
// a value sealed under another key fails with an error that says so rather
// than as a mere authentication failure.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of a key: AES-256.
const KeySize = 32

const prefix = "sb1:"

// Box seals and opens secrets under one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
	id   string
}

// New returns a Box for key, which must be KeySize random bytes.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secretbox: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	sum := sha256.Sum256(key)
	return &Box{aead: aead, id: hex.EncodeToString(sum[:8])}, nil
}

// GenerateKey returns a new random key.
func GenerateKey() []byte {
	k := make([]byte, KeySize)
	rand.Read(k) // never fails (crypto/rand panics rather)
	return k
}

// KeyID names the box's key without revealing it.
func (b *Box) KeyID() string { return b.id }

// IsSealed reports whether s is in the sealed form (a value stored before
// sealing was configured is not).
func IsSealed(s string) bool { return strings.HasPrefix(s, prefix) }

// Seal seals plain for the row that context names (a table and its key).
func (b *Box) Seal(plain, context string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	rand.Read(nonce)
	out := b.aead.Seal(nonce, nonce, []byte(plain), []byte(context))
	return prefix + b.id + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// ErrWrongKey is returned for a value sealed under a key other than the
// box's.
var ErrWrongKey = errors.New("secretbox: sealed under another key")

// Open returns the secret sealed in s for the row that context names. A
// value that is not sealed (stored before sealing was configured) is
// returned as it is: such values are sealed in place by a later write.
func (b *Box) Open(s, context string) (string, error) {
	if !IsSealed(s) {
		return s, nil
	}
	id, body, ok := strings.Cut(strings.TrimPrefix(s, prefix), ":")
	if !ok {
		return "", errors.New("secretbox: malformed sealed value")
	}
	if id != b.id {
		return "", fmt.Errorf("%w: %s, this one is %s (is SECRETS_KEY the key it was sealed with?)", ErrWrongKey, id, b.id)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return "", errors.New("secretbox: malformed sealed value")
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(context))
	if err != nil {
		// Tampered with, or moved from another row.
		return "", errors.New("secretbox: the sealed value does not open for this row")
	}
	return string(plain), nil
}
