package testenv

import (
	"bytes"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Decode returns body, sent in content coding coding ("zstd" or "gzip"),
// decoded; it fails the test when the body is not a complete stream of
// that coding.
func Decode(tb testing.TB, coding string, body []byte) []byte {
	tb.Helper()
	var r io.Reader
	switch coding {
	case "zstd":
		d, err := zstd.NewReader(bytes.NewReader(body))
		if err != nil {
			tb.Fatalf("testenv: zstd: %v", err)
		}
		defer d.Close()
		r = d
	case "gzip":
		g, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			tb.Fatalf("testenv: gzip: %v", err)
		}
		r = g
	default:
		tb.Fatalf("testenv: unknown content coding %q", coding)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("testenv: decode %s: %v", coding, err)
	}
	return plain
}
