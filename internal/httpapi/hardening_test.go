package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/objstore/filesystem"
	"github.com/auditsentinel/sentinel/internal/schedule"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite/sqlitetest"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// queue records what is enqueued, or fails like a Redis that is down.
type queue struct {
	mu   sync.Mutex
	ids  []string
	down bool
}

func (q *queue) EnqueueExport(_ context.Context, _, id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.down {
		return errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	}
	q.ids = append(q.ids, id)
	return nil
}

// hbundle is a server with every route, on one real store backend and a
// real directory.
type hbundle struct {
	store  *sqlstore.DB
	queue  *queue
	dir    string
	files  *filesystem.Bucket
	server *httptest.Server
	key    string
	log    *syncLog
}

// backends runs fn on SQLite and on PostgreSQL.
func backends(t *testing.T, fn func(t *testing.T, b *hbundle)) { backendsWith(t, nil, fn) }

// backendsWith is backends with the server's config changed by tune.
func backendsWith(t *testing.T, tune func(*httpapi.Config), fn func(t *testing.T, b *hbundle)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			var db *sqlstore.DB
			if name == "sqlite" {
				db = sqlitetest.Open(t)
			} else {
				var err error
				db, err = postgres.Open(t.Context(), testenv.PostgresURL(t), nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
			}
			fn(t, newHBundle(t, db, tune))
		})
	}
}

