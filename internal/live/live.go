// Package live relays an export's bytes from the worker rendering it to the
// API requests waiting for it, while it renders, through a Redis stream per
// export. A GET that would otherwise wait for the whole file to be stored
// and then download it can start answering as soon as the first rows are
// rendered, so a large export reaches its client about as fast as the
// database produces it.
//
// The stream is a convenience, never the record: the stored object and the
// export row stay the truth. The publisher never holds an export up for
// long (when it has waited Stall in all for Redis it marks the stream broken and
// stops), the stream is
// capped (MaxLen entries) and expires, and a reader that misses bytes (it
// fell behind, the stream broke, the worker died) finishes from the stored
// object once the export completes. The API checks the SHA-256 of what it
// sent against the stored file's before it ends a response as complete.
//
// Entries, in order, for each attempt of an export:
//
//	k=s a=ATTEMPT            an attempt starts; its data starts at offset 0
//	k=d o=OFFSET b=BYTES     the next bytes of the file
//	k=z o=OFFSET b=BLOCK     the same, as an S2 block (see below)
//	k=x o=OFFSET             the publisher dropped bytes from OFFSET on
//	k=e                      the export is done (its record says how)
//
// A retried export publishes a new "s" and its bytes from offset 0 again.
// The "e" entry is also how a waiting GET learns at once that any export
// (PDF too) is done, instead of polling the database.
//
// Data may be compressed on its way through Redis (Publisher.Compress):
// a chunk then goes as an S2 block (klauspost/compress/s2, Snappy's block
// format made faster) when that is smaller, as it is for every export's
// text. The relay's bytes cross the network twice (worker to Redis, Redis
// to API) and sit in Redis's memory, up to MaxLen chunks per stream; S2
// encodes 64 KiB chunks of the demo's CSV to 55 % and of its NDJSON to
// 41 % at 750-900 MB/s a core, and decodes at 7 GB/s. zstd's fastest level
// makes 36 % and 27 % but at 200-270 MB/s. It is off by default: with
// everything on one machine (make bench) encoding cost the worker
// 0.24-0.39 CPU-s per 600,000-event export and saved Redis and the API
// less than that. Readers always decode it. The API decodes a block just
// before it sends it. An API of an earlier version reads a "z" entry as
// malformed and finishes the answer from storage, so a rolling upgrade
// serves the right bytes.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/klauspost/compress/s2"
	"github.com/redis/go-redis/v9"
)

// Defaults of Publisher.
const (
	// DefaultChunkSize is 64 KiB: what a feed holds is up to Queue chunks
	// waiting, a batch being sent and the one filling, all on the Go heap,
	// which the garbage collector's headroom doubles. At 256 KiB that was
	// up to 6 MiB per running export, the largest part of what each
	// further concurrent export added to a worker (issue 12); at 64 KiB it
	// is 1.6 MiB, for four times the entries, which Redis appends at a
	// fraction of what one export renders.
	DefaultChunkSize = 64 << 10
	DefaultMaxLen    = 256 // entries kept: 16 MiB of a file at the default chunk size
	DefaultTTL       = 10 * time.Minute
	DefaultQueue     = 16 // chunks waiting for Redis before a write waits
	// DefaultStall is 3 s: with 64 KiB chunks the queue holds a quarter of
	// the bytes it did, so under load it fills four times as often, and a
	// 1 s budget lost the streams of every export in make bench's 4- and
	// 8-way concurrent runs (they finished from storage, correct but in
	// one late burst).
	DefaultStall = 3 * time.Second
	// maxBatch is how many queued chunks the sender hands Redis in one
	// round trip when it is behind.
	maxBatch = 8
)

// Entry kinds.
const (
	KindStart  = "s"
	KindData   = "d"
	KindBroken = "x"
	KindEnd    = "e"
	// kindDataS2 is a data entry whose bytes are an S2 block: Reader
	// returns it as a KindData entry with Compressed set.
	kindDataS2 = "z"
)

// Key is the Redis key of export id's stream. The braces make it one hash
// slot in Redis Cluster.
func Key(exportID string) string { return "sentinel:live:{" + exportID + "}" }

