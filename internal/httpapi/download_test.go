package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/objstore/filesystem"
	"github.com/auditsentinel/sentinel/internal/objstore/objstoretest"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite/sqlitetest"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// bundle is a server on a real SQLite store and a real directory, with the
// storage wrapped to inject faults.
type bundle struct {
	store  *sqlstore.DB
	files  *objstoretest.FaultyBucket
	server *httptest.Server
	key    string
}

// setup's wrap, when not nil, puts a fault injector between the server and
// the store.
func setup(t *testing.T, writeTimeout time.Duration, wrap func(*sqlstore.DB) httpapi.Store) *bundle {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := sqlitetest.Open(t)
	fs, err := filesystem.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := objstoretest.NewFaultyBucket(fs)
	var store httpapi.Store = db
	if wrap != nil {
		store = wrap(db)
	}
	h := httpapi.New(httpapi.Config{
		Logger: logger, Store: store, Files: files, ExportWait: time.Second,
		Exports: &export.Service{Store: db, Logger: logger, Now: time.Now, PDFMaxEvents: 5000},
	})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.WriteTimeout = writeTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	// The bytes as sent: no gzip asked for, nor decoded, behind the test's back.
	srv.Client().Transport.(*http.Transport).DisableCompression = true
	_, key, err := apikey.Create(t.Context(), db, "acme", "t", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{store: db, files: files, server: srv, key: key}
}

// brokenExports fails GetExport with an unexpected (internal) error.
type brokenExports struct{ *sqlstore.DB }

func (brokenExports) GetExport(context.Context, string, string) (audit.Export, error) {
	return audit.Export{}, errors.New("pq: connection reset by peer at 10.1.2.3:5432")
}

// completed stores an object of size n and a completed export record for it.
func (b *bundle) completed(t *testing.T, n int) (audit.Export, []byte) {
	t.Helper()
	return b.completedWith(t, bytes.Repeat([]byte("0123456789abcdef"), n/16))
}

// completedWith stores data and a completed export record for it.
func (b *bundle) completedWith(t *testing.T, data []byte) (audit.Export, []byte) {
	t.Helper()
	key := "tenants/acme/exports/x1.csv"
	if _, err := b.files.Upload(t.Context(), key, bytes.NewReader(data), "text/csv"); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	p := audit.ExportParams{Filter: audit.Filter{TenantID: "acme"}, FileType: audit.FileCSV, Locale: "en", Timezone: "UTC"}
	e := audit.Export{ID: "x1", TenantID: "acme", Params: p, RequestHash: p.Hash(), Status: audit.StatusQueued,
		RowsTotal: -1, CreatedAt: time.Now().UTC()}
	if err := b.store.CreateExport(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.StartExport(t.Context(), "acme", "x1", time.Now(), 1); err != nil {
		t.Fatal(err)
	}
	err := b.store.CompleteExport(t.Context(), "acme", "x1", audit.ExportResult{Rows: 1, SizeBytes: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), ObjectKey: key, ContentType: "text/csv; charset=utf-8"}, time.Now(), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return e, data
}

func (b *bundle) get(t *testing.T, path string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.server.URL+path, nil)
	req.Header.Set("apikey", b.key)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// A storage failure in the middle of a download must abort the connection:
// the client sees an error, never a short body that looks complete.
func TestDownloadAbortsOnStorageFailure(t *testing.T) {
	b := setup(t, time.Minute, nil)
	_, data := b.completed(t, 1<<20)
	b.files.FailReadsAfter(300_000)
	res := b.get(t, "/v5/audit-sentinel/exports/x1/file")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	got, err := io.ReadAll(res.Body)
	if err == nil {
		t.Fatalf("read %d of %d bytes and no error: a truncated body passed for complete", len(got), len(data))
	}
	if len(got) >= len(data) {
		t.Fatalf("read the whole file (%d bytes) despite the fault", len(got))
	}
	// With storage healthy again the same download is whole.
	b.files.FailReadsAfter(-1)
	res = b.get(t, "/v5/audit-sentinel/exports/x1/file")
	if got, err := io.ReadAll(res.Body); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("healthy download: %d bytes, %v", len(got), err)
	}
}

// The same failure under a content coding: the coded stream is left
// unended and the connection aborted, so it never decodes as complete.
func TestCodedDownloadAbortsOnStorageFailure(t *testing.T) {
	for _, c := range []string{"zstd", "gzip"} {
		t.Run(c, func(t *testing.T) {
			b := setup(t, time.Minute, nil)
			// Letters at random: the coded body is under way (headers and
			// first blocks sent) when storage fails.
			data := make([]byte, 1<<20)
			rng := rand.New(rand.NewPCG(7, 8))
			for i := range data {
				data[i] = 'a' + byte(rng.IntN(26))
			}
			b.completedWith(t, data)
			b.files.FailReadsAfter(600_000)
			res := b.get(t, "/v5/audit-sentinel/exports/x1/file", "Accept-Encoding", c)
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != c {
				t.Fatalf("status %d, Content-Encoding %q", res.StatusCode, res.Header.Get("Content-Encoding"))
			}
			if got, err := io.ReadAll(res.Body); err == nil {
				t.Fatalf("read %d coded bytes and no error: a truncated file passed for complete", len(got))
			}
			b.files.FailReadsAfter(-1)
			res = b.get(t, "/v5/audit-sentinel/exports/x1/file", "Accept-Encoding", c)
			got, err := io.ReadAll(res.Body)
			if err != nil || !bytes.Equal(testenv.Decode(t, c, got), data) {
				t.Fatalf("healthy coded download: %d bytes, %v", len(got), err)
			}
		})
	}
}

// A slow client on a large file is not cut off by the server's write
// timeout: downloads clear their own deadline.
func TestLongDownloadOutlivesWriteTimeout(t *testing.T) {
	b := setup(t, 300*time.Millisecond, nil)
	_, data := b.completed(t, 8<<20)
	res := b.get(t, "/v5/audit-sentinel/exports/x1/file")
	var got bytes.Buffer
	buf := make([]byte, 256<<10)
	for {
		n, err := res.Body.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", got.Len(), err)
		}
		time.Sleep(20 * time.Millisecond) // a slow reader: ~32 reads, well past the timeout
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("got %d bytes, want %d", got.Len(), len(data))
	}
}

// An unexpected error is a 500 whose body carries a request id and nothing
// of the cause.
func TestInternalErrorsRevealNothing(t *testing.T) {
	b := setup(t, time.Minute, func(db *sqlstore.DB) httpapi.Store { return brokenExports{db} })
	res := b.get(t, "/v5/audit-sentinel/exports/x1")
	body, _ := io.ReadAll(res.Body)
	var eb httpapi.ErrorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if res.StatusCode != http.StatusInternalServerError || eb.Error.Code != audit.EINTERNAL || eb.Error.RequestID == "" ||
		eb.Error.RequestID != res.Header.Get("X-Request-Id") {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if strings.Contains(string(body), "10.1.2.3") || strings.Contains(string(body), "pq:") {
		t.Fatalf("internal detail leaked: %s", body)
	}
}
