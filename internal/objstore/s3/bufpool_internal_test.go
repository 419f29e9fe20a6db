package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
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
	if p := b.parts.peak; p > 3 {
		t.Fatalf("%d part buffers were out at once; the pool holds 3", p)
	}
	if n := b.parts.idle(); n != int(b.parts.allocated.Load()) || b.parts.out != 0 || b.parts.uploads != 0 {
		t.Fatalf("%d of %d buffers are back in the pool after the uploads, %d still out, %d uploads still joined",
			n, b.parts.allocated.Load(), b.parts.out, b.parts.uploads)
	}
}

// Two concurrent uploads against a real server, with the default pool:
// they complete, byte for byte, with three buffers between them, not two
// each (TestPartPoolLendsOneMoreThanItsUploads shows why not).
func TestTwoUploadsShareThreeBuffers(t *testing.T) {
	b, _ := wiredBucket(t, Config{})
	var wg sync.WaitGroup
	data := make([][]byte, 2)
	errs := make([]error, 2)
	for i := range data {
		data[i] = make([]byte, 4*MinPartSize+12345)
		_, _ = rand.NewChaCha8([32]byte{byte(10 + i)}).Read(data[i])
		wg.Go(func() {
			_, errs[i] = b.Upload(t.Context(), fmt.Sprintf("two/%d.bin", i), bytes.NewReader(data[i]), "application/octet-stream")
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
		if got := b.mustRead(t, fmt.Sprintf("two/%d.bin", i)); !bytes.Equal(got, data[i]) {
			t.Fatalf("upload %d stored %d bytes that differ from the %d sent", i, len(got), len(data[i]))
		}
	}
	if p, n := b.parts.peak, b.parts.allocated.Load(); p > 3 || n > 3 {
		t.Fatalf("two uploads had %d part buffers out at once, %d allocated; they may have 3", p, n)
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

// Issue 12: two uploads held four buffers (two each), though filling a
// part takes an export far longer than sending one; the pool now lends one
// buffer per upload and one more. Two uploads that got three find no
// fourth; a third upload joining makes room for one more.
func TestPartPoolLendsOneMoreThanItsUploads(t *testing.T) {
	p := newPartPool(4096, DefaultMaxBufferedParts)
	a, b := p.join(), p.join()
	mustGet(t, a)
	mustGet(t, b)
	mustGet(t, a)
	if buf, ok := tryGet(b); ok {
		t.Fatalf("two uploads got a fourth buffer (%d bytes); they may have 3", len(buf))
	}
	got := waitFor(t, p, b)
	c := p.join()
	<-got // c's joining made room, and b waited for it
	if buf, ok := tryGet(c); ok {
		t.Fatalf("three uploads got a fifth buffer (%d bytes); they may have 4", len(buf))
	}
	if p.peak != 4 {
		t.Fatalf("the pool lent %d buffers at most, want 4", p.peak)
	}
}

// When more uploads run than there are buffers, one that holds none gets
// the next buffer given back before one that wants another, however long
// the other has waited: every upload gets its first, and so no export
// waits behind the others' second buffers.
func TestPartPoolServesUploadsWithoutABufferFirst(t *testing.T) {
	p := newPartPool(4096, 3)
	a, b, c := p.join(), p.join(), p.join()
	a1 := mustGet(t, a)
	mustGet(t, b)
	a2 := mustGet(t, a)
	bGot := waitFor(t, p, b) // b has one and waits for another
	cGot := waitFor(t, p, c) // c has none
	// put hands the buffer over before it returns.
	a.put(a2)
	if held(c) != 1 || held(b) != 1 {
		t.Fatalf("b holds %d buffers, c %d: the one given back should have gone to c, which had none", held(b), held(c))
	}
	<-cGot
	a.put(a1)
	<-bGot
}

// A get whose context ends while it waits takes no buffer.
func TestPartPoolGetGivesUpWithItsContext(t *testing.T) {
	p := newPartPool(4096, 1)
	a, b := p.join(), p.join()
	buf := mustGet(t, a)
	ctx, cancel := context.WithCancelCause(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := b.get(ctx)
		errc <- err
	}()
	waitWaiting(t, p, 1)
	stop := errors.New("stop")
	cancel(stop)
	if err := <-errc; !errors.Is(err, stop) {
		t.Fatalf("get = %v, want the context's cause", err)
	}
	a.put(buf)
	if p.out != 0 || len(p.waiting) != 0 || held(b) != 0 {
		t.Fatalf("after a cancelled get: %d out, %d waiting, b holds %d", p.out, len(p.waiting), held(b))
	}
}

func mustGet(t *testing.T, u *uploadParts) []byte {
	t.Helper()
	buf, ok := tryGet(u)
	if !ok {
		t.Fatal("no buffer free")
	}
	return buf
}

// tryGet takes a buffer if one is free at once.
func tryGet(u *uploadParts) ([]byte, bool) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	buf, err := u.get(ctx)
	return buf, err == nil
}

// waitFor has u wait for a buffer in a goroutine and returns once it waits;
// the channel gets the buffer.
func waitFor(t *testing.T, p *partPool, u *uploadParts) <-chan []byte {
	t.Helper()
	p.mu.Lock()
	n := len(p.waiting)
	p.mu.Unlock()
	got := make(chan []byte, 1)
	go func() {
		buf, err := u.get(t.Context())
		if err != nil {
			t.Error(err)
		}
		got <- buf
	}()
	waitWaiting(t, p, n+1)
	return got
}

// waitWaiting returns once n uploads wait for a buffer.
func waitWaiting(t *testing.T, p *partPool, n int) {
	t.Helper()
	for {
		p.mu.Lock()
		w := len(p.waiting)
		p.mu.Unlock()
		if w == n {
			return
		}
		if t.Context().Err() != nil {
			t.Fatalf("%d uploads wait, want %d", w, n)
		}
		runtime.Gosched()
	}
}

func held(u *uploadParts) int {
	u.p.mu.Lock()
	defer u.p.mu.Unlock()
	return u.held
}
