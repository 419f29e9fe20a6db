// Package objstoretest is the acceptance suite every objstore backend
// passes, and fault injection for tests of code that uses a bucket.
package objstoretest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/objstore"
)

// Abandoner is what a backend's test harness adds to its bucket so the
// suite can leave an upload behind the way a crashed writer would (for S3 a
// multipart upload started and never finished; for a directory a temporary
// file). Run fails for a bucket without it.
type Abandoner interface {
	AbandonUpload(ctx context.Context, key string) error
}

// Run runs the acceptance suite. newBucket returns an empty bucket for each
// subtest; it should also implement Abandoner.
func Run(t *testing.T, newBucket func(t *testing.T) objstore.Bucket) {
	t.Run("UploadStatGet", func(t *testing.T) { testUploadStatGet(t, newBucket(t)) })
	t.Run("Ranges", func(t *testing.T) { testRanges(t, newBucket(t)) })
	t.Run("EmptyObject", func(t *testing.T) { testEmptyObject(t, newBucket(t)) })
	t.Run("OverwriteIsAtomic", func(t *testing.T) { testOverwrite(t, newBucket(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, newBucket(t)) })
	t.Run("InvalidKeys", func(t *testing.T) { testInvalidKeys(t, newBucket(t)) })
	t.Run("List", func(t *testing.T) { testList(t, newBucket(t)) })
	t.Run("LargeStreamedUpload", func(t *testing.T) { testLarge(t, newBucket(t)) })
	t.Run("FailedUploadLeavesNothing", func(t *testing.T) { testFailedUpload(t, newBucket(t)) })
	t.Run("CancelledUploadLeavesNothing", func(t *testing.T) { testCancelledUpload(t, newBucket(t)) })
	t.Run("AbandonedUpload", func(t *testing.T) { testAbandoned(t, newBucket(t)) })
	t.Run("ReadSeekerServeContent", func(t *testing.T) { testServeContent(t, newBucket(t)) })
	t.Run("ReadSeekerStorageFailure", func(t *testing.T) { testServeContentFailure(t, newBucket(t)) })
	t.Run("Ping", func(t *testing.T) {
		if err := newBucket(t).Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// Data returns n deterministic pseudo-random bytes for seed.
func Data(seed uint64, n int64) []byte {
	b, _ := io.ReadAll(Stream(seed, n))
	return b
}

// Stream returns a reader of the same n bytes Data(seed, n) holds, without
// holding them.
func Stream(seed uint64, n int64) io.Reader {
	var s [32]byte
	s[0], s[1], s[2], s[3] = byte(seed), byte(seed>>8), byte(seed>>16), byte(seed>>24)
	return io.LimitReader(rand.NewChaCha8(s), n)
}

func upload(t *testing.T, b objstore.Bucket, key string, data []byte) objstore.ObjectInfo {
	t.Helper()
	info, err := b.Upload(t.Context(), key, bytes.NewReader(data), "text/csv")
	if err != nil {
		t.Fatalf("upload %s: %v", key, err)
	}
	return info
}

func get(t *testing.T, b objstore.Bucket, key string, off, n int64) []byte {
	t.Helper()
	rc, err := b.GetRange(t.Context(), key, off, n)
	if err != nil {
		t.Fatalf("get %s [%d,+%d): %v", key, off, n, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s [%d,+%d): %v", key, off, n, err)
	}
	return got
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, audit.ErrNotFound) {
		t.Fatalf("%s: err = %v, want audit.ErrNotFound", what, err)
	}
}

func wantNothingLeft(t *testing.T, b objstore.Bucket, key string) {
	t.Helper()
	_, err := b.Stat(t.Context(), key)
	wantNotFound(t, "stat after failed upload", err)
	ups, err := b.ListIncompleteUploads(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 0 {
		t.Fatalf("incomplete uploads left behind: %+v", ups)
	}
	err = b.List(t.Context(), "", func(o objstore.ObjectInfo) error {
		t.Errorf("object left behind: %+v", o)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testUploadStatGet(t *testing.T, b objstore.Bucket) {
	data := Data(1, 100_000)
	before := time.Now().Add(-time.Minute)
	info := upload(t, b, "tenants/t1/exports/e1.csv", data)
	if info.Key != "tenants/t1/exports/e1.csv" || info.Size != int64(len(data)) {
		t.Fatalf("upload info = %+v", info)
	}
	st, err := b.Stat(t.Context(), "tenants/t1/exports/e1.csv")
	if err != nil {
		t.Fatal(err)
	}
	if st.Key != info.Key || st.Size != info.Size {
		t.Fatalf("stat = %+v, upload said %+v", st, info)
	}
	if st.LastModified.Before(before) || st.LastModified.After(time.Now().Add(time.Minute)) {
		t.Fatalf("stat LastModified = %v, want about now", st.LastModified)
	}
	if mt, _, _ := mime.ParseMediaType(st.ContentType); mt != "text/csv" {
		t.Fatalf("stat ContentType = %q, want text/csv", st.ContentType)
	}
	if got := get(t, b, info.Key, 0, -1); !bytes.Equal(got, data) {
		t.Fatalf("whole object differs: got %d bytes, want %d", len(got), len(data))
	}
}

func testRanges(t *testing.T, b objstore.Bucket) {
	data := Data(2, 10_000)
	upload(t, b, "r.bin", data)
	size := int64(len(data))
	for _, tc := range []struct {
		name     string
		off, n   int64
		from, to int64
	}{
		{"start", 0, 100, 0, 100},
		{"middle", 4000, 1234, 4000, 5234},
		{"to end", 9000, -1, 9000, size},
		{"last byte", size - 1, 1, size - 1, size},
		{"length past end is clipped", 9990, 100, 9990, size},
		{"whole by length", 0, size, 0, size},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := get(t, b, "r.bin", tc.off, tc.n); !bytes.Equal(got, data[tc.from:tc.to]) {
				t.Fatalf("got %d bytes, want %d (bytes %d-%d)", len(got), tc.to-tc.from, tc.from, tc.to)
			}
		})
	}
	t.Run("zero length", func(t *testing.T) {
		if got := get(t, b, "r.bin", 10, 0); len(got) != 0 {
			t.Fatalf("got %d bytes, want none", len(got))
		}
	})
	t.Run("offset past end", func(t *testing.T) {
		rc, err := b.GetRange(t.Context(), "r.bin", size, -1)
		if err == nil {
			rc.Close()
		}
		if audit.ErrorCode(err) != audit.EINVALID {
			t.Fatalf("err = %v, want code %s", err, audit.EINVALID)
		}
	})
	t.Run("negative offset", func(t *testing.T) {
		_, err := b.GetRange(t.Context(), "r.bin", -1, 10)
		if audit.ErrorCode(err) != audit.EINVALID {
			t.Fatalf("err = %v, want code %s", err, audit.EINVALID)
		}
	})
}

func testEmptyObject(t *testing.T, b objstore.Bucket) {
	info := upload(t, b, "empty.csv", nil)
	if info.Size != 0 {
		t.Fatalf("size = %d", info.Size)
	}
	st, err := b.Stat(t.Context(), "empty.csv")
	if err != nil || st.Size != 0 {
		t.Fatalf("stat = %+v, %v", st, err)
	}
	if got := get(t, b, "empty.csv", 0, -1); len(got) != 0 {
		t.Fatalf("got %d bytes", len(got))
	}
}

// gatedReader serves data but holds back its last byte until gate closes,
// closing paused when it starts to wait.
type gatedReader struct {
	data   []byte
	gate   chan struct{}
	paused chan struct{}
	once   sync.Once
}

func (r *gatedReader) Read(p []byte) (int, error) {
	switch {
	case len(r.data) == 0:
		return 0, io.EOF
	case len(r.data) == 1:
		r.once.Do(func() { close(r.paused) })
		<-r.gate
	default:
		p = p[:min(len(p), len(r.data)-1)]
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func testOverwrite(t *testing.T, b objstore.Bucket) {
	v1, v2 := Data(3, 50_000), Data(4, 70_000)
	upload(t, b, "o.csv", v1)
	r := &gatedReader{data: v2, gate: make(chan struct{}), paused: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := b.Upload(context.Background(), "o.csv", r, "text/csv")
		done <- err
	}()
	<-r.paused
	// Mid-upload, readers see the old object whole.
	if st, err := b.Stat(t.Context(), "o.csv"); err != nil || st.Size != int64(len(v1)) {
		t.Fatalf("stat mid-upload = %+v, %v; want the old %d bytes", st, err, len(v1))
	}
	if got := get(t, b, "o.csv", 0, -1); !bytes.Equal(got, v1) {
		t.Fatalf("mid-upload read %d bytes, want the old object", len(got))
	}
	close(r.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := get(t, b, "o.csv", 0, -1); !bytes.Equal(got, v2) {
		t.Fatalf("after overwrite read %d bytes, want the new %d", len(got), len(v2))
	}
}

func testNotFound(t *testing.T, b objstore.Bucket) {
	ctx := t.Context()
	_, err := b.Stat(ctx, "missing.csv")
	wantNotFound(t, "stat", err)
	_, err = b.GetRange(ctx, "missing.csv", 0, -1)
	wantNotFound(t, "get whole", err)
	_, err = b.GetRange(ctx, "missing.csv", 10, 10)
	wantNotFound(t, "get range", err)
	_, err = b.Stat(ctx, "missing/deeper/x.csv")
	wantNotFound(t, "stat in missing directory", err)
	// Deleting what is not there succeeds: the caller wanted it gone.
	if err := b.Delete(ctx, "missing.csv"); err != nil {
		t.Fatalf("delete missing: %v, want nil", err)
	}
	upload(t, b, "d/x.csv", []byte("x"))
	// A "directory" is not an object.
	_, err = b.Stat(ctx, "d")
	wantNotFound(t, "stat of a key's parent", err)
	if err := b.Delete(ctx, "d/x.csv"); err != nil {
		t.Fatal(err)
	}
	_, err = b.Stat(ctx, "d/x.csv")
	wantNotFound(t, "stat after delete", err)
	_, err = b.GetRange(ctx, "d/x.csv", 0, -1)
	wantNotFound(t, "get after delete", err)
	if err := b.Delete(ctx, "d/x.csv"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
}

func testInvalidKeys(t *testing.T, b objstore.Bucket) {
	for _, key := range []string{"", "/abs.csv", "../up.csv", "a/../../up.csv", "a/./b", "a//b", "dir/", ".", "a\\b"} {
		if _, err := b.Upload(t.Context(), key, strings.NewReader("x"), ""); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("upload %q: err = %v, want objstore.ErrInvalidKey", key, err)
		}
		if _, err := b.Stat(t.Context(), key); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("stat %q: err = %v, want objstore.ErrInvalidKey", key, err)
		}
		if err := b.Delete(t.Context(), key); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("delete %q: err = %v, want objstore.ErrInvalidKey", key, err)
		}
	}
	wantNothingLeft(t, b, "x")
}

func testList(t *testing.T, b objstore.Bucket) {
	keys := []string{"list/a/1.csv", "list/a/2.csv", "list/b/1.csv", "listx.csv", "other/1.csv"}
	for i, k := range keys {
		upload(t, b, k, Data(uint64(i), int64(10+i)))
	}
	list := func(prefix string) []string {
		var got []string
		err := b.List(t.Context(), prefix, func(o objstore.ObjectInfo) error {
			if o.Size != int64(10+slices.Index(keys, o.Key)) || o.LastModified.IsZero() {
				t.Errorf("list %q: %+v", prefix, o)
			}
			got = append(got, o.Key)
			return nil
		})
		if err != nil {
			t.Fatalf("list %q: %v", prefix, err)
		}
		slices.Sort(got)
		return got
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"list/a/", keys[:2]},
		{"list/", keys[:3]},
		{"list", keys[:4]},
		{"list/a/1", keys[:1]},
		{"", keys},
		{"nope/", nil},
	} {
		if got := list(tc.prefix); !slices.Equal(got, tc.want) {
			t.Errorf("list %q = %q, want %q", tc.prefix, got, tc.want)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err := b.List(t.Context(), "", func(objstore.ObjectInfo) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("list stopped by its callback: err = %v after %d calls", err, calls)
	}
}

func testLarge(t *testing.T, b objstore.Bucket) {
	const size = 40 << 20
	want := sha256.New()
	info, err := b.Upload(t.Context(), "big.csv", io.TeeReader(Stream(5, size), want), "text/csv")
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != size {
		t.Fatalf("size = %d, want %d", info.Size, size)
	}
	st, err := b.Stat(t.Context(), "big.csv")
	if err != nil || st.Size != size {
		t.Fatalf("stat = %+v, %v", st, err)
	}
	if mt, _, _ := mime.ParseMediaType(st.ContentType); mt != "text/csv" {
		t.Fatalf("stat ContentType = %q, want text/csv", st.ContentType)
	}
	rc, err := b.GetRange(t.Context(), "big.csv", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got := sha256.New()
	if n, err := io.Copy(got, rc); err != nil || n != size {
		t.Fatalf("read back %d bytes, err %v", n, err)
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatal("SHA-256 of the stored object differs from what was uploaded")
	}
	// A range across what would be a part boundary.
	if got := get(t, b, "big.csv", 8<<20-10, 20); !bytes.Equal(got, Data(5, 8<<20+10)[8<<20-10:]) {
		t.Fatal("range across 8 MiB differs")
	}
}

func testFailedUpload(t *testing.T, b objstore.Bucket) {
	f := NewFaultyBucket(b)
	for _, n := range []int64{0, 1000, 20 << 20} {
		f.FailUploadsAfter(n)
		_, err := f.Upload(t.Context(), "fail.bin", Stream(6, 30<<20), "")
		if !errors.Is(err, ErrInjected) {
			t.Fatalf("upload failing after %d bytes: err = %v, want ErrInjected", n, err)
		}
		wantNothingLeft(t, b, "fail.bin")
	}
}

// cancellingReader cancels its context after n bytes and keeps serving.
type cancellingReader struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n -= int64(n)
	if r.n <= 0 {
		r.cancel()
	}
	return n, err
}

func testCancelledUpload(t *testing.T, b objstore.Bucket) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := b.Upload(ctx, "cancel.bin", &cancellingReader{r: Stream(7, 40<<20), n: 20 << 20, cancel: cancel}, "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	wantNothingLeft(t, b, "cancel.bin")
}

func testAbandoned(t *testing.T, b objstore.Bucket) {
	ab, ok := b.(Abandoner)
	if !ok {
		t.Fatalf("%T does not implement objstoretest.Abandoner; the suite cannot simulate a crashed upload", b)
	}
	ctx := t.Context()
	key := "tenants/t1/exports/crashed.csv"
	if err := ab.AbandonUpload(ctx, key); err != nil {
		t.Fatal(err)
	}
	upload(t, b, "tenants/t2/exports/fine.csv", []byte("ok"))
	_, err := b.Stat(ctx, key)
	wantNotFound(t, "stat of an abandoned upload", err)
	_ = b.List(ctx, "", func(o objstore.ObjectInfo) error {
		if o.Key != "tenants/t2/exports/fine.csv" {
			t.Errorf("List shows %+v", o)
		}
		return nil
	})
	for _, prefix := range []string{"", "tenants/", "tenants/t1/", key} {
		ups, err := b.ListIncompleteUploads(ctx, prefix)
		if err != nil {
			t.Fatal(err)
		}
		if len(ups) != 1 || ups[0].Key != key || ups[0].UploadID == "" {
			t.Fatalf("ListIncompleteUploads(%q) = %+v, want the one for %s", prefix, ups, key)
		}
		if age := time.Since(ups[0].Initiated); age < -time.Minute || age > time.Hour {
			t.Fatalf("Initiated = %v, want about now", ups[0].Initiated)
		}
	}
	ups, err := b.ListIncompleteUploads(ctx, "tenants/t2/")
	if err != nil || len(ups) != 0 {
		t.Fatalf("ListIncompleteUploads(other prefix) = %+v, %v", ups, err)
	}
	ups, _ = b.ListIncompleteUploads(ctx, key)
	if err := b.AbortIncompleteUpload(ctx, ups[0]); err != nil {
		t.Fatal(err)
	}
	if ups, err := b.ListIncompleteUploads(ctx, ""); err != nil || len(ups) != 0 {
		t.Fatalf("after abort: %+v, %v", ups, err)
	}
	// Aborting twice is not an error: the janitor's goal is reached.
	if err := b.AbortIncompleteUpload(ctx, ups[0]); err != nil {
		t.Fatalf("second abort: %v", err)
	}
}

// serve serves key through a ReadSeeker the way the download handler does,
// aborting the connection when storage fails mid-stream.
func serve(b objstore.Reader, key string, size int64, errs chan<- error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs := objstore.NewReadSeeker(r.Context(), b, key, size)
		defer rs.Close()
		w.Header().Set("Content-Type", "text/csv")
		http.ServeContent(w, r, "", time.Time{}, rs)
		errs <- rs.Err()
		if rs.Err() != nil {
			panic(http.ErrAbortHandler)
		}
	})
}

func testServeContent(t *testing.T, b objstore.Bucket) {
	data := Data(8, 300_000)
	upload(t, b, "s.csv", data)
	errs := make(chan error, 1)
	srv := httptest.NewServer(serve(b, "s.csv", int64(len(data)), errs))
	defer srv.Close()
	fetch := func(rangeHdr string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL, nil)
		if rangeHdr != "" {
			req.Header.Set("Range", rangeHdr)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s: %v", rangeHdr, err)
		}
		if err := <-errs; err != nil {
			t.Fatalf("%s: rs.Err() = %v", rangeHdr, err)
		}
		return resp, body
	}
	resp, body := fetch("")
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("full: status %d, %d bytes", resp.StatusCode, len(body))
	}
	for _, tc := range []struct {
		hdr      string
		from, to int
	}{
		{"bytes=0-99", 0, 100},
		{"bytes=150000-150999", 150000, 151000},
		{"bytes=299990-", 299990, 300000},
		{"bytes=-50", 300000 - 50, 300000},
	} {
		resp, body := fetch(tc.hdr)
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[tc.from:tc.to]) {
			t.Fatalf("%s: status %d, %d bytes; want 206 and bytes %d-%d", tc.hdr, resp.StatusCode, len(body), tc.from, tc.to)
		}
	}
	// Several ranges: a multipart/byteranges body, each part re-read.
	resp, body = fetch("bytes=10-19,200000-200009")
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusPartialContent || err != nil {
		t.Fatalf("multi-range: status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for _, want := range [][]byte{data[10:20], data[200000:200010]} {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(p)
		if !bytes.Equal(got, want) {
			t.Fatalf("multi-range part = %q, want %q", got, want)
		}
	}
}

func testServeContentFailure(t *testing.T, b objstore.Bucket) {
	data := Data(9, 1<<20)
	upload(t, b, "f.csv", data)
	f := NewFaultyBucket(b)
	f.FailReadsAfter(100_000)
	errs := make(chan error, 1)
	srv := httptest.NewServer(serve(f, "f.csv", int64(len(data)), errs))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("a body cut short by storage read as complete (%d of %d bytes)", len(body), len(data))
	}
	if len(body) >= len(data) {
		t.Fatalf("got %d bytes", len(body))
	}
	if err := <-errs; !errors.Is(err, ErrInjected) {
		t.Fatalf("rs.Err() = %v, want ErrInjected", err)
	}
}
