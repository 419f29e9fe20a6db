package live_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/live"
	"github.com/auditsentinel/sentinel/internal/objstore/filesystem"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite/sqlitetest"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// scripted is a live.Source that plays entries from a script, one step per
// Next; a step may first run an action (complete the export) or fail the
// read. It stands in for Redis to put the follower in every situation a
// stream can be in (a gap, a retry, a lost end entry); TestFollowOverRedis
// runs the follower on the real thing.
type scripted struct {
	mu    sync.Mutex
	steps []step
	seq   int
}

type step struct {
	before  func()
	entries []live.Entry
	err     error
}

func (s *scripted) Want(context.Context, string) error { return nil }

func (s *scripted) Next(ctx context.Context, _, _ string, block time.Duration) ([]live.Entry, error) {
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
	return out, st.err
}

type followBundle struct {
	store    *sqlstore.DB
	follower *live.Follower
	data     []byte
	exp      audit.Export // running, as the follower first sees it
}

// followSetup stores the file (size bytes) of a running export x1, not yet
// completed, and builds a follower reading the stream from src.
func followSetup(t *testing.T, src live.Source, size int) *followBundle {
	t.Helper()
	db := sqlitetest.Open(t)
	fs, err := filesystem.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, size)
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
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &live.Follower{Source: src, Records: db, Files: fs, Logger: logger}
	return &followBundle{store: db, follower: f, data: data, exp: e}
}

