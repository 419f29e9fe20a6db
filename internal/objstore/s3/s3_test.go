package s3_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/objstore"
	"github.com/auditsentinel/sentinel/internal/objstore/objstoretest"
	s3store "github.com/auditsentinel/sentinel/internal/objstore/s3"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// server starts versitygw and points the SDK's environment at it.
func server(t testing.TB, posixFlags ...string) testenv.S3 {
	t.Helper()
	srv := testenv.VersityGW(t, posixFlags...)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return srv
}

func newBucket(t testing.TB, srv testenv.S3, prefix string) *s3store.Bucket {
	t.Helper()
	b, err := s3store.New(t.Context(), s3store.Config{
		Bucket: srv.Bucket, Prefix: prefix, ForcePathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sdkClient is a plain SDK client on the same server, for doing what the
// Bucket never does (leaving uploads unfinished).
func sdkClient(srv testenv.S3) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.Endpoint),
		Region:       srv.Region,
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}, nil
		}),
	})
}

// crashable starts multipart uploads and never finishes them, as a writer
// killed mid-upload would.
type crashable struct {
	*s3store.Bucket
	client         *s3.Client
	bucket, prefix string
}

func (c crashable) AbandonUpload(ctx context.Context, key string) error {
	out, err := c.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &c.bucket, Key: aws.String(c.prefix + "/" + key),
	})
	if err != nil {
		return err
	}
	_, err = c.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: &c.bucket, Key: aws.String(c.prefix + "/" + key), UploadId: out.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(objstoretest.Data(1, 1000)),
	})
	return err
}

// The contract suite runs against versitygw as AWS behaves (a part's ETag
// is its MD5) and with --data-integrity-etag, as some S3-compatible stores
// behave (ETags derived from a CRC, which make no MD5 of every byte;
// make bench runs versitygw so): nothing may depend on an ETag's form.
func TestAcceptance(t *testing.T) {
	for name, flags := range map[string][]string{"MD5ETags": nil, "ChecksumETags": {"--data-integrity-etag"}} {
		t.Run(name, func(t *testing.T) {
			srv := server(t, flags...)
			client := sdkClient(srv)
			// The server is in the mode the name says (a multi-part
			// upload, as exports are).
			if _, err := newBucket(t, srv, "mode").Upload(t.Context(), "probe", bytes.NewReader(objstoretest.Data(3, 12<<20)), "text/csv"); err != nil {
				t.Fatal(err)
			}
			head, err := client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &srv.Bucket, Key: aws.String("mode/probe")})
			if err != nil {
				t.Fatal(err)
			}
			if etag := aws.ToString(head.ETag); strings.Contains(etag, "CRC") != (flags != nil) {
				t.Fatalf("ETag %s: want a CRC-derived one: %v", etag, flags != nil)
			}
			objstoretest.Run(t, func(t *testing.T) objstore.Bucket {
				// One server, a fresh prefix per subtest: a bucket of its own.
				prefix := testenv.RandomName("t")
				return crashable{newBucket(t, srv, prefix), client, srv.Bucket, prefix}
			})
		})
	}
}

func TestPresignGet(t *testing.T) {
	srv := server(t)
	b := newBucket(t, srv, "exports")
	data := objstoretest.Data(1, 200_000)
	if _, err := b.Upload(t.Context(), "tenants/t1/e.csv", bytes.NewReader(data), "text/csv"); err != nil {
		t.Fatal(err)
	}
	u, exp, err := b.PresignGet(t.Context(), "tenants/t1/e.csv", 5*time.Minute, "audit-events_t1.csv")
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(exp); d < 4*time.Minute || d > 5*time.Minute {
		t.Fatalf("expires in %s, want about 5m", d)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("GET presigned: status %d, %d bytes: %.200s", resp.StatusCode, len(body), body)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename=audit-events_t1.csv` &&
		cd != `attachment; filename="audit-events_t1.csv"` {
		t.Fatalf("Content-Disposition = %q", cd)
	}

	// Tampering with the URL breaks the signature.
	resp2, err := http.Get(strings.Replace(u, "e.csv", "f.csv", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusForbidden {
		t.Fatalf("tampered URL: status %d, want 403", resp2.StatusCode)
	}

	if _, _, err := b.PresignGet(t.Context(), "x", 8*24*time.Hour, ""); audit.ErrorCode(err) != audit.EINVALID {
		t.Fatalf("ttl over 7 days: err = %v", err)
	}
}

func TestPing(t *testing.T) {
	srv := server(t)
	if err := newBucket(t, srv, "").Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	missing, err := s3store.New(t.Context(), s3store.Config{Bucket: "no-such-bucket", ForcePathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := missing.Ping(t.Context()); err == nil {
		t.Fatal("ping of a missing bucket succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []s3store.Config{
		{},
		{Bucket: "b", PartSize: 1 << 20},
		{Bucket: "b", Concurrency: -1},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", c)
		}
	}
}

// BenchmarkUpload streams 64 MiB into versitygw per op; -benchmem shows
// the upload's memory stays at its part buffers whatever the size.
func BenchmarkUpload(b *testing.B) {
	srv := server(b)
	bucket := newBucket(b, srv, "bench")
	const size = 64 << 20
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bucket.Upload(b.Context(), "bench.bin", io.LimitReader(zeroReader{}, size), ""); err != nil {
			b.Fatal(err)
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }
