package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/live"
	"github.com/auditsentinel/sentinel/internal/objstore/filesystem"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite/sqlitetest"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

type liveBundle struct {
	store *sqlstore.DB
	srv   *Server
	http  *httptest.Server
	pub   *live.Publisher
	data  []byte
	exp   audit.Export
}

// liveSetup stores the file of a running export x1 (not yet completed) and
// serves serveLive for it at /live, following its stream on a real Redis
// from the start (package live tests the follower itself: gaps, retries,
// lost entries; these tests the HTTP framing: headers, chunking, trailers,
// the abort).
func liveSetup(t *testing.T) *liveBundle {
	t.Helper()
	rdb := testenv.RedisClient(t, testenv.RedisURL(t))
	reader := &live.Reader{Redis: rdb}
	if err := reader.Want(t.Context(), "x1"); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := sqlitetest.Open(t)
	fs, err := filesystem.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 3<<20+777)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range data {
		data[i] = 'a' + byte(rng.IntN(26))
	}
	key := "tenants/acme/exports/x1.csv"
	if _, err := fs.Upload(t.Context(), key, bytes.NewReader(data), "text/csv"); err != nil {
		t.Fatal(err)
	}
	p := audit.ExportParams{Filter: audit.Filter{TenantID: "acme"}, FileType: audit.FileCSV, Locale: "en", Timezone: "UTC"}
	e := audit.Export{ID: "x1", TenantID: "acme", Params: p, RequestHash: p.Hash(), Status: audit.StatusQueued,
		RowsTotal: -1, CreatedAt: time.Now().UTC()}
	if err := db.CreateExport(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	if e, err = db.StartExport(t.Context(), "acme", "x1", time.Now(), -1); err != nil {
		t.Fatal(err)
	}
	s := New(Config{Logger: logger, Store: db, Files: fs})
	f := &live.Follower{Source: reader, Records: db, Files: fs, Logger: logger}
	b := &liveBundle{store: db, srv: s, pub: &live.Publisher{Redis: rdb, Logger: logger}, data: data, exp: e}
	s.echo.GET("/live", func(c echo.Context) error {
		return s.serveLive(c, e, func(ctx context.Context, w io.Writer) (audit.Export, error) {
			return f.Copy(ctx, w, live.Waited{Export: e, After: "0"})
		})
	})
	b.http = httptest.NewServer(s)
	t.Cleanup(b.http.Close)
	return b
}

func (b *liveBundle) complete(t *testing.T) func() {
	return func() {
		sum := sha256.Sum256(b.data)
		err := b.store.CompleteExport(context.Background(), "acme", "x1", audit.ExportResult{Rows: 42,
			SizeBytes: int64(len(b.data)), SHA256: hex.EncodeToString(sum[:]), ObjectKey: "tenants/acme/exports/x1.csv",
			ContentType: "text/csv; charset=utf-8"}, time.Now(), time.Now().Add(time.Hour))
		if err != nil {
			t.Error(err)
		}
	}
}

func (b *liveBundle) fail(t *testing.T) func() {
	return func() {
		if err := b.store.FailExport(context.Background(), "acme", "x1", audit.EINTERNAL, "boom", time.Now()); err != nil {
			t.Error(err)
		}
	}
}

// publish publishes data as export x1's first attempt, then runs done (the
// record completes or fails) and publishes the end entry, as a worker does.
func (b *liveBundle) publish(t *testing.T, data []byte, done func()) {
	t.Helper()
	feed := b.pub.Start(t.Context(), "x1", 1)
	if _, err := feed.Write(data); err != nil {
		t.Fatal(err)
	}
	feed.Close(t.Context())
	done()
	b.pub.End(t.Context(), "x1")
}

// fetch GETs /live and returns the body and trailers, or the read error.
// acceptEncoding is sent as it is, and the body is returned as sent (the
// transport decodes nothing).
func (b *liveBundle) fetch(t *testing.T, acceptEncoding ...string) ([]byte, http.Header, *http.Response, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.http.URL+"/live", nil)
	for _, ae := range acceptEncoding {
		req.Header.Add("Accept-Encoding", ae)
	}
	res, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return body, res.Trailer, res, err
}