// newHBundle builds the server; tune, when not nil, changes its config.
func newHBundle(t *testing.T, db *sqlstore.DB, tune func(*httpapi.Config)) *hbundle {
	t.Helper()
	logBuf := &syncLog{}
	logger := slog.New(slog.NewTextHandler(logBuf, nil))
	dir := t.TempDir()
	files, err := filesystem.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	q := &queue{}
	cfg := httpapi.Config{
		Logger: logger, Store: db, Files: files, ExportWait: 0, Archives: db, Objects: files,
		Exports:   &export.Service{Store: db, Values: db, Queue: q, Logger: logger, Now: time.Now, PDFMaxEvents: 5000},
		Schedules: &schedule.Service{Store: db, Queue: q, Logger: logger, Now: time.Now},
	}
	if tune != nil {
		tune(&cfg)
	}
	h := httpapi.New(cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	// The tests see the bytes as sent: the transport neither asks for gzip
	// nor decodes it (tests of content coding ask for it themselves).
	srv.Client().Transport.(*http.Transport).DisableCompression = true
	_, key, err := apikey.Create(t.Context(), db, "acme", "t", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &hbundle{store: db, queue: q, dir: dir, files: files, server: srv, key: key, log: logBuf}
}

// syncLog is the server's log, safe to read while handlers write it.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// eventually waits up to 10 s for cond: what a handler does after its
// client saw the connection end.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// do sends a request with the bundle's key; the raw target is sent as it
// is, so it may hold any escape.
func (b *hbundle) do(t *testing.T, method, target string, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, b.server.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = "//" + req.URL.Host + target // no re-encoding of the path
	req.Header.Set("apikey", b.key)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, _ := io.ReadAll(res.Body)
	return res, got
}

// wantError checks a JSON error body with the status and param.
func wantError(t *testing.T, res *http.Response, body []byte, status int, param string) httpapi.ErrorDetail {
	t.Helper()
	var eb httpapi.ErrorBody
	if err := json.Unmarshal(body, &eb); err != nil || eb.Error.Code == "" {
		t.Fatalf("%d %q: not a JSON error body (%v)", res.StatusCode, body, err)
	}
	if res.StatusCode != status || (param != "" && eb.Error.Param != param) {
		t.Fatalf("got %d param %q (%s), want %d param %q", res.StatusCode, eb.Error.Param, body, status, param)
	}
	return eb.Error
}

const exportPath = "/v5/audit-sentinel/events/export"

// Bug 1: a bound that lies outside years 0-9999 once converted to UTC was a
// recovered panic (500) in the params' hash.
func TestRangeOutsideYearsIsInvalid(t *testing.T) {
	backends(t, func(t *testing.T, b *hbundle) {
		for _, q := range []struct{ query, param string }{
			{"range_start=9999-12-31T23:59:59-23:59", "range_start"},
			{"range_end=0000-01-01T00:00:00%2B01:00", "range_end"},
			{"range_end=0000-01-01T00:00:00Z", "range_end"},
		} {
			res, body := b.do(t, "GET", exportPath+"?"+q.query, "")
			wantError(t, res, body, http.StatusBadRequest, q.param)
		}
		if strings.Contains(b.log.String(), "msg=panic") {
			t.Fatalf("a panic was logged:\n%s", b.log)
		}
	})
}

// Bug 2: a NUL byte in an id was SQLSTATE 22021 on PostgreSQL, a 500.
func TestNULInIDsIsAClientError(t *testing.T) {
	backends(t, func(t *testing.T, b *hbundle) {
		for _, target := range []string{
			"/v5/audit-sentinel/exports/a%00b",
			"/v5/audit-sentinel/exports/a%00b/file",
			"/v5/audit-sentinel/exports/a%00b/manifest",
			"/v5/audit-sentinel/exports/a%00b/deliveries",
			"/v5/audit-sentinel/exports?schedule_id=%00",
			"/v5/audit-sentinel/export-schedules/%00",
			"/v5/audit-sentinel/export-schedules/a%00/deliveries",
			"/v5/audit-sentinel/exports/%ff%fe",
		} {
			res, body := b.do(t, "GET", target, "")
			if res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusNotFound {
				t.Fatalf("GET %s: %d %s", target, res.StatusCode, body)
			}
			wantError(t, res, body, res.StatusCode, "")
		}
		res, body := b.do(t, "DELETE", "/v5/audit-sentinel/exports/a%00b", "")
		wantError(t, res, body, http.StatusBadRequest, "id")
	})
}

// Bug 3: waits too large for a time.Duration overflowed to a negative wait
// and answered at once.
func TestHugeWaitIsClamped(t *testing.T) {
	backends(t, func(t *testing.T, b *hbundle) {
		for _, wait := range []string{"1e10", "Inf", "1e308", "+Inf"} {
			// An export that never completes (no worker): a clamped wait
			// would hold the request for MaxWait (60 s); cancel after a
			// little and check that it was still waiting.
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			req, _ := http.NewRequestWithContext(ctx, "GET", b.server.URL+exportPath+"?event_type=w"+wait, nil)
			req.Header.Set("apikey", b.key)
			req.Header.Set("Prefer", "wait="+wait)
			res, err := b.server.Client().Do(req)
			cancel()
			if err == nil {
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				t.Fatalf("Prefer: wait=%s answered at once: %d %s", wait, res.StatusCode, body)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatal(err)
			}
		}
		res, body := b.do(t, "GET", exportPath, "", "Prefer", "wait=-Inf")
		wantError(t, res, body, http.StatusBadRequest, "Prefer")
	})
}

// Bug 5: the queue down when an export is asked for was a 500; it is a 503
// with Retry-After, and the record is kept for the retry.
func TestQueueDownIsUnavailable(t *testing.T) {
	backends(t, func(t *testing.T, b *hbundle) {
		b.queue.down = true
		res, body := b.do(t, "GET", exportPath+"?event_type=x", "")
		d := wantError(t, res, body, http.StatusServiceUnavailable, "")
		if d.Code != audit.EUNAVAILABLE || res.Header.Get("Retry-After") == "" {
			t.Fatalf("%d %s, Retry-After %q", res.StatusCode, body, res.Header.Get("Retry-After"))
		}
		b.queue.down = false
		res, body = b.do(t, "GET", exportPath+"?event_type=x", "", "Prefer", "respond-async")
		if res.StatusCode != http.StatusAccepted || len(b.queue.ids) != 1 {
			t.Fatalf("retry: %d %s, enqueued %v", res.StatusCode, body, b.queue.ids)
		}
	})
}

// Bug 6: invalid UTF-8 in filter values and schedule bodies was accepted
// and rewritten to U+FFFD.
func TestInvalidUTF8IsRefused(t *testing.T) {
	backends(t, func(t *testing.T, b *hbundle) {
		for _, q := range []struct{ query, param string }{
			{"event_type=%ff%fe", "event_type"},
			{"sub_type[]=a%c3", "sub_type[]"},
			{"metadata[entity_id]=%ed%a0%80", "metadata[entity_id]"},
			{"auditee_id=a%00", "auditee_id"},
		} {
			res, body := b.do(t, "GET", exportPath+"?"+q.query, "")
			wantError(t, res, body, http.StatusBadRequest, q.param)
		}
		for _, sb := range []struct{ body, param string }{
			{`{"name":"n` + "\xff" + `","cron":"0 * * * *"}`, "name"},
			{`{"cron":"0 * * * *","filters":{"event_type":["ok","a` + "\xfe" + `"]}}`, "filters.event_type[1]"},
			{`{"cron":"0 * * * *","name":"a\ud800"}`, "name"},
		} {
			res, body := b.do(t, "POST", "/v5/audit-sentinel/export-schedules", sb.body, "Content-Type", "application/json")
			wantError(t, res, body, http.StatusBadRequest, sb.param)
		}
		res, body := b.do(t, "POST", "/v5/audit-sentinel/events",
			`{"events":[{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a`+"\xff"+`","sub_type":"s","system_source":"x"}]}`,
			"Content-Type", "application/json")
		wantError(t, res, body, http.StatusBadRequest, "events")
		if !strings.Contains(string(body), `"field":"event_type"`) {
			t.Fatalf("the problem does not name the field: %s", body)
		}
	})
}

// Bug 10: a revoked key was answered "it was revoked", telling it from an
// unknown one.
func TestRevokedAndUnknownKeysAnswerAlike(t *testing.T) {
	backends(t, func(t *testing.T, b *hbundle) {
		k, secret, err := apikey.Create(t.Context(), b.store, "acme", "old", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := b.store.RevokeAPIKey(t.Context(), k.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		answer := func(key string) (int, string) {
			req, _ := http.NewRequest("GET", b.server.URL+"/v5/audit-sentinel/exports", nil)
			req.Header.Set("apikey", key)
			res, err := b.server.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var eb httpapi.ErrorBody
			_ = json.NewDecoder(res.Body).Decode(&eb)
			return res.StatusCode, eb.Error.Code + "|" + eb.Error.Message
		}
		rs, rm := answer(secret)
		us, um := answer("ask_" + strings.Repeat("0", 64))
		if rs != http.StatusUnauthorized || rs != us || rm != um {
			t.Fatalf("revoked: %d %q; unknown: %d %q", rs, rm, us, um)
		}
	})
}

// Bug 11: a stored file corrupted in place (same size) was served as a
// complete 200. The download must end in an error, and the export must not
// be served again.
func TestCorruptedFileIsNeverACompleteDownload(t *testing.T) {
	backends(t, func(t *testing.T, b *hbundle) {
		e, data := completedIn(t, b, 1<<20)
		path := filepath.Join(b.dir, filepath.FromSlash(e.ObjectKey))
		bad := bytes.Clone(data)
		bad[len(bad)/2] ^= 0xff
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", b.server.URL+"/v5/audit-sentinel/exports/"+e.ID+"/file", nil)
		req.Header.Set("apikey", b.key)
		res, err := b.server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Fatalf("%d: read %d of %d bytes and no error: a corrupted file passed for complete", res.StatusCode, len(got), len(data))
		}
		if len(got) >= len(data) {
			t.Fatalf("all %d bytes were sent", len(got))
		}
		eventually(t, "logged", func() bool { return strings.Contains(b.log.String(), "does not match its recorded sha256") })
		var after audit.Export
		eventually(t, "marked", func() bool {
			var err error
			if after, err = b.store.GetExport(t.Context(), "acme", e.ID); err != nil {
				t.Fatal(err)
			}
			return after.Status != audit.StatusCompleted
		})
		if after.Status != audit.StatusFailed || after.ObjectKey != "" {
			t.Fatalf("after the mismatch the export is %s with object %q; want failed, object let go", after.Status, after.ObjectKey)
		}
		// A range that is not the whole file is served as stored (see
		// verifyingReader); a healthy file downloads whole.
		e2, data2 := completedIn(t, b, 64<<10)
		res2, body2 := b.do(t, "GET", "/v5/audit-sentinel/exports/"+e2.ID+"/file", "")
		if res2.StatusCode != http.StatusOK || !bytes.Equal(body2, data2) {
			t.Fatalf("healthy download: %d, %d bytes", res2.StatusCode, len(body2))
		}
	})
}

// A corrupted stored file asked for in zstd or gzip is not a complete
// coded download either: the coded stream never ends (no zstd checksum, no
// gzip trailer) and the connection is aborted.
func TestCorruptedFileIsNeverACompleteCodedDownload(t *testing.T) {
	backends(t, func(t *testing.T, b *hbundle) {
		// Letters at random: a coded body that is well under way (its
		// headers and first blocks sent) when the check fails.
		letters := make([]byte, 1<<20)
		rng := rand.New(rand.NewPCG(5, 6))
		for i := range letters {
			letters[i] = 'a' + byte(rng.IntN(26))
		}
		for _, c := range []string{"zstd", "gzip"} {
			e, data := completedWith(t, b, letters)
			path := filepath.Join(b.dir, filepath.FromSlash(e.ObjectKey))
			bad := bytes.Clone(data)
			bad[len(bad)-100] ^= 0xff // late: most of the coded body is out before the check
			if err := os.WriteFile(path, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", b.server.URL+"/v5/audit-sentinel/exports/"+e.ID+"/file", nil)
			req.Header.Set("apikey", b.key)
			req.Header.Set("Accept-Encoding", c)
			res, err := b.server.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(res.Body)
			res.Body.Close()
			if res.Header.Get("Content-Encoding") != c {
				t.Fatalf("%s: Content-Encoding %q", c, res.Header.Get("Content-Encoding"))
			}
			if err == nil {
				t.Fatalf("%s: %d: read %d coded bytes and no error: a corrupted file passed for complete", c, res.StatusCode, len(got))
			}
			if res.Trailer.Get("Repr-Digest") != "" {
				t.Fatalf("%s: an aborted coded body got its Repr-Digest trailer", c)
			}
			eventually(t, "marked", func() bool {
				after, err := b.store.GetExport(t.Context(), "acme", e.ID)
				if err != nil {
					t.Fatal(err)
				}
				return after.Status == audit.StatusFailed
			})
		}
	})
}

// A completed text file is content-coded as Accept-Encoding asks (q-values,
// identity refused, a tie won by zstd), with one ETag per representation;
// Range and HEAD follow the same rules, a compressed file is never coded.
func TestFileContentCoding(t *testing.T) {
	backends(t, func(t *testing.T, b *hbundle) {
		e, data := completedIn(t, b, 256<<10)
		file := "/v5/audit-sentinel/exports/" + e.ID + "/file"
		sum := sha256.Sum256(data)
		for _, c := range []struct{ accept, want string }{
			{"zstd", "zstd"},
			{"gzip", "gzip"},
			{"x-gzip", "gzip"},
			{"gzip, zstd", "zstd"}, // a tie: zstd
			{"gzip;q=1, zstd;q=0.5", "gzip"},
			{"zstd;q=0, gzip", "gzip"},
			{"*", "zstd"},
			{"*;q=0.2, gzip;q=0.5", "gzip"},
			{"br", ""},
			{"identity", ""},
			{"zstd;q=0.5, identity", ""},
			{"", ""},
			{"zstd;q=nonsense", ""}, // a malformed element is ignored
		} {
			res, body := b.do(t, "GET", file, "", "Accept-Encoding", c.accept)
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != c.want ||
				res.Header.Get("Vary") != "Accept-Encoding" || res.Header.Get("X-Checksum-SHA256") != e.SHA256 {
				t.Fatalf("Accept-Encoding %q: %d, headers %v; want coding %q", c.accept, res.StatusCode, res.Header, c.want)
			}
			if c.want == "" {
				if !bytes.Equal(body, data) || res.ContentLength != int64(len(data)) || res.Header.Get("ETag") != `"`+e.SHA256+`"` ||
					res.Header.Get("Repr-Digest") != "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":" {
					t.Fatalf("Accept-Encoding %q: identity answer %d bytes, headers %v", c.accept, len(body), res.Header)
				}
				continue
			}
			coded := sha256.Sum256(body)
			if res.ContentLength != -1 || res.Header.Get("ETag") != `"`+e.SHA256+"-"+c.want+`"` || res.Header.Get("Repr-Digest") != "" ||
				res.Trailer.Get("Repr-Digest") != "sha-256=:"+base64.StdEncoding.EncodeToString(coded[:])+":" {
				t.Fatalf("Accept-Encoding %q: Content-Length %d, headers %v, trailers %v", c.accept, res.ContentLength, res.Header, res.Trailer)
			}
			if len(body) >= len(data)/4 {
				t.Fatalf("Accept-Encoding %q: %d coded bytes for %d", c.accept, len(body), len(data))
			}
			if plain := testenv.Decode(t, c.want, body); !bytes.Equal(plain, data) {
				t.Fatalf("Accept-Encoding %q: decoded %d bytes differ from the file", c.accept, len(plain))
			}
		}

		// Identity refused, nothing else acceptable: 406, in JSON.
		for _, accept := range []string{"identity;q=0", "br, *;q=0"} {
			res, body := b.do(t, "GET", file, "", "Accept-Encoding", accept)
			if d := wantError(t, res, body, http.StatusNotAcceptable, "Accept-Encoding"); d.Code != "not_acceptable" ||
				strings.Join(d.Allowed, ",") != "zstd,gzip,identity" {
				t.Fatalf("%q: %s", accept, body)
			}
		}

		// Range: identity offsets, whatever Accept-Encoding says.
		res, body := b.do(t, "GET", file, "", "Accept-Encoding", "zstd", "Range", "bytes=100-199")
		if res.StatusCode != http.StatusPartialContent || res.Header.Get("Content-Encoding") != "" ||
			!bytes.Equal(body, data[100:200]) || res.Header.Get("ETag") != `"`+e.SHA256+`"` {
			t.Fatalf("Range with zstd: %d, headers %v", res.StatusCode, res.Header)
		}

		// Conditional requests match the representation's own ETag.
		zstdTag := `"` + e.SHA256 + `-zstd"`
		res, _ = b.do(t, "GET", file, "", "Accept-Encoding", "zstd", "If-None-Match", zstdTag)
		if res.StatusCode != http.StatusNotModified || res.Header.Get("ETag") != zstdTag || res.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("If-None-Match zstd tag, zstd: %d %v", res.StatusCode, res.Header)
		}
		res, body = b.do(t, "GET", file, "", "Accept-Encoding", "zstd", "If-None-Match", `"`+e.SHA256+`"`)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "zstd" || !bytes.Equal(testenv.Decode(t, "zstd", body), data) {
			t.Fatalf("If-None-Match identity tag, zstd: %d %v", res.StatusCode, res.Header)
		}
		res, body = b.do(t, "GET", file, "", "If-None-Match", zstdTag)
		if res.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
			t.Fatalf("If-None-Match zstd tag, identity: %d %v", res.StatusCode, res.Header)
		}
		res, _ = b.do(t, "GET", file, "", "Accept-Encoding", "gzip", "If-None-Match", `"`+e.SHA256+`-gzip"`)
		if res.StatusCode != http.StatusNotModified {
			t.Fatalf("If-None-Match gzip tag, gzip: %d", res.StatusCode)
		}

		// HEAD answers as GET would, without a body.
		res, body = b.do(t, "HEAD", file, "", "Accept-Encoding", "zstd")
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "zstd" || res.Header.Get("ETag") != zstdTag ||
			res.Header.Get("Content-Length") != "" || len(body) != 0 {
			t.Fatalf("HEAD zstd: %d %v, %d bytes", res.StatusCode, res.Header, len(body))
		}

		// A file that compresses inside is sent as stored.
		ez, zdata := completedIn(t, b, 4096, func(p *audit.ExportParams) { p.Compression = audit.CompressZstd })
		res, body = b.do(t, "GET", "/v5/audit-sentinel/exports/"+ez.ID+"/file", "", "Accept-Encoding", "zstd, gzip")
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "" || res.Header.Get("Vary") != "" ||
			!bytes.Equal(body, zdata) {
			t.Fatalf("compression=zstd file: %d %v", res.StatusCode, res.Header)
		}
		res, body = b.do(t, "GET", "/v5/audit-sentinel/exports/"+ez.ID+"/file", "", "Accept-Encoding", "gzip, identity;q=0")
		if d := wantError(t, res, body, http.StatusNotAcceptable, "Accept-Encoding"); strings.Join(d.Allowed, ",") != "identity" {
			t.Fatalf("compression=zstd file, identity refused: %s", body)
		}
	})
}

// Bug 12: 416 and 412 were plain text and empty.
func TestRangeAndPreconditionErrorsAreJSON(t *testing.T) {
	backends(t, func(t *testing.T, b *hbundle) {
		e, data := completedIn(t, b, 4096)
		file := "/v5/audit-sentinel/exports/" + e.ID + "/file"
		res, body := b.do(t, "GET", file, "", "Range", "bytes=999999-")
		d := wantError(t, res, body, http.StatusRequestedRangeNotSatisfiable, "Range")
		if d.Code != "range_not_satisfiable" || res.Header.Get("Content-Range") == "" ||
			!strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("416: %s %v", body, res.Header)
		}
		res, body = b.do(t, "GET", file, "", "If-Match", `"nope"`)
		if d := wantError(t, res, body, http.StatusPreconditionFailed, "If-Match"); d.Code != "precondition_failed" || d.RequestID == "" {
			t.Fatalf("412: %s", body)
		}
		// Ranges and conditions that hold are untouched.
		res, body = b.do(t, "GET", file, "", "Range", "bytes=0-9")
		if res.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[:10]) {
			t.Fatalf("206: %d %q", res.StatusCode, body)
		}
		res, _ = b.do(t, "GET", file, "", "If-None-Match", `"`+e.SHA256+`"`)
		if res.StatusCode != http.StatusNotModified {
			t.Fatalf("304: %d", res.StatusCode)
		}
	})
}