func (b *followBundle) complete(t *testing.T) func() {
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

func (b *followBundle) fail(t *testing.T) func() {
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

// s2chunks is chunks as S2 blocks, as a publisher sends text; cut, when
// not zero, drops that many bytes from the end of each block.
func s2chunks(data []byte, from, to, n, cut int) []live.Entry {
	out := chunks(data, from, to, n)
	for i, e := range out {
		z := s2.Encode(nil, []byte(e.Data))
		out[i] = live.Entry{Kind: live.KindData, Offset: e.Offset, Data: string(z[:len(z)-cut]), Compressed: true, Size: len(e.Data)}
	}
	return out
}

const fileSize = 3<<20 + 777

// copyAll runs Copy from the start of the stream.
func (b *followBundle) copyAll(t *testing.T) ([]byte, audit.Export, error) {
	t.Helper()
	var out bytes.Buffer
	done, err := b.follower.Copy(t.Context(), &out, live.Waited{Export: b.exp, After: "0"})
	return out.Bytes(), done, err
}

// wantWhole checks that Copy wrote the whole file and returned the
// completed record it checked the body against.
func (b *followBundle) wantWhole(t *testing.T) {
	t.Helper()
	body, done, err := b.copyAll(t)
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	if !bytes.Equal(body, b.data) {
		t.Fatalf("body: %d bytes, want the %d of the file", len(body), len(b.data))
	}
	sum := sha256.Sum256(b.data)
	if done.Status != audit.StatusCompleted || done.SHA256 != hex.EncodeToString(sum[:]) || done.RowsWritten != 42 {
		t.Fatalf("copy returned %s, sha256 %s, rows %d; want the completed record", done.Status, done.SHA256, done.RowsWritten)
	}
}

// The whole file from the stream, then the completed record.
func TestCopyWholeStream(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, fileSize)
	all := chunks(b.data, 0, len(b.data), 256<<10)
	s.steps = []step{
		{entries: append([]live.Entry{{Kind: live.KindStart, Attempt: 1}}, all[:5]...)},
		{entries: all[5:]},
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	b.wantWhole(t)
}

// Compressed entries are decoded on their way to the client.
func TestCopyCompressedStream(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, fileSize)
	s.steps = []step{
		{entries: append([]live.Entry{{Kind: live.KindStart, Attempt: 1}}, s2chunks(b.data, 0, 1<<20, 64<<10, 0)...)},
		{entries: chunks(b.data, 1<<20, 2<<20, 64<<10)},
		{entries: s2chunks(b.data, 2<<20, len(b.data), 64<<10, 0)},
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	b.wantWhole(t)
}

// A block that does not decode (here: cut short) stops the stream at its
// offset; the rest comes from storage and the body is still the file.
func TestCopyBadBlockFinishesFromStorage(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, fileSize)
	s.steps = []step{
		{entries: s2chunks(b.data, 0, 1<<20, 64<<10, 0)},
		{entries: s2chunks(b.data, 1<<20, 2<<20, 64<<10, 3)},
		{entries: s2chunks(b.data, 2<<20, len(b.data), 64<<10, 0)},
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	b.wantWhole(t)
}

// Bytes the stream lost (trimmed before they were read) come from storage
// once the export completes.
func TestCopyGapFinishesFromStorage(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, fileSize)
	s.steps = []step{
		{entries: chunks(b.data, 0, 1<<20, 256<<10)},
		{entries: chunks(b.data, 2<<20, len(b.data), 256<<10)}, // 1 MiB missing
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	b.wantWhole(t)
}

// A publisher that gave up (KindBroken) sends the follower to storage too.
func TestCopyBrokenFinishesFromStorage(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, fileSize)
	s.steps = []step{
		{entries: chunks(b.data, 0, 1<<20, 256<<10)},
		{entries: []live.Entry{{Kind: live.KindBroken, Offset: 1 << 20}}},
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	b.wantWhole(t)
}

// A stream that cannot be read any more (Redis went away) is finished from
// storage once the export completes.
func TestCopyReadErrorFinishesFromStorage(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, fileSize)
	s.steps = []step{
		{entries: chunks(b.data, 0, 1<<20, 256<<10)},
		{err: errors.New("connection refused")},
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	b.wantWhole(t)
}

// A retried attempt sends its bytes from 0 again: the follower skips what
// it already sent, so nothing is duplicated.
func TestCopyRetryDoesNotRepeat(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, fileSize)
	s.steps = []step{
		{entries: append([]live.Entry{{Kind: live.KindStart, Attempt: 1}}, chunks(b.data, 0, 1<<20+5, 100_000)...)},
		{entries: append([]live.Entry{{Kind: live.KindStart, Attempt: 2}}, chunks(b.data, 0, len(b.data), 256<<10)...)},
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	b.wantWhole(t)
}

// Bytes that differ from the stored file (a retry that rendered other
// rows) abort the copy: the body must not end like a complete one.
func TestCopyMismatchAborts(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, fileSize)
	wrong := bytes.Clone(b.data)
	wrong[1000] ^= 1
	s.steps = []step{
		{entries: chunks(wrong, 0, len(wrong), 256<<10)},
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	if _, _, err := b.copyAll(t); !errors.Is(err, live.ErrAborted) {
		t.Fatalf("copy of a body that differs from the stored file: %v; want ErrAborted", err)
	}
}

// An export that fails while streaming aborts the copy.
func TestCopyFailedAborts(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, fileSize)
	s.steps = []step{
		{entries: chunks(b.data, 0, 1<<20, 256<<10)},
		{before: b.fail(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	body, done, err := b.copyAll(t)
	if !errors.Is(err, live.ErrAborted) {
		t.Fatalf("copy of a failed export (%d bytes): %v; want ErrAborted", len(body), err)
	}
	if done.Status != audit.StatusFailed {
		t.Fatalf("copy returned a %s record; want the failed one", done.Status)
	}
}

// When no end entry ever comes (Redis lost it), the record is re-read
// and the copy finishes all the same.
func TestCopyNoEndEntry(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, fileSize)
	s.steps = []step{
		{entries: chunks(b.data, 0, len(b.data), 256<<10)},
		{before: b.complete(t)},
	}
	b.wantWhole(t)
}

// A client that goes away ends the copy with ctx's error, not ErrAborted:
// nothing is wrong with the export.
func TestCopyClientGone(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, fileSize)
	s.steps = []step{{entries: chunks(b.data, 0, 1<<20, 256<<10)}}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := b.follower.Copy(ctx, io.Discard, live.Waited{Export: b.exp, After: "0"})
	if !errors.Is(err, context.Canceled) || errors.Is(err, live.ErrAborted) {
		t.Fatalf("copy for a gone client: %v; want context.Canceled", err)
	}
}

// Wait is woken by the end entry and returns the done record, with nothing
// to stream: a small export gets the ordinary answer.
func TestWaitWokenByEnd(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, 1000)
	s.steps = []step{
		{entries: append([]live.Entry{{Kind: live.KindStart, Attempt: 1}}, chunks(b.data, 0, len(b.data), 256<<10)...)},
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	w, ok := b.follower.Wait(t.Context(), "acme", b.exp, time.Minute, true)
	if !ok || w.Export.Status != audit.StatusCompleted || w.Streamable() || len(w.Pending) != 0 {
		t.Fatalf("Wait: ok %v, status %s, streamable %v, %d pending; want the completed record", ok, w.Export.Status,
			w.Streamable(), len(w.Pending))
	}
}

// An export whose first bytes reach the hold (4 MiB) before it is done is
// to be streamed at once, from its first byte.
func TestWaitStreamsPastHold(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, 5<<20)
	s.steps = []step{
		{entries: []live.Entry{{Kind: live.KindStart, Attempt: 1}}},
		{entries: chunks(b.data, 0, 4<<20, 256<<10)},
	}
	w, ok := b.follower.Wait(t.Context(), "acme", b.exp, time.Minute, true)
	if !ok || !w.Streamable() {
		t.Fatalf("Wait: ok %v, streamable %v (status %s); want to stream", ok, w.Streamable(), w.Export.Status)
	}
	var held int
	for _, en := range w.Pending {
		held += len(en.Data)
	}
	if w.Pending[0].Offset != 0 || held < 4<<20 {
		t.Fatalf("pending from offset %d, %d bytes; want the first 4 MiB", w.Pending[0].Offset, held)
	}
	// Copy goes on from there.
	s.mu.Lock()
	s.steps = []step{
		{entries: chunks(b.data, 4<<20, len(b.data), 256<<10)},
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	s.mu.Unlock()
	var out bytes.Buffer
	if _, err := b.follower.Copy(t.Context(), &out, w); err != nil || !bytes.Equal(out.Bytes(), b.data) {
		t.Fatalf("copy after Wait: %d bytes, %v; want the %d of the file", out.Len(), err, len(b.data))
	}
}

// A trickle of bytes below the hold is streamed once the grace is over.
func TestWaitStreamsAfterGrace(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, fileSize)
	s.steps = []step{{entries: chunks(b.data, 0, 1<<20, 256<<10)}}
	w, ok := b.follower.Wait(t.Context(), "acme", b.exp, time.Minute, true)
	if !ok || !w.Streamable() || len(w.Pending) != 4 {
		t.Fatalf("Wait: ok %v, streamable %v, %d pending; want the 4 entries read to stream", ok, w.Streamable(), len(w.Pending))
	}
}

// A request that is not to be streamed (stream=false) only waits: bytes
// on the stream are not kept, and the wait ends at its deadline.
func TestWaitWithoutStreaming(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, fileSize)
	s.steps = []step{{entries: chunks(b.data, 0, len(b.data), 256<<10)}}
	w, ok := b.follower.Wait(t.Context(), "acme", b.exp, 300*time.Millisecond, false)
	if !ok || w.Streamable() || len(w.Pending) != 0 || w.Export.Status != audit.StatusRunning {
		t.Fatalf("Wait: ok %v, streamable %v, %d pending, status %s; want the running record only", ok,
			w.Streamable(), len(w.Pending), w.Export.Status)
	}
}