func (b *liveBundle) wantWhole(t *testing.T) {
	t.Helper()
	body, tr, res, err := b.fetch(t)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if res.StatusCode != http.StatusOK || res.ContentLength != -1 {
		t.Fatalf("status %d, Content-Length %d; want 200 streamed", res.StatusCode, res.ContentLength)
	}
	if !bytes.Equal(body, b.data) {
		t.Fatalf("body: %d bytes, want the %d of the file", len(body), len(b.data))
	}
	sum := sha256.Sum256(b.data)
	if tr.Get("X-Checksum-SHA256") != hex.EncodeToString(sum[:]) || tr.Get("X-Export-Rows") != "42" ||
		tr.Get("Repr-Digest") != "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":" ||
		res.Header.Get("Content-Encoding") != "" || res.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("headers %v, trailers %v", res.Header, tr)
	}
}

// A live body asked for in zstd or gzip is coded on the way out: decoded,
// it is the file; X-Checksum-SHA256 is the decoded file's SHA-256 and
// Repr-Digest the coded bytes'.
func TestLiveCodedStream(t *testing.T) {
	for _, c := range []string{"zstd", "gzip"} {
		t.Run(c, func(t *testing.T) {
			b := liveSetup(t)
			b.publish(t, b.data, b.complete(t))
			body, tr, res, err := b.fetch(t, c)
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != c || res.Header.Get("Vary") != "Accept-Encoding" {
				t.Fatalf("status %d, headers %v", res.StatusCode, res.Header)
			}
			if plain := testenv.Decode(t, c, body); !bytes.Equal(plain, b.data) {
				t.Fatalf("decoded body: %d bytes, want the %d of the file", len(plain), len(b.data))
			}
			sum, coded := sha256.Sum256(b.data), sha256.Sum256(body)
			if tr.Get("X-Checksum-SHA256") != hex.EncodeToString(sum[:]) || tr.Get("X-Export-Rows") != "42" ||
				tr.Get("Repr-Digest") != "sha-256=:"+base64.StdEncoding.EncodeToString(coded[:])+":" {
				t.Fatalf("trailers %v", tr)
			}
		})
	}
}

// The whole file from the stream, chunked, then the trailers.
func TestLiveWholeStream(t *testing.T) {
	b := liveSetup(t)
	b.publish(t, b.data, b.complete(t))
	b.wantWhole(t)
}

// Bytes that differ from the stored file (a retry that rendered other
// rows) must not end like a complete download: the connection is aborted.
func TestLiveMismatchAborts(t *testing.T) {
	b := liveSetup(t)
	wrong := bytes.Clone(b.data)
	wrong[1000] ^= 1
	b.publish(t, wrong, b.complete(t))
	if _, _, _, err := b.fetch(t); err == nil {
		t.Fatal("a body that differs from the stored file was read to a clean end")
	}
}

// A coded body that differs from the stored file does not end either: the
// coded stream is left unfinished and the connection aborted.
func TestLiveCodedMismatchAborts(t *testing.T) {
	for _, c := range []string{"zstd", "gzip"} {
		t.Run(c, func(t *testing.T) {
			b := liveSetup(t)
			wrong := bytes.Clone(b.data)
			wrong[len(wrong)-10] ^= 1
			b.publish(t, wrong, b.complete(t))
			body, _, res, err := b.fetch(t, c)
			if res.Header.Get("Content-Encoding") != c {
				t.Fatalf("Content-Encoding %q, want %s", res.Header.Get("Content-Encoding"), c)
			}
			if err == nil {
				t.Fatalf("a coded body (%s, %d bytes) that differs from the stored file was read to a clean end",
					res.Header.Get("Content-Encoding"), len(body))
			}
		})
	}
}

// An export that fails while streaming aborts the connection.
func TestLiveFailedAborts(t *testing.T) {
	b := liveSetup(t)
	b.publish(t, b.data[:1<<20], b.fail(t))
	if body, _, _, err := b.fetch(t); err == nil {
		t.Fatalf("a failed export's body (%d bytes) was read to a clean end", len(body))
	}
}
