package objstoretest

import (
	"context"
	"errors"
	"io"
	"sync/atomic"

	"github.com/auditsentinel/sentinel/internal/objstore"
)

// ErrInjected is the error a FaultyBucket's faults return.
var ErrInjected = errors.New("objstoretest: injected fault")

// FaultyBucket wraps a real bucket and breaks it on request: read bodies
// that fail part-way, uploads whose input fails part-way. Everything else
// is the real bucket's behaviour. Faults are off until switched on, and may
// be switched while in use.
type FaultyBucket struct {
	objstore.Bucket
	readAfter   atomic.Int64
	uploadAfter atomic.Int64
}

// NewFaultyBucket wraps b with every fault off.
func NewFaultyBucket(b objstore.Bucket) *FaultyBucket {
	f := &FaultyBucket{Bucket: b}
	f.readAfter.Store(-1)
	f.uploadAfter.Store(-1)
	return f
}

// FailReadsAfter makes every body GetRange returns from now on fail with
// ErrInjected after n bytes of that body; n < 0 switches the fault off.
func (f *FaultyBucket) FailReadsAfter(n int64) { f.readAfter.Store(n) }

// FailUploadsAfter makes every Upload from now on see its input fail with
// ErrInjected after n bytes, as if the producer broke; the real backend then
// has to clean up. n < 0 switches the fault off.
func (f *FaultyBucket) FailUploadsAfter(n int64) { f.uploadAfter.Store(n) }

// GetRange implements objstore.Reader.
func (f *FaultyBucket) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	body, err := f.Bucket.GetRange(ctx, key, offset, length)
	if err != nil {
		return nil, err
	}
	if n := f.readAfter.Load(); n >= 0 {
		return struct {
			io.Reader
			io.Closer
		}{&failingReader{r: body, left: n}, body}, nil
	}
	return body, nil
}

// Upload implements objstore.Writer.
func (f *FaultyBucket) Upload(ctx context.Context, key string, r io.Reader, contentType string) (objstore.ObjectInfo, error) {
	if n := f.uploadAfter.Load(); n >= 0 {
		r = &failingReader{r: r, left: n}
	}
	return f.Bucket.Upload(ctx, key, r, contentType)
}

// failingReader passes left bytes through, then fails.
type failingReader struct {
	r    io.Reader
	left int64
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, ErrInjected
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.r.Read(p)
	r.left -= int64(n)
	return n, err
}
