package s3

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// inflight counts the part bodies on their way to the server at once.
type inflight struct {
	next      aws.HTTPClient
	now, peak atomic.Int64
}

func (c *inflight) Do(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && req.ContentLength > 0 {
		n := c.now.Add(1)
		defer c.now.Add(-1)
		for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
		}
	}
	return c.next.Do(req)
}

// Issue 12: each upload allocated its own part buffers, so memory grew by
// PartSize×Concurrency per concurrent export. Uploads now share the
// Bucket's pool: five concurrent multipart uploads with a pool of three
// buffers all complete, byte for byte, and never more than three buffers
// exist or travel at once.
func TestUploadsShareTheBufferPool(t *testing.T) {
	b, _ := wiredBucket(t, Config{Concurrency: 2, MaxBufferedParts: 3})
	c := &inflight{}
	b.client = s3.New(b.client.Options(), func(o *s3.Options) {
		c.next = o.HTTPClient
		o.HTTPClient = c
	})
	const uploads = 5
	data := make([][]byte, uploads)
	var wg sync.WaitGroup
	errs := make([]error, uploads)
	for i := range uploads {
		data[i] = make([]byte, 3*MinPartSize+12345)
		_, _ = rand.NewChaCha8([32]byte{byte(i)}).Read(data[i])
		wg.Go(func() {
			_, errs[i] = b.Upload(t.Context(), fmt.Sprintf("pool/%d.bin", i), bytes.NewReader(data[i]), "application/octet-stream")
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
		if got := b.mustRead(t, fmt.Sprintf("pool/%d.bin", i)); !bytes.Equal(got, data[i]) {
			t.Fatalf("upload %d stored %d bytes that differ from the %d sent", i, len(got), len(data[i]))
		}
	}
	if n := b.parts.allocated.Load(); n > 3 {
		t.Fatalf("%d part buffers were allocated; the pool holds 3", n)
	}
	if p := c.peak.Load(); p > 3 {
		t.Fatalf("%d part bodies travelled at once; the pool holds 3", p)
	}
	if n := b.parts.idle(); n != int(b.parts.allocated.Load()) || len(b.parts.tokens) != 0 {
		t.Fatalf("%d of %d buffers are back in the pool after the uploads, %d still out",
			n, b.parts.allocated.Load(), len(b.parts.tokens))
	}
}

// One upload at a time uses Concurrency buffers, however many the pool may
// hold: the pool used to take its slots in turn, so that upload after
// upload allocated all of them (30 MiB in a worker exporting one file at a
// time, which needed 10).
func TestSequentialUploadsReuseTheirBuffers(t *testing.T) {
	b, _ := wiredBucket(t, Config{Concurrency: 2, MaxBufferedParts: 6})
	data := make([]byte, 4*MinPartSize+12345)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(data)
	for i := range 3 {
		key := fmt.Sprintf("seq/%d.bin", i)
		if _, err := b.Upload(t.Context(), key, bytes.NewReader(data), "application/octet-stream"); err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
		if got := b.mustRead(t, key); !bytes.Equal(got, data) {
			t.Fatalf("upload %d stored %d bytes that differ from the %d sent", i, len(got), len(data))
		}
	}
	if n := b.parts.allocated.Load(); n > 2 {
		t.Fatalf("three uploads one after another allocated %d part buffers; each uses 2", n)
	}
}
