package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the signature of a delivery:
//
//	Sentinel-Signature: t=1767225600,v1=5257a869e7ec…
//
// t is the Unix time of signing; v1 is the lowercase hex HMAC-SHA256, keyed
// with the whole secret string (prefix included), of "<t>.<body>". A header
// may carry several v1 values (during a secret rotation); one matching is
// enough. Signing the timestamp lets receivers refuse replays.
const SignatureHeader = "Sentinel-Signature"

// EventIDHeader carries the event id, equal on every attempt of a delivery,
// so receivers can ignore duplicates.
const EventIDHeader = "Sentinel-Event-Id"

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// secretPrefix marks webhook secrets so that people and secret scanners
// recognise one.
const secretPrefix = "whsec_"

// Errors of Verify.
var (
	ErrNoSignature       = errors.New("webhook: missing or malformed signature header")
	ErrSignatureMismatch = errors.New("webhook: no signature matches")
	ErrTimestamp         = errors.New("webhook: signature timestamp outside tolerance")
)

// NewSecret returns a new signing secret: "whsec_" and 64 hex digits (256
// random bits).
func NewSecret() string {
	b := make([]byte, 32)
	// crypto/rand.Read does not fail (it crashes the program instead).
	_, _ = rand.Read(b)
	return secretPrefix + hex.EncodeToString(b)
}

// Sign returns the signature header value for body signed at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + signature(secret, ts, body)
}

func signature(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature header against body, as a receiver does: some
// v1 value must be the HMAC of its timestamp and body, and the timestamp must
// be within tolerance of now, either side (DefaultTolerance when tolerance
// is not positive), so a captured request cannot be replayed later. The
// errors are ErrNoSignature, ErrSignatureMismatch and ErrTimestamp.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	want := []byte(signature(secret, ts, body))
	matched := false
	for _, s := range sigs {
		if hmac.Equal([]byte(s), want) {
			matched = true
		}
	}
	if !matched {
		return ErrSignatureMismatch
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed %s, now %s", ErrTimestamp,
			time.Unix(unix, 0).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}