// A publisher that gave up is not worth streaming: what was held is
// dropped, and the wait goes on for the record.
func TestWaitBrokenNotStreamed(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, fileSize)
	s.steps = []step{
		{entries: chunks(b.data, 0, 1<<20, 256<<10)},
		{entries: []live.Entry{{Kind: live.KindBroken, Offset: 1 << 20}}},
		{before: b.complete(t), entries: []live.Entry{{Kind: live.KindEnd}}},
	}
	w, ok := b.follower.Wait(t.Context(), "acme", b.exp, time.Minute, true)
	if !ok || w.Streamable() || w.Export.Status != audit.StatusCompleted {
		t.Fatalf("Wait: ok %v, streamable %v, status %s; want the completed record", ok, w.Streamable(), w.Export.Status)
	}
}

// A stream that cannot be read makes Wait report ok=false: the caller then
// waits the ordinary way.
func TestWaitReadErrorNotOK(t *testing.T) {
	s := &scripted{}
	b := followSetup(t, s, fileSize)
	s.steps = []step{{err: errors.New("connection refused")}}
	if _, ok := b.follower.Wait(t.Context(), "acme", b.exp, time.Minute, true); ok {
		t.Fatal("Wait on an unreadable stream reported ok")
	}
}

// The follower on a real Redis, with what a worker publishes: Wait is
// woken by the end entry, and Copy from the stream's start writes the file.
func TestFollowOverRedis(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.RedisURL(t))
	r := &live.Reader{Redis: rdb}
	b := followSetup(t, r, fileSize)
	if err := r.Want(t.Context(), "x1"); err != nil {
		t.Fatal(err)
	}
	pub := &live.Publisher{Redis: rdb}
	feed := pub.Start(t.Context(), "x1", 1)
	writeOdd(feed, b.data)
	feed.Close(t.Context())
	b.complete(t)()
	pub.End(t.Context(), "x1")

	w, ok := b.follower.Wait(t.Context(), "acme", b.exp, time.Minute, true)
	if !ok || w.Export.Status != audit.StatusCompleted || w.Streamable() {
		t.Fatalf("Wait: ok %v, status %s, streamable %v; want the completed record", ok, w.Export.Status, w.Streamable())
	}
	b.wantWhole(t)
}
