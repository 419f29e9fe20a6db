package config

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/manifest"
)

// testSeedB64 is a fixed 32-byte seed (0x00..0x1f), base64.
var testSeedB64 = func() string {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	return base64.StdEncoding.EncodeToString(seed)
}()

func TestParseRetiredKeys(t *testing.T) {
	seed, _ := base64.StdEncoding.DecodeString(testSeedB64)
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)).Public().(ed25519.PublicKey)
	entry := func(k ed25519.PublicKey) string {
		return manifest.KeyID(k) + ":" + base64.StdEncoding.EncodeToString(k)
	}
	vars := map[string]string{"SIGNING_KEYS_RETIRED": entry(pub) + ", " + entry(other)}
	c, err := FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(c.RetiredSigningKeys) != 2 || !c.RetiredSigningKeys[0].Equal(pub) || !c.RetiredSigningKeys[1].Equal(other) {
		t.Fatalf("RetiredSigningKeys = %v", c.RetiredSigningKeys)
	}

	for name, in := range map[string]string{
		// The mistake the key id exists to catch: a SIGNING_KEY seed is 32
		// bytes too, and would be published as if it were a public key.
		"seed with a made-up id": "0123456789abcdef:" + testSeedB64,
		"seed alone":             testSeedB64,
		"seed as the id":         testSeedB64 + ":" + base64.StdEncoding.EncodeToString(pub),
		"id of another key":      manifest.KeyID(other) + ":" + base64.StdEncoding.EncodeToString(pub),
		"short key":              manifest.KeyID(pub) + ":" + base64.StdEncoding.EncodeToString(pub[:31]),
		"not base64":             manifest.KeyID(pub) + ":%%%",
	} {
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{"SIGNING_KEYS_RETIRED": in}
			_, err := FromEnv(func(k string) string { return vars[k] })
			if err == nil || !strings.Contains(err.Error(), "SIGNING_KEYS_RETIRED") {
				t.Fatalf("err = %v; want one naming SIGNING_KEYS_RETIRED", err)
			}
			if strings.Contains(err.Error(), testSeedB64) {
				t.Errorf("error echoes the seed: %v", err)
			}
		})
	}
}