// WantKey is the Redis key that says a reader waits for export id's bytes.
func WantKey(exportID string) string { return "sentinel:live-want:{" + exportID + "}" }

// wantTTL is how long a reader's interest lasts: a worker looks for it when
// an attempt starts, which is normally within a second of the request.
const wantTTL = 2 * time.Minute

// endTTL is how long a stream outlives its end entry. Readers waiting when
// it comes are woken at once and read what is left within milliseconds; a
// reader still behind after that (its client is slow) finishes from
// storage, which is as right and about as fast. A GET that starts later
// finds the export done in its record and never reads the stream. So the
// bytes need not stay: at a minute, every export of the last minute kept
// its stream in Redis, and the embedded api (miniredis frees a trimmed
// stream's older chunks only when it reallocates, so a stream holds up to
// twice MaxLen) reached a GC goal of 536 MiB and 566 MiB RSS over ten 30 MB
// CSV exports one after another (demo data, about a second each); at two
// seconds, 177 MiB and 230 MiB.
const endTTL = 2 * time.Second

// Publisher writes export streams (worker side).
type Publisher struct {
	Redis  redis.UniversalClient
	Logger *slog.Logger
	// ChunkSize is the size of a data entry (DefaultChunkSize).
	ChunkSize int
	// MaxLen caps the entries a stream keeps (DefaultMaxLen): a reader that
	// falls further behind misses bytes and finishes from storage.
	MaxLen int64
	// TTL is how long a stream outlives its last entry (DefaultTTL).
	TTL time.Duration
	// Queue is how many chunks may wait for Redis (DefaultQueue).
	Queue int
	// Stall is how long, in all, an attempt's writes may wait for room in
	// a full queue; past it the stream is marked broken rather than slow
	// the export down any further (DefaultStall). A budget, not a bound per
	// write: a Redis that is slow but alive must not throttle a large
	// export chunk after chunk. Without any wait a mere scheduling hiccup
	// of the sender (two cores shared with the database) broke the stream:
	// measured, the 600,000-event bench export lost its stream after 6 to
	// 55 MB of 181, and its waiting GET finished from storage after the
	// export completed.
	Stall time.Duration
	// Compress sends a chunk as an S2 block when that is smaller (see the
	// package doc): fewer bytes through Redis and its network, for more
	// of the worker's CPU.
	Compress bool
}

