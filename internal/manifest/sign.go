package manifest

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
)

// Signer signs manifests with one private key.
type Signer struct {
	key ed25519.PrivateKey
	id  string
}

// NewSigner returns a signer for key.
func NewSigner(key ed25519.PrivateKey) (*Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("manifest: private key of %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	return &Signer{key: key, id: KeyID(key.Public().(ed25519.PublicKey))}, nil
}

// KeyID is the id of the signer's public key.
func (s *Signer) KeyID() string { return s.id }

// PublicKey is the key that verifies the signer's manifests.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign returns m normalized (see CanonicalBytes), stamped with the
// signer's key id and Version when m has none, and signed.
func (s *Signer) Sign(m Manifest) (Manifest, error) {
	if m.Version == "" {
		m.Version = Version
	}
	if m.Version != Version {
		return Manifest{}, fmt.Errorf("manifest: cannot sign version %q", m.Version)
	}
	m = m.normalized()
	m.KeyID = s.id
	b, err := m.CanonicalBytes()
	if err != nil {
		return Manifest{}, err
	}
	m.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, b))
	return m, nil
}

// Verification failures, for errors.Is.
var (
	ErrUnsigned   = errors.New("manifest: not signed")
	ErrUnknownKey = errors.New("manifest: signed by an unknown key")
	ErrSignature  = errors.New("manifest: signature does not match")
)

// Verify checks m's signature with the key of keys that m.KeyID names.
func Verify(m Manifest, keys PublicKeys) error {
	if m.Signature == "" {
		return ErrUnsigned
	}
	if m.Version != Version {
		return fmt.Errorf("%w: version %q", ErrFormat, m.Version)
	}
	pub, ok := keys[m.KeyID]
	if !ok {
		return fmt.Errorf("%w: key id %q", ErrUnknownKey, m.KeyID)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: malformed signature", ErrSignature)
	}
	b, err := m.CanonicalBytes()
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, b, sig) {
		return ErrSignature
	}
	return nil
}
