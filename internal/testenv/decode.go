package testenv

import (
	"bytes"
	"io"
	"testing"

	"github.com/auditsentinel/sentinel/internal/coding"
)

// Decode returns body, sent in content coding c ("zstd" or "gzip"),
// decoded; it fails the test when the body is not a complete stream of
// that coding.
func Decode(tb testing.TB, c string, body []byte) []byte {
	tb.Helper()
	if c == "" || c == "identity" {
		tb.Fatalf("testenv: Decode of a body sent as is (%q)", c)
	}
	r, err := coding.NewReader(c, bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	defer r.Close()
	plain, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("testenv: decode %s: %v", c, err)
	}
	return plain
}