func (p *Publisher) chunkSize() int { return orDefault(p.ChunkSize, DefaultChunkSize) }
func (p *Publisher) queue() int     { return orDefault(p.Queue, DefaultQueue) }
func (p *Publisher) maxLen() int64  { return int64(orDefault(int(p.MaxLen), DefaultMaxLen)) }
func (p *Publisher) stall() time.Duration {
	if p.Stall > 0 {
		return p.Stall
	}
	return DefaultStall
}
func (p *Publisher) ttl() time.Duration {
	if p.TTL > 0 {
		return p.TTL
	}
	return DefaultTTL
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// add appends one entry and keeps the stream capped and expiring.
func (p *Publisher) add(ctx context.Context, exportID string, ttl time.Duration, values ...any) error {
	key := Key(exportID)
	pipe := p.Redis.Pipeline()
	pipe.XAdd(ctx, &redis.XAddArgs{Stream: key, MaxLen: p.maxLen(), Values: values})
	pipe.Expire(ctx, key, ttl)
	_, err := pipe.Exec(ctx)
	return err
}

// Start announces attempt of export exportID and returns the Feed its bytes
// go to, if a reader said it waits for them (Reader.Want); otherwise the
// feed drops them. The feed never fails and never blocks for long: what Redis cannot
// take is dropped, and readers then finish from storage.
func (p *Publisher) Start(ctx context.Context, exportID string, attempt int) *Feed {
	f := &Feed{
		p:        p,
		exportID: exportID,
		chunks:   make(chan chunk, p.queue()),
		free:     make(chan []byte, p.queue()+maxBatch),
		done:     make(chan struct{}),
		buf:      make([]byte, 0, p.chunkSize()),
	}
	// Only an export a reader waits for is published: Redis holds up to
	// MaxLen chunks per stream, which it should not for every export
	// (scheduled ones, 202 clients) when nobody reads them.
	wanted, err := p.Redis.Exists(ctx, WantKey(exportID)).Result()
	if err == nil && wanted == 0 {
		f.broken = true
		close(f.done)
		return f
	}
	if err == nil {
		err = p.add(ctx, exportID, p.ttl(), "k", KindStart, "a", strconv.Itoa(attempt))
	}
	if err != nil {
		p.logger().WarnContext(ctx, "live: start stream; it is off for this attempt", "export_id", exportID, "err", err)
		f.broken = true
		close(f.done)
		return f
	}
	ctx = context.WithoutCancel(ctx) // Close decides when the feed ends
	go f.run(ctx)
	return f
}

// End publishes that export exportID is done (completed or failed: its
// record says which), which wakes its waiting readers at once, and lets the
// stream expire endTTL after it.
func (p *Publisher) End(ctx context.Context, exportID string) {
	if err := p.add(ctx, exportID, endTTL, "k", KindEnd); err != nil {
		p.logger().WarnContext(ctx, "live: publish end", "export_id", exportID, "err", err)
	}
}

func (p *Publisher) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

type chunk struct {
	off  int64
	data []byte
}

// Feed is one attempt's byte stream: an io.Writer that chunks what it is
// given and appends the chunks to the stream from its own goroutine.
type Feed struct {
	p        *Publisher
	exportID string
	chunks   chan chunk
	// free holds the buffers of chunks Redis has taken, for the writer to
	// fill again: an export of N bytes otherwise allocated N bytes of
	// 64 KiB chunks, whose garbage collection was a fifth of a worker's CPU
	// in a 600k NDJSON export. It holds no more buffers than can be in
	// flight (queued, in a batch), so it bounds nothing new.
	free chan []byte
	done chan struct{}
	// enc holds the S2 blocks of the batch being sent, owned by the
	// sender: at most maxBatch buffers, allocated as batches first grow
	// to need them.
	enc [][]byte

	// Owned by the writer.
	buf    []byte
	off    int64 // offset of buf[0]
	broken bool  // dropping: a chunk could not be queued
	closed bool
	waited time.Duration // spent waiting for room, of Publisher.Stall

	mu     sync.Mutex
	failed bool  // Redis refused a chunk: nothing after it is published
	failAt int64 // that chunk's offset
}

// Write queues p's bytes; it never fails.
func (f *Feed) Write(p []byte) (int, error) {
	n := len(p)
	if f.broken || f.closed {
		return n, nil
	}
	for len(p) > 0 {
		room := cap(f.buf) - len(f.buf)
		if room > len(p) {
			room = len(p)
		}
		f.buf = append(f.buf, p[:room]...)
		p = p[room:]
		if len(f.buf) == cap(f.buf) {
			f.flush()
			if f.broken {
				break
			}
		}
	}
	return n, nil
}

// flush hands the buffered chunk to the sender, waiting for room for what
// is left of the Stall budget, or breaks the feed when the sender stays too
// far behind.
func (f *Feed) flush() {
	if len(f.buf) == 0 {
		return
	}
	c := chunk{off: f.off, data: f.buf}
	select {
	case f.chunks <- c:
	default:
		left := f.p.stall() - f.waited
		if left <= 0 {
			f.broken = true
			return
		}
		start := time.Now()
		t := time.NewTimer(left)
		select {
		case f.chunks <- c:
			t.Stop()
			f.waited += time.Since(start)
		case <-t.C:
			f.broken = true
			return
		}
	}
	f.off += int64(len(f.buf))
	select {
	case b := <-f.free:
		f.buf = b[:0]
	default:
		f.buf = make([]byte, 0, cap(f.buf))
	}
}

// Close sends what is buffered, waits until the sender is done (or ctx
// ends) and, when bytes were dropped, publishes where they stopped.
func (f *Feed) Close(ctx context.Context) {
	if f.closed {
		return
	}
	f.closed = true
	select {
	case <-f.done: // never started
		return
	default:
	}
	if !f.broken {
		f.flush()
	}
	close(f.chunks)
	select {
	case <-f.done:
	case <-ctx.Done():
		return
	}
	f.mu.Lock()
	failed, failAt := f.failed, f.failAt
	f.mu.Unlock()
	if f.broken || failed {
		at := f.off
		if failed && failAt < at {
			at = failAt
		}
		f.p.logger().InfoContext(ctx, "live: stream gave up; its readers finish from storage",
			"export_id", f.exportID, "offset", at, "redis_failed", failed)
		_ = f.p.add(ctx, f.exportID, f.p.ttl(), "k", KindBroken, "o", strconv.FormatInt(at, 10))
	}
}

func (f *Feed) run(ctx context.Context) {
	defer close(f.done)
	batch := make([]chunk, 0, maxBatch)
	for c := range f.chunks {
		// What queued up meanwhile goes in the same round trip: a sender
		// that fell behind catches up instead of staying behind.
		batch = append(batch[:0], c)
	drain:
		for len(batch) < maxBatch {
			select {
			case c, ok := <-f.chunks:
				if !ok {
					break drain
				}
				batch = append(batch, c)
			default:
				break drain
			}
		}
		f.mu.Lock()
		failed := f.failed
		f.mu.Unlock()
		if failed {
			continue // drain: nothing after a hole may be published
		}
		if at, err := f.send(ctx, batch); err != nil {
			f.p.logger().WarnContext(ctx, "live: publish chunk; the stream stops here", "export_id", f.exportID,
				"offset", at, "err", err)
			f.mu.Lock()
			f.failed, f.failAt = true, at
			f.mu.Unlock()
			continue // its buffers go to the garbage collector, as nothing more is sent
		}
		// go-redis has written the chunks out by the time Exec returns and
		// keeps no reference to them: their buffers can be filled again.
		for _, c := range batch {
			select {
			case f.free <- c.data:
			default:
			}
		}
	}
}

// send appends batch's chunks in one pipeline; on failure it reports the
// offset of the first chunk Redis did not take.
func (f *Feed) send(ctx context.Context, batch []chunk) (int64, error) {
	key := Key(f.exportID)
	pipe := f.p.Redis.Pipeline()
	adds := make([]*redis.StringCmd, len(batch))
	for i, c := range batch {
		kind, data := f.encode(i, c.data)
		adds[i] = pipe.XAdd(ctx, &redis.XAddArgs{Stream: key, MaxLen: f.p.maxLen(),
			Values: []any{"k", kind, "o", strconv.FormatInt(c.off, 10), "b", data}})
	}
	pipe.Expire(ctx, key, f.p.ttl())
	_, err := pipe.Exec(ctx)
	if err == nil {
		return 0, nil
	}
	for i, a := range adds {
		if a.Err() != nil {
			return batch[i].off, err
		}
	}
	return batch[len(batch)-1].off, err // only EXPIRE failed: keep it safe
}

// encode returns the kind and bytes of the data entry for p, the i-th
// chunk of a batch: p as an S2 block in the batch's i-th buffer when that
// is smaller (text always is), else p itself.
func (f *Feed) encode(i int, p []byte) (string, []byte) {
	if !f.p.Compress {
		return KindData, p
	}
	need := s2.MaxEncodedLen(len(p))
	if need < 0 {
		return KindData, p // too large for a block; never at chunk sizes
	}
	for len(f.enc) <= i {
		f.enc = append(f.enc, nil)
	}
	if cap(f.enc[i]) < need {
		f.enc[i] = make([]byte, need)
	}
	z := s2.Encode(f.enc[i][:need], p)
	if len(z) >= len(p) {
		return KindData, p
	}
	return kindDataS2, z
}

// Entry is one entry of a stream, as a Reader returns it.
type Entry struct {
	ID      string
	Kind    string
	Attempt int
	Offset  int64
	// Data is a data entry's payload as Redis holds it: the file's bytes
	// from Offset on, or, when Compressed, an S2 block of Size of them. Use
	// Bytes and Len for the file's bytes. go-redis hands values over as
	// strings; kept so, not copied.
	Data       string
	Compressed bool
	Size       int // the decoded size of a Compressed entry's block
}

// Len is how many of the file's bytes a data entry carries.
func (e Entry) Len() int {
	if e.Compressed {
		return e.Size
	}
	return len(e.Data)
}

// Bytes returns a data entry's bytes of the file: Data itself, or Data
// decoded into buf when it is an S2 block (buf is grown when too small).
// The result may share memory with Data and must not be modified.
func (e Entry) Bytes(buf []byte) ([]byte, error) {
	if !e.Compressed {
		return bytesOf(e.Data), nil
	}
	if cap(buf) < e.Size {
		buf = make([]byte, e.Size)
	}
	b, err := s2.Decode(buf[:cap(buf)], bytesOf(e.Data))
	if err == nil && len(b) != e.Size {
		err = fmt.Errorf("decoded %d bytes of %d", len(b), e.Size)
	}
	if err != nil {
		return nil, fmt.Errorf("%w %s: s2 block at offset %d: %w", ErrBadEntry, e.ID, e.Offset, err)
	}
	return b, nil
}

// maxBlock bounds the decoded size of a block a Reader accepts: far above
// any chunk a Publisher sends (DefaultChunkSize).
const maxBlock = 16 << 20

// bytesOf lends s's bytes as a slice, which must only be read: go-redis's
// strings are passed to the hash, the decoder and the response writer
// without a copy of every chunk.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// Reader reads export streams (API side).
type Reader struct {
	Redis redis.UniversalClient
	// Count is how many entries one read returns at most (default 32: 2 MiB
	// of 64 KiB chunks, what 8 of the 256 KiB chunks were; at 8 a reader
	// made four times the round trips, and the 600,000-event NDJSON bench
	// export fell from 0.97x to 0.81x the CSV's rows/s).
	Count int64
}

// Want says a reader waits for export exportID's bytes, so that the worker
// that starts it publishes them. Call it before the export can start (or
// just after it was queued: a worker takes a task no sooner than its next
// poll); a later reader finds no bytes and waits for the stored file.
func (r *Reader) Want(ctx context.Context, exportID string) error {
	return r.Redis.Set(ctx, WantKey(exportID), "1", wantTTL).Err()
}

// ErrBadEntry is returned for an entry that is not of this package's form.
var ErrBadEntry = errors.New("live: malformed stream entry")

// Next returns the entries of export exportID's stream after the entry
// with ID after ("0" for the first), waiting up to block for one to come.
// No entry within block is (nil, nil).
func (r *Reader) Next(ctx context.Context, exportID, after string, block time.Duration) ([]Entry, error) {
	count := r.Count
	if count <= 0 {
		count = 32
	}
	if block < time.Millisecond {
		block = time.Millisecond // 0 would mean forever
	}
	res, err := r.Redis.XRead(ctx, &redis.XReadArgs{
		Streams: []string{Key(exportID), after},
		Count:   count,
		Block:   block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, s := range res {
		for _, m := range s.Messages {
			e, err := parse(m)
			if err != nil {
				return out, err
			}
			out = append(out, e)
		}
	}
	return out, nil
}

func parse(m redis.XMessage) (Entry, error) {
	e := Entry{ID: m.ID}
	str := func(k string) string {
		s, _ := m.Values[k].(string)
		return s
	}
	e.Kind = str("k")
	var err error
	switch e.Kind {
	case KindStart:
		e.Attempt, err = strconv.Atoi(str("a"))
	case KindData, kindDataS2:
		e.Offset, err = strconv.ParseInt(str("o"), 10, 64)
		e.Data = str("b")
		if e.Kind == kindDataS2 && err == nil {
			e.Kind, e.Compressed = KindData, true
			// The block's header says its decoded size: checked here so
			// that Size can be trusted before the block is decoded (and a
			// header claiming more than any chunk is not allocated for).
			e.Size, err = s2.DecodedLen(bytesOf(e.Data))
			if err == nil && e.Size > maxBlock {
				err = fmt.Errorf("s2 block of %d bytes decoded, over %d", e.Size, maxBlock)
			}
		}
	case KindBroken:
		e.Offset, err = strconv.ParseInt(str("o"), 10, 64)
	case KindEnd:
	default:
		err = fmt.Errorf("kind %q", e.Kind)
	}
	if err != nil {
		return e, fmt.Errorf("%w %s: %w", ErrBadEntry, m.ID, err)
	}
	return e, nil
}
