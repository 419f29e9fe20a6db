package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignFormat(t *testing.T) {
	secret := "whsec_test"
	body := []byte(`{"id":"evt_1"}`)
	at := time.Unix(1767225600, 0)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("1767225600." + string(body)))
	want := "t=1767225600,v1=" + hex.EncodeToString(mac.Sum(nil))
	if got := Sign(secret, at, body); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	secret := NewSecret()
	body := []byte(`{"id":"evt_1","status":"completed"}`)
	signedAt := time.Unix(1767225600, 0)
	header := Sign(secret, signedAt, body)
	other := Sign("whsec_other", signedAt, body)
	_, otherSig, _ := strings.Cut(other, ",")

	tests := []struct {
		name      string
		secret    string
		header    string
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{"valid", secret, header, body, signedAt.Add(30 * time.Second), 0, nil},
		{"valid at the tolerance edge", secret, header, body, signedAt.Add(5 * time.Minute), 0, nil},
		{"receiver clock slightly behind", secret, header, body, signedAt.Add(-time.Minute), 0, nil},
		{"replayed later", secret, header, body, signedAt.Add(5*time.Minute + time.Second), 0, ErrTimestamp},
		{"replayed within a custom tolerance", secret, header, body, signedAt.Add(2 * time.Minute), time.Minute, ErrTimestamp},
		{"timestamp from the future", secret, header, body, signedAt.Add(-10 * time.Minute), 0, ErrTimestamp},
		{"tampered body", secret, header, []byte(`{"id":"evt_1","status":"failed"}`), signedAt, 0, ErrSignatureMismatch},
		{"wrong secret", "whsec_other", header, body, signedAt, 0, ErrSignatureMismatch},
		{"timestamp changed", secret, strings.Replace(header, "t=1767225600", "t=1767225601", 1), body,
			signedAt, 0, ErrSignatureMismatch},
		{"missing header", secret, "", body, signedAt, 0, ErrNoSignature},
		{"no timestamp", secret, header[strings.Index(header, ",")+1:], body, signedAt, 0, ErrNoSignature},
		{"no signature", secret, "t=1767225600", body, signedAt, 0, ErrNoSignature},
		{"garbage", secret, "sha256=abc", body, signedAt, 0, ErrNoSignature},
		{"one of several v1 matches (rotation)", secret, header + "," + otherSig, body, signedAt, 0, nil},
		{"only an unknown scheme", secret, "t=1767225600,v0=" + strings.Repeat("0", 64), body, signedAt, 0, ErrNoSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, tt.body, tt.now, tt.tolerance)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if a == b {
		t.Fatal("secrets repeat")
	}
	if !strings.HasPrefix(a, "whsec_") || len(a) != len("whsec_")+64 {
		t.Fatalf("secret %q", a)
	}
	if _, err := hex.DecodeString(strings.TrimPrefix(a, "whsec_")); err != nil {
		t.Fatalf("secret %q: %v", a, err)
	}
}