// completedIn stores an object of n bytes and a completed export for it.
func completedIn(t *testing.T, b *hbundle, n int, tune ...func(*audit.ExportParams)) (audit.Export, []byte) {
	t.Helper()
	return completedWith(t, b, bytes.Repeat([]byte("0123456789abcdef"), n/16), tune...)
}

// completedWith stores data and a completed export for it.
func completedWith(t *testing.T, b *hbundle, data []byte, tune ...func(*audit.ExportParams)) (audit.Export, []byte) {
	t.Helper()
	id := uuid.NewString()
	key := "tenants/acme/exports/" + id + ".csv"
	if _, err := b.files.Upload(t.Context(), key, bytes.NewReader(data), "text/csv"); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	p := audit.ExportParams{Filter: audit.Filter{TenantID: "acme", EventTypes: []string{id}}, FileType: audit.FileCSV, Locale: "en", Timezone: "UTC"}
	for _, f := range tune {
		f(&p)
	}
	e := audit.Export{ID: id, TenantID: "acme", Params: p, RequestHash: p.Hash(), Status: audit.StatusQueued,
		RowsTotal: -1, CreatedAt: time.Now().UTC()}
	if err := b.store.CreateExport(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.StartExport(t.Context(), "acme", id, time.Now(), 1); err != nil {
		t.Fatal(err)
	}
	e.SHA256, e.ObjectKey = hex.EncodeToString(sum[:]), key
	err := b.store.CompleteExport(t.Context(), "acme", id, audit.ExportResult{Rows: 1, SizeBytes: int64(len(data)),
		SHA256: e.SHA256, ObjectKey: key, ContentType: "text/csv; charset=utf-8"}, time.Now(), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return e, data
}

// Bug 13: a misspelled filter value gave a silent empty file. A list filter
// value that matches no event of the tenant at all is named, with the
// closest values the tenant has, in the status JSON and in a header of
// every answer about the export, the file's included.
func TestUnknownFilterValuesAreWarned(t *testing.T) {
	backends(t, func(t *testing.T, b *hbundle) {
		at := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
		_, err := b.store.InsertEvents(t.Context(), "acme", []audit.Event{
			{ID: "e1", OccurredAt: at, EventType: "assessment", SubType: "created", SystemSource: "svc", Metadata: map[string]string{"tag": "blue"}},
			{ID: "e2", OccurredAt: at, EventType: "task", SubType: "created", SystemSource: "svc"},
		})
		if err != nil {
			t.Fatal(err)
		}
		res, body := b.do(t, "GET", exportPath+"?event_type=assesment&event_type=task&sub_type=created&metadata[tag]=bleu", "",
			"Prefer", "respond-async")
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		var st httpapi.ExportStatus
		if err := json.Unmarshal(body, &st); err != nil {
			t.Fatal(err)
		}
		if len(st.Warnings) != 2 || st.Warnings[0].Param != "event_type" || st.Warnings[0].Value != "assesment" ||
			len(st.Warnings[0].Closest) == 0 || st.Warnings[0].Closest[0] != "assessment" ||
			st.Warnings[1].Param != "metadata[tag]" || st.Warnings[1].Value != "bleu" {
			t.Fatalf("warnings %+v", st.Warnings)
		}
		var hdr []export.Warning
		if err := json.Unmarshal([]byte(res.Header.Get(httpapi.WarningsHeader)), &hdr); err != nil || len(hdr) != 2 {
			t.Fatalf("header %q: %v", res.Header.Get(httpapi.WarningsHeader), err)
		}
		// The status document and the file answer say it too.
		res, body = b.do(t, "GET", "/v5/audit-sentinel/exports/"+st.ID, "")
		if err := json.Unmarshal(body, &st); res.StatusCode != http.StatusOK || err != nil || len(st.Warnings) != 2 {
			t.Fatalf("status: %s", body)
		}
		res, _ = b.do(t, "GET", "/v5/audit-sentinel/exports/"+st.ID+"/file", "")
		if res.Header.Get(httpapi.WarningsHeader) == "" {
			t.Fatalf("file answer %d without %s", res.StatusCode, httpapi.WarningsHeader)
		}
		// Values the tenant has: no warnings.
		res, body = b.do(t, "GET", exportPath+"?event_type=assessment&metadata[tag]=blue", "", "Prefer", "respond-async")
		if strings.Contains(string(body), "warnings") || res.Header.Get(httpapi.WarningsHeader) != "" {
			t.Fatalf("warned about values that match: %s", body)
		}
	})
}
