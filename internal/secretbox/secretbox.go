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
// than as a mere authentication failure, and so that keys can rotate: a box
// seals under its current key and opens under any of its retired ones too.
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

// Box seals secrets under its current key and opens them under that key or
// a retired one. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
	id   string
	keys map[string]cipher.AEAD // by key id: the current key and the retired ones
}

// New returns a Box that seals under key and also opens values sealed
// under the retired keys. Every key must be KeySize random bytes.
func New(key []byte, retired ...[]byte) (*Box, error) {
	b := &Box{keys: map[string]cipher.AEAD{}}
	for i, k := range append([][]byte{key}, retired...) {
		id, aead, err := newAEAD(k)
		if err != nil {
			if i > 0 {
				return nil, fmt.Errorf("secretbox: retired key %d: %w", i, err)
			}
			return nil, fmt.Errorf("secretbox: %w", err)
		}
		if i == 0 {
			b.id, b.aead = id, aead
		}
		b.keys[id] = aead
	}
	return b, nil
}

func newAEAD(key []byte) (string, cipher.AEAD, error) {
	if len(key) != KeySize {
		return "", nil, fmt.Errorf("key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8]), aead, nil
}

// GenerateKey returns a new random key.
func GenerateKey() []byte {
	k := make([]byte, KeySize)
	rand.Read(k) // never fails (crypto/rand panics rather)
	return k
}

// KeyID names the box's current key without revealing it.
func (b *Box) KeyID() string { return b.id }

// SealedPrefix is how every value sealed under the current key begins; a
// stored value without it is one to seal again (unsealed, or under a
// retired key).
func (b *Box) SealedPrefix() string { return prefix + b.id + ":" }

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
	aead, ok := b.keys[id]
	if !ok {
		return "", fmt.Errorf("%w: %s, this box has %s (is it a SECRETS_KEY, or SECRETS_KEYS_RETIRED, that sealed it?)",
			ErrWrongKey, id, b.id)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return "", errors.New("secretbox: malformed sealed value")
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, raw[:n], raw[n:], []byte(context))
	if err != nil {
		// Tampered with, or moved from another row.
		return "", errors.New("secretbox: the sealed value does not open for this row")
	}
	return string(plain), nil
}
