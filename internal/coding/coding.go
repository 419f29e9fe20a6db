// Package coding undoes an HTTP content coding (RFC 9110 §8.4.1) of the
// ones the export endpoints send: zstd and gzip. The api's encoders live
// with the handlers (internal/httpapi); this is the one decoder their
// clients share: sentinelctl (internal/client), the tests and the bench.
package coding

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// NewReader returns r with content coding c undone ("" and "identity": r
// as it is), or an error wrapping ErrUnsupported. A truncated or corrupted coded stream fails as it is read:
// zstd's checksum, gzip's CRC and size. Decoding runs in the caller's
// goroutine (zstd's concurrent decoder gains nothing when the network or
// the disk is the limit).
func NewReader(c string, r io.Reader) (io.ReadCloser, error) {
	switch c = strings.ToLower(strings.TrimSpace(c)); c {
	case "", "identity":
		return io.NopCloser(r), nil
	case "zstd":
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return d.IOReadCloser(), nil
	case "gzip", "x-gzip":
		g, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return g, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupported, c)
}

// ErrUnsupported is NewReader's error for a coding it does not decode.
var ErrUnsupported = errors.New("content coding is not zstd or gzip")
