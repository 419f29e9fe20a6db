package secretbox_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/secretbox"
)

func box(t *testing.T) *secretbox.Box {
	t.Helper()
	b, err := secretbox.New(secretbox.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	b := box(t)
	for _, plain := range []string{"whsec_abc", "", strings.Repeat("x", 10000), "ünïcode"} {
		s, err := b.Seal(plain, "tenant_webhook_secrets\x00acme")
		if err != nil {
			t.Fatal(err)
		}
		if !secretbox.IsSealed(s) || (plain != "" && strings.Contains(s, plain)) {
			t.Fatalf("sealed form %q shows the secret or is not marked", s)
		}
		again, _ := b.Seal(plain, "tenant_webhook_secrets\x00acme")
		if again == s {
			t.Fatal("two seals of one secret are equal: the nonce is not fresh")
		}
		got, err := b.Open(s, "tenant_webhook_secrets\x00acme")
		if err != nil || got != plain {
			t.Fatalf("Open = %q, %v; want %q", got, err, plain)
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	b := box(t)
	s, _ := b.Seal("whsec_abc", "tenant_webhook_secrets\x00acme")
	flip := []byte(s)
	flip[len(flip)-3] ^= 'A' ^ 'B'
	if flip[len(flip)-3] == s[len(s)-3] {
		flip[len(flip)-3] = 'C'
	}
	for name, tc := range map[string]struct{ value, context string }{
		"another row":  {s, "tenant_webhook_secrets\x00evil"},
		"another kind": {s, "schedules\x00acme\x00s1"},
		"tampered":     {string(flip), "tenant_webhook_secrets\x00acme"},
		"truncated":    {s[:len(s)-10], "tenant_webhook_secrets\x00acme"},
		"no body":      {"sb1:" + b.KeyID(), "tenant_webhook_secrets\x00acme"},
	} {
		if got, err := b.Open(tc.value, tc.context); err == nil {
			t.Errorf("%s: opened to %q", name, got)
		}
	}
	other := box(t)
	if _, err := other.Open(s, "tenant_webhook_secrets\x00acme"); !errors.Is(err, secretbox.ErrWrongKey) ||
		!strings.Contains(err.Error(), b.KeyID()) {
		t.Errorf("another key: %v; want ErrWrongKey naming key %s", err, b.KeyID())
	}
}

// Values stored before sealing was configured read back as they are.
func TestOpenUnsealed(t *testing.T) {
	if got, err := box(t).Open("whsec_plain", "x"); err != nil || got != "whsec_plain" {
		t.Fatalf("Open(plain) = %q, %v", got, err)
	}
}

func TestNewRejectsBadKeys(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := secretbox.New(make([]byte, n)); err == nil {
			t.Errorf("a %d-byte key was accepted", n)
		}
	}
}

// After a rotation the box seals under the new key and still opens what the
// retired one sealed; without the retired key those values do not open.
func TestRotation(t *testing.T) {
	oldKey, newKey := secretbox.GenerateKey(), secretbox.GenerateKey()
	old, _ := secretbox.New(oldKey)
	sealedOld, _ := old.Seal("whsec_abc", "row")
	rotated, err := secretbox.New(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.Open(sealedOld, "row"); err != nil || got != "whsec_abc" {
		t.Fatalf("a value of the retired key: %q, %v", got, err)
	}
	sealedNew, _ := rotated.Seal("whsec_abc", "row")
	if strings.HasPrefix(sealedOld, rotated.SealedPrefix()) || !strings.HasPrefix(sealedNew, rotated.SealedPrefix()) {
		t.Fatalf("SealedPrefix %q: old %q, new %q", rotated.SealedPrefix(), sealedOld, sealedNew)
	}
	if _, err := old.Open(sealedNew, "row"); !errors.Is(err, secretbox.ErrWrongKey) {
		t.Errorf("the retired key alone opened a value of the new one: %v", err)
	}
	alone, _ := secretbox.New(newKey)
	if _, err := alone.Open(sealedOld, "row"); !errors.Is(err, secretbox.ErrWrongKey) {
		t.Errorf("the new key alone opened a value of the retired one: %v", err)
	}
	if _, err := secretbox.New(newKey, oldKey[:16]); err == nil {
		t.Error("a short retired key was accepted")
	}
}
