package s3

import (
	"bytes"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/auditsentinel/sentinel/internal/objstore/objstoretest"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// wire sits between the SDK and the network, after signing: it records
// what data-carrying requests declared, can corrupt their bodies, and can
// hide the checksum the server echoes.
type wire struct {
	next aws.HTTPClient

	mu        sync.Mutex
	corrupt   bool // flip a byte of the next PUT's body
	hideEcho  bool // drop x-amz-checksum-crc32c from answers
	payloads  []string
	checksums []string
}

func (w *wire) Do(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && req.ContentLength > 0 {
		w.mu.Lock()
		w.payloads = append(w.payloads, req.Header.Get("X-Amz-Content-Sha256"))
		w.checksums = append(w.checksums, req.Header.Get("X-Amz-Checksum-Crc32c"))
		if w.corrupt {
			w.corrupt = false
			req.Body = struct {
				io.Reader
				io.Closer
			}{&flipper{r: req.Body, at: req.ContentLength / 2}, req.Body}
		}
		w.mu.Unlock()
	}
	resp, err := w.next.Do(req)
	if err == nil && w.hideEcho {
		resp.Header.Del("X-Amz-Checksum-Crc32c")
	}
	return resp, err
}

// flipper flips one bit of the byte at offset at.
type flipper struct {
	r   io.Reader
	off int64
	at  int64
}

func (f *flipper) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if f.at >= f.off && f.at < f.off+int64(n) {
		p[f.at-f.off] ^= 1
	}
	f.off += int64(n)
	return n, err
}

// wiredBucket is a Bucket on a fresh versitygw whose requests go through w.
func wiredBucket(t *testing.T, cfg Config) (*Bucket, *wire) {
	t.Helper()
	srv := testenv.VersityGW(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	cfg.Bucket, cfg.ForcePathStyle = srv.Bucket, true
	if cfg.PartSize == 0 {
		cfg.PartSize = MinPartSize
	}
	b, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &wire{}
	b.client = s3.New(b.client.Options(), func(o *s3.Options) {
		w.next = o.HTTPClient
		o.HTTPClient = w
	})
	return b, w
}

func (b *Bucket) mustRead(t *testing.T, key string) []byte {
	t.Helper()
	r, err := b.GetRange(t.Context(), key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func isSHA256(s string) bool {
	h, err := hex.DecodeString(s)
	return err == nil && len(h) == 32
}

// sizes covers a single PutObject and a three-part multipart upload.
var sizes = []struct {
	name string
	n    int64
}{{"put", 100_000}, {"multipart", 2*MinPartSize + 12345}}

func TestUploadSendsCheckedUnsignedBodies(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			b, w := wiredBucket(t, Config{})
			data := objstoretest.Data(3, sz.n)
			if _, err := b.Upload(t.Context(), "k", bytes.NewReader(data), "text/csv"); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.mustRead(t, "k"), data) {
				t.Fatal("stored object differs from the upload")
			}
			if len(w.payloads) == 0 {
				t.Fatal("no data-carrying request seen")
			}
			for i := range w.payloads {
				if w.payloads[i] != "UNSIGNED-PAYLOAD" || w.checksums[i] == "" {
					t.Errorf("request %d: X-Amz-Content-Sha256 %q, X-Amz-Checksum-Crc32c %q; want UNSIGNED-PAYLOAD and a checksum",
						i, w.payloads[i], w.checksums[i])
				}
			}
			if b.noChecksums.Load() {
				t.Error("versitygw echoes checksums, but the bucket decided it does not")
			}
			// The object's checksum is the whole object's CRC32C, which the
			// SDK can check on reads (a multipart COMPOSITE one it cannot).
			head, err := b.client.HeadObject(t.Context(), &s3.HeadObjectInput{
				Bucket: &b.bucket, Key: aws.String("k"), ChecksumMode: types.ChecksumModeEnabled,
			})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := aws.ToString(head.ChecksumCRC32C), checksumCRC32C(data); got != want {
				t.Errorf("object CRC32C %q (type %q), want %q", got, head.ChecksumType, want)
			}
		})
	}
}

func TestUploadSignPayload(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			b, w := wiredBucket(t, Config{SignPayload: true})
			data := objstoretest.Data(4, sz.n)
			if _, err := b.Upload(t.Context(), "k", bytes.NewReader(data), ""); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.mustRead(t, "k"), data) {
				t.Fatal("stored object differs from the upload")
			}
			for i := range w.payloads {
				if !isSHA256(w.payloads[i]) || w.checksums[i] == "" {
					t.Errorf("request %d: X-Amz-Content-Sha256 %q, X-Amz-Checksum-Crc32c %q; want a SHA-256 and a checksum",
						i, w.payloads[i], w.checksums[i])
				}
			}
		})
	}
}

// A body damaged on the way, after the client computed its checksum, is
// refused by the server: the upload fails and stores nothing.
func TestUploadCorruptedBodyIsRefused(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			b, w := wiredBucket(t, Config{})
			w.corrupt = true
			_, err := b.Upload(t.Context(), "k", bytes.NewReader(objstoretest.Data(5, sz.n)), "")
			if err == nil {
				t.Fatal("upload of a corrupted body succeeded")
			}
			t.Log(err)
			if _, err := b.Stat(t.Context(), "k"); err == nil {
				t.Fatal("a corrupted upload left an object behind")
			}
			ups, err := b.ListIncompleteUploads(t.Context(), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(ups) != 0 {
				t.Fatalf("incomplete uploads left: %v", ups)
			}
		})
	}
}

// A server that does not echo checksums may not verify them: the body is
// sent again with a signed payload, and so is every later one.
func TestUploadServerIgnoringChecksumsGetsSignedPayloads(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			b, w := wiredBucket(t, Config{})
			w.hideEcho = true
			data := objstoretest.Data(6, sz.n)
			if _, err := b.Upload(t.Context(), "k", bytes.NewReader(data), ""); err != nil {
				t.Fatal(err)
			}
			if !b.noChecksums.Load() {
				t.Fatal("the bucket did not notice the missing checksum echo")
			}
			if !bytes.Equal(b.mustRead(t, "k"), data) {
				t.Fatal("stored object differs from the upload")
			}
			// Every unsigned body was followed, some time later, by a signed
			// one; once the first signed one went, all later are signed.
			unsigned, signed := 0, 0
			for i, p := range w.payloads {
				switch {
				case p == "UNSIGNED-PAYLOAD":
					unsigned++
				case isSHA256(p):
					signed++
				default:
					t.Errorf("request %d: X-Amz-Content-Sha256 %q", i, p)
				}
			}
			if unsigned == 0 || signed < unsigned {
				t.Fatalf("%d unsigned and %d signed bodies: %q", unsigned, signed, w.payloads)
			}

			w.payloads = nil
			if _, err := b.Upload(t.Context(), "k2", bytes.NewReader(data), ""); err != nil {
				t.Fatal(err)
			}
			for i, p := range w.payloads {
				if !isSHA256(p) {
					t.Errorf("later upload, request %d: X-Amz-Content-Sha256 %q, want a SHA-256", i, p)
				}
			}
		})
	}
}

func TestChecksumCRC32C(t *testing.T) {
	// RFC 3720 B.4: the CRC32C of 32 zero bytes is 0x8a9136aa.
	if got, want := checksumCRC32C(make([]byte, 32)), "ipE2qg=="; got != want {
		t.Fatalf("CRC32C of 32 zero bytes = %s, want %s", got, want)
	}
}
