package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/live"
	"github.com/auditsentinel/sentinel/internal/objstore/filesystem"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite/sqlitetest"
	"github.com/labstack/echo/v4"
)

// scriptedLive is a LiveReader that plays entries from a script, one step
// per Next; a step may first run an action (complete the export). It stands
// in for Redis to put the reader in every situation a stream can be in.
type scriptedLive struct {
	mu    sync.Mutex
	steps []step
	seq   int
}

type step struct {
	before  func()
	entries []live.Entry
}

func (s *scriptedLive) Want(context.Context, string) error { return nil }

func (s *scriptedLive) Next(ctx context.Context, _, _ string, block time.Duration) ([]live.Entry, error) {
	s.mu.Lock()
	if len(s.steps) == 0 {
		s.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(min(block, 20*time.Millisecond)):
		}
		return nil, nil
	}
	st := s.steps[0]
	s.steps = s.steps[1:]
	out := make([]live.Entry, len(st.entries))
	for i, e := range st.entries {
		s.seq++
		e.ID = strconv.Itoa(s.seq) + "-0"
		out[i] = e
	}
	s.mu.Unlock()
	if st.before != nil {
		st.before()
	}
	return out, nil
}

type liveBundle struct {
	store *sqlstore.DB
	srv   *Server
	http  *httptest.Server
	data  []byte
	exp   audit.Export
}

// liveSetup stores the file of a running export x1 (not yet completed) and
// serves serveLive for it at /live, reading the stream from script.
func liveSetup(t *testing.T, script *scriptedLive) *liveBundle {
	t.Helper()
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
	s := New(Config{Logger: logger, Store: db, Files: fs, Live: script})
	b := &liveBundle{store: db, srv: s, data: data, exp: e}
	s.echo.GET("/live", func(c echo.Context) error {
		return s.serveLive(c, live.Waited{Export: e, After: "0"})
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

// chunks splits data[from:to] into data entries of size n.
func chunks(data []byte, from, to, n int) []live.Entry {
	var out []live.Entry
	for off := from; off < to; off += n {
		end := min(off+n, to)
		out = append(out, live.Entry{Kind: live.KindData, Offset: int64(off), Data: string(data[off:end])})
	}
	return out
}

// fetch GETs /live and returns the body and trailers, or the read error.
func (b *liveBundle) fetch(t *testing.T) ([]byte, http.Header, *http.Response, error) {
	t.Helper()
	res, err := http.Get(b.http.URL + "/live")
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
	if tr.Get("X-Checksum-SHA256") != hex.EncodeToString(sum[:]) || tr.Get("X-Export-Rows") != "42" || tr.Get("Repr-Digest") == "" {
		t.Fatalf("trailers %v", tr)
	}
}

// The whole file from the stream, then the trailers.
func TestLiveWholeStream(t *testing.T) {
	s := &scriptedLive{}
	b := liveSetup(t, s)
	all := chunks(b.data, 0, len(b.data), 256<<10)
	s.steps = []step{
		{entries: append([]live.Entry{{Kind: live.KindStart, Attempt: 1}}, all[:5]...)},
		{entries: all[5:]},
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	b.wantWhole(t)
}

// Bytes the stream lost (trimmed before they were read) come from storage
// once the export completes.
func TestLiveGapFinishesFromStorage(t *testing.T) {
	s := &scriptedLive{}
	b := liveSetup(t, s)
	s.steps = []step{
		{entries: chunks(b.data, 0, 1<<20, 256<<10)},
		{entries: chunks(b.data, 2<<20, len(b.data), 256<<10)}, // 1 MiB missing
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	b.wantWhole(t)
}

// A publisher that gave up (KindBroken) sends the reader to storage too.
func TestLiveBrokenFinishesFromStorage(t *testing.T) {
	s := &scriptedLive{}
	b := liveSetup(t, s)
	s.steps = []step{
		{entries: chunks(b.data, 0, 1<<20, 256<<10)},
		{entries: []live.Entry{{Kind: live.KindBroken, Offset: 1 << 20}}},
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	b.wantWhole(t)
}

// A retried attempt sends its bytes from 0 again: the reader skips what it
// already sent, so nothing is duplicated.
func TestLiveRetryDoesNotRepeat(t *testing.T) {
	s := &scriptedLive{}
	b := liveSetup(t, s)
	s.steps = []step{
		{entries: append([]live.Entry{{Kind: live.KindStart, Attempt: 1}}, chunks(b.data, 0, 1<<20+5, 100_000)...)},
		{entries: append([]live.Entry{{Kind: live.KindStart, Attempt: 2}}, chunks(b.data, 0, len(b.data), 256<<10)...)},
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	b.wantWhole(t)
}

// Bytes that differ from the stored file (a retry that rendered other
// rows) must not end like a complete download: the connection is aborted.
func TestLiveMismatchAborts(t *testing.T) {
	s := &scriptedLive{}
	b := liveSetup(t, s)
	wrong := bytes.Clone(b.data)
	wrong[1000] ^= 1
	s.steps = []step{
		{entries: chunks(wrong, 0, len(wrong), 256<<10)},
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	if _, _, _, err := b.fetch(t); err == nil {
		t.Fatal("a body that differs from the stored file was read to a clean end")
	}
}

// An export that fails while streaming aborts the connection.
func TestLiveFailedAborts(t *testing.T) {
	s := &scriptedLive{}
	b := liveSetup(t, s)
	s.steps = []step{
		{entries: chunks(b.data, 0, 1<<20, 256<<10)},
		{before: b.fail(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	if body, _, _, err := b.fetch(t); err == nil {
		t.Fatalf("a failed export's body (%d bytes) was read to a clean end", len(body))
	}
}

// When no end entry ever comes (Redis lost it), the record is re-read
// and the download finishes all the same.
func TestLiveNoEndEntry(t *testing.T) {
	s := &scriptedLive{}
	b := liveSetup(t, s)
	s.steps = []step{
		{entries: chunks(b.data, 0, len(b.data), 256<<10)},
		{before: b.complete(t)},
	}
	b.wantWhole(t)
}
