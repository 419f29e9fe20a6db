package manifest_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/manifest"
)

// TestParseSigningKey is ParseKey on the forms SIGNING_KEY is given in;
// an error never shows the key.
func TestParseSigningKey(t *testing.T) {
	want := ed25519.NewKeyFromSeed(seed)
	corrupt := bytes.Clone(want)
	corrupt[63] ^= 1

	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"seed std", base64.StdEncoding.EncodeToString(seed), true},
		{"seed raw url", base64.RawURLEncoding.EncodeToString(seed), true},
		{"private key", base64.StdEncoding.EncodeToString(want), true},
		{"private key raw std", base64.RawStdEncoding.EncodeToString(want), true},
		{"corrupt public half", base64.StdEncoding.EncodeToString(corrupt), false},
		{"wrong length", base64.StdEncoding.EncodeToString(seed[:31]), false},
		{"not base64", "%%%", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := manifest.ParseKey(tt.in)
			if !tt.ok {
				if err == nil {
					t.Fatal("no error")
				}
				if strings.Contains(err.Error(), tt.in) {
					t.Errorf("error echoes the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(want) {
				t.Error("wrong key")
			}
			sig := ed25519.Sign(got, []byte("manifest"))
			if !ed25519.Verify(want.Public().(ed25519.PublicKey), []byte("manifest"), sig) {
				t.Error("signature does not verify")
			}
		})
	}
}
