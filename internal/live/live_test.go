package live_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/auditsentinel/sentinel/internal/live"
	"github.com/auditsentinel/sentinel/internal/redisconn"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// cluster is the Redis Cluster the Cluster backend runs on: one for the
// package, as a cluster takes seconds to start; each test gets it empty.
var cluster testenv.SharedRedisCluster

func TestMain(m *testing.M) {
	code := m.Run()
	cluster.Close()
	os.Exit(code)
}

// backends runs fn against a real redis-server, a real three-master Redis
// Cluster and miniredis (what embedded mode uses), each behind a proxy the
// test can pause.
func backends(t *testing.T, fn func(t *testing.T, rdb redis.UniversalClient, px *proxy)) {
	t.Run("Redis", func(t *testing.T) {
		t.Parallel()
		opt, err := redis.ParseURL(testenv.RedisURL(t))
		if err != nil {
			t.Fatal(err)
		}
		px := newProxy(t)
		if opt.Addr, err = px.to(opt.Addr); err != nil {
			t.Fatal(err)
		}
		fn(t, client(t, opt), px)
	})
	t.Run("Cluster", func(t *testing.T) {
		t.Parallel()
		o, err := redisconn.ParseURL(cluster.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		// The cluster's slot map and MOVED replies name the nodes' own
		// addresses, so the proxy cannot stand in front of one seed
		// address; the client's dialer sends every connection, to
		// whichever node, through the proxy instead.
		px := newProxy(t)
		c := redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: o.Addrs,
			Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
				a, err := px.to(addr)
				if err != nil {
					return nil, err
				}
				return (&net.Dialer{}).DialContext(ctx, network, a)
			},
			ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second,
		})
		t.Cleanup(func() { c.Close() })
		fn(t, c, px)
	})
	t.Run("Miniredis", func(t *testing.T) {
		t.Parallel()
		m := miniredis.RunT(t)
		px := newProxy(t)
		addr, err := px.to(m.Addr())
		if err != nil {
			t.Fatal(err)
		}
		fn(t, client(t, &redis.Options{Addr: addr}), px)
	})
}

func client(t *testing.T, opt *redis.Options) redis.UniversalClient {
	opt.ReadTimeout, opt.WriteTimeout = 5*time.Second, 5*time.Second
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// readAll reads export id's stream from the start until its end entry.
func readAll(t *testing.T, r *live.Reader, id string) []live.Entry {
	t.Helper()
	var out []live.Entry
	after := "0"
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		es, err := r.Next(t.Context(), id, after, 200*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			out = append(out, e)
			after = e.ID
			if e.Kind == live.KindEnd {
				return out
			}
		}
	}
	t.Fatalf("no end entry after 10s; read %d entries", len(out))
	return nil
}

// entryBytes is data entry e's bytes of the file.
func entryBytes(t *testing.T, e live.Entry) []byte {
	t.Helper()
	b, err := e.Bytes(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(7, uint64(n)))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// writeOdd writes b in pieces of odd sizes, as a renderer's buffer does.
func writeOdd(w io.Writer, b []byte) {
	for i, n := 0, 1; i < len(b); n = n*7%65521 + 1 {
		if i+n > len(b) {
			n = len(b) - i
		}
		w.Write(b[i : i+n])
		i += n
	}
}

func TestRoundTrip(t *testing.T) {
	backends(t, func(t *testing.T, rdb redis.UniversalClient, _ *proxy) {
		p := &live.Publisher{Redis: rdb, ChunkSize: 64 << 10, Queue: 32} // room for all of it
		want := randomBytes(1<<20 + 12345)
		wantLive(t, rdb, "exp1")
		f := p.Start(t.Context(), "exp1", 1)
		writeOdd(f, want)
		f.Close(t.Context())
		p.End(t.Context(), "exp1")

		es := readAll(t, &live.Reader{Redis: rdb}, "exp1")
		if es[0].Kind != live.KindStart || es[0].Attempt != 1 {
			t.Fatalf("first entry %+v, want the start of attempt 1", es[0])
		}
		var got bytes.Buffer
		for _, e := range es[1 : len(es)-1] {
			if e.Kind != live.KindData || e.Offset != int64(got.Len()) {
				t.Fatalf("entry %+v after %d bytes: want data at that offset", e, got.Len())
			}
			got.Write(entryBytes(t, e))
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("read %d bytes back, not the %d written", got.Len(), len(want))
		}
		// The stream goes two seconds after its end entry (-2: gone already).
		ttl, err := rdb.TTL(t.Context(), live.Key("exp1")).Result()
		if err != nil || ttl != -2 && (ttl <= 0 || ttl > 2*time.Second) {
			t.Fatalf("TTL after the end = %v, %v; want at most 2s", ttl, err)
		}
	})
}

// A feed refills the buffers of chunks Redis has taken: with a short
// queue and small chunks each buffer is filled many times over, and every
// byte must still arrive as written, at its offset.
func TestRecycledBuffersKeepTheBytes(t *testing.T) {
	backends(t, func(t *testing.T, rdb redis.UniversalClient, _ *proxy) {
		p := &live.Publisher{Redis: rdb, ChunkSize: 4 << 10, Queue: 2, MaxLen: 1000, Stall: time.Minute}
		want := randomBytes(600<<10 + 777) // 151 chunks through at most 10 buffers in flight
		wantLive(t, rdb, "recycled")
		f := p.Start(t.Context(), "recycled", 1)
		writeOdd(f, want)
		f.Close(t.Context())
		p.End(t.Context(), "recycled")
		var got bytes.Buffer
		for _, e := range readAll(t, &live.Reader{Redis: rdb}, "recycled") {
			if e.Kind == live.KindBroken {
				t.Fatalf("the feed broke at %d", e.Offset)
			}
			if e.Kind != live.KindData {
				continue
			}
			if e.Offset != int64(got.Len()) {
				t.Fatalf("data at offset %d after %d bytes", e.Offset, got.Len())
			}
			got.Write(entryBytes(t, e))
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("read %d bytes back, not the %d written (or not the same bytes)", got.Len(), len(want))
		}
	})
}

func wantLive(t *testing.T, rdb redis.UniversalClient, id string) {
	t.Helper()
	if err := (&live.Reader{Redis: rdb}).Want(t.Context(), id); err != nil {
		t.Fatal(err)
	}
}

// An export no reader waits for is not published (Redis would hold up to
// MaxLen chunks of every export for nothing); its end still is.
func TestUnwantedIsNotPublished(t *testing.T) {
	backends(t, func(t *testing.T, rdb redis.UniversalClient, _ *proxy) {
		p := &live.Publisher{Redis: rdb}
		f := p.Start(t.Context(), "nobody", 1)
		writeOdd(f, randomBytes(1<<20))
		f.Close(t.Context())
		if n, err := rdb.XLen(t.Context(), live.Key("nobody")).Result(); err != nil || n != 0 {
			t.Fatalf("XLEN = %d, %v; want nothing published", n, err)
		}
		p.End(t.Context(), "nobody")
		es := readAll(t, &live.Reader{Redis: rdb}, "nobody")
		if len(es) != 1 || es[0].Kind != live.KindEnd {
			t.Fatalf("entries %+v; want the end alone", es)
		}
	})
}

// A reader waiting on a stream wakes as soon as an entry comes.
func TestNextWakesOnEnd(t *testing.T) {
	backends(t, func(t *testing.T, rdb redis.UniversalClient, _ *proxy) {
		p := &live.Publisher{Redis: rdb}
		go func() {
			time.Sleep(100 * time.Millisecond)
			p.End(context.Background(), "exp2")
		}()
		start := time.Now()
		es, err := (&live.Reader{Redis: rdb}).Next(t.Context(), "exp2", "0", 5*time.Second)
		if err != nil || len(es) != 1 || es[0].Kind != live.KindEnd {
			t.Fatalf("Next = %+v, %v; want the end entry", es, err)
		}
		if el := time.Since(start); el > 3*time.Second {
			t.Fatalf("woke after %v", el)
		}
		es, err = (&live.Reader{Redis: rdb}).Next(t.Context(), "nothing", "0", 50*time.Millisecond)
		if err != nil || es != nil {
			t.Fatalf("Next on no stream = %+v, %v; want nothing", es, err)
		}
	})
}

// When Redis cannot keep up, the feed drops bytes instead of blocking the
// export, and says from which offset on.
func TestSlowRedisBreaksTheFeed(t *testing.T) {
	backends(t, func(t *testing.T, rdb redis.UniversalClient, px *proxy) {
		p := &live.Publisher{Redis: rdb, ChunkSize: 16 << 10, Queue: 2}
		wantLive(t, rdb, "exp3")
		f := p.Start(t.Context(), "exp3", 1)
		px.pause()
		want := randomBytes(1 << 20)
		done := make(chan struct{})
		go func() {
			writeOdd(f, want) // must not block although Redis does not answer
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Write blocked while Redis was paused")
		}
		px.resume()
		f.Close(t.Context())
		p.End(t.Context(), "exp3")

		es := readAll(t, &live.Reader{Redis: rdb}, "exp3")
		var got bytes.Buffer
		var broken *live.Entry
		for i, e := range es {
			switch e.Kind {
			case live.KindData:
				if broken != nil || e.Offset != int64(got.Len()) {
					t.Fatalf("data entry %d at %d after %d bytes (broken: %v)", i, e.Offset, got.Len(), broken != nil)
				}
				got.Write(entryBytes(t, e))
			case live.KindBroken:
				broken = &es[i]
			}
		}
		if broken == nil || broken.Offset != int64(got.Len()) || got.Len() >= len(want) {
			t.Fatalf("broken entry %+v after %d of %d bytes; want one at the end of the data", broken, got.Len(), len(want))
		}
		if !bytes.Equal(got.Bytes(), want[:got.Len()]) {
			t.Fatal("the bytes before the break differ from those written")
		}
	})
}

// A Redis that is slow for less than Stall holds the writer up but keeps
// the stream whole: the queued chunks then go in batches (one round trip
// for several), in order. Before Stall existed, a sender that fell behind
// for a moment broke the stream of most large exports.
func TestBriefStallKeepsTheStream(t *testing.T) {
	backends(t, func(t *testing.T, rdb redis.UniversalClient, px *proxy) {
		p := &live.Publisher{Redis: rdb, ChunkSize: 16 << 10, Queue: 2, MaxLen: 1000, Stall: 5 * time.Second}
		wantLive(t, rdb, "exp5")
		f := p.Start(t.Context(), "exp5", 1)
		px.pause()
		want := randomBytes(1 << 20)
		done := make(chan struct{})
		go func() {
			writeOdd(f, want)
			close(done)
		}()
		time.Sleep(200 * time.Millisecond)
		select {
		case <-done:
			t.Fatal("1 MiB went into a 2-chunk queue while Redis did not answer: the writer did not wait")
		default:
		}
		px.resume()
		<-done
		f.Close(t.Context())
		p.End(t.Context(), "exp5")

		var got bytes.Buffer
		for _, e := range readAll(t, &live.Reader{Redis: rdb, Count: 100}, "exp5") {
			switch e.Kind {
			case live.KindData:
				if e.Offset != int64(got.Len()) {
					t.Fatalf("data at %d after %d bytes", e.Offset, got.Len())
				}
				got.Write(entryBytes(t, e))
			case live.KindBroken:
				t.Fatalf("stream broken at %d although Redis answered within Stall", e.Offset)
			}
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("read %d bytes back, not the %d written", got.Len(), len(want))
		}
	})
}

// Stall is a budget for the whole attempt, not a bound per write: after
// the writer has waited most of it once, a second stall breaks the stream
// within what is left, instead of throttling the export again and again.
func TestStallIsABudget(t *testing.T) {
	backends(t, func(t *testing.T, rdb redis.UniversalClient, px *proxy) {
		const stall, first = 2 * time.Second, 1200 * time.Millisecond
		p := &live.Publisher{Redis: rdb, ChunkSize: 16 << 10, Queue: 2, MaxLen: 1000, Stall: stall}
		wantLive(t, rdb, "exp6")
		f := p.Start(t.Context(), "exp6", 1)
		want := randomBytes(2 << 20)

		px.pause()
		done := make(chan struct{})
		go func() {
			writeOdd(f, want[:1<<20])
			close(done)
		}()
		time.Sleep(first)
		px.resume()
		<-done // it waited about `first` of its budget, and went on

		px.pause()
		start := time.Now()
		writeOdd(f, want[1<<20:])
		el := time.Since(start)
		px.resume()
		if el >= stall-first/2 {
			t.Fatalf("the second stall held the writer %v: a fresh Stall (%v) per write, not what was left of it", el, stall)
		}
		f.Close(t.Context())
		p.End(t.Context(), "exp6")
		var broken bool
		for _, e := range readAll(t, &live.Reader{Redis: rdb, Count: 1000}, "exp6") {
			broken = broken || e.Kind == live.KindBroken
		}
		if !broken {
			t.Fatal("no broken entry: the stream was not given up")
		}
	})
}

// What a feed holds while Redis does not answer is bounded by the
// defaults: Queue chunks waiting, the batch being sent and the chunk
// filling, about 1.5 MiB here at 64 KiB chunks. At 256 KiB it was 4.8 MiB
// (6 MiB with a full batch), on the Go heap, which the collector's
// headroom doubles: the largest part of what each further concurrent
// export added to a worker (issue 12). Not parallel, so that the heap it
// measures is its own.
func TestStalledFeedHoldsLittle(t *testing.T) {
	opt, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t)
	if opt.Addr, err = px.to(opt.Addr); err != nil {
		t.Fatal(err)
	}
	rdb := client(t, opt)
	p := &live.Publisher{Redis: rdb, Stall: 50 * time.Millisecond} // the default sizes
	wantLive(t, rdb, "held")
	data := randomBytes(16 << 20)
	f := p.Start(t.Context(), "held", 1)
	before := heapAfterGC()
	px.pause()
	writeOdd(f, data) // the feed breaks once it has waited Stall
	held := int64(heapAfterGC()) - int64(before)
	runtime.KeepAlive(data) // counted in both
	px.resume()
	f.Close(t.Context())
	if held > 2<<20 {
		t.Fatalf("a feed held %.1f MiB while Redis did not answer; want at most 2", float64(held)/(1<<20))
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// The stream keeps MaxLen entries: a reader that starts late sees the gap
// (the first data entry it gets is past offset 0).
func TestMaxLen(t *testing.T) {
	backends(t, func(t *testing.T, rdb redis.UniversalClient, _ *proxy) {
		p := &live.Publisher{Redis: rdb, ChunkSize: 1 << 10, MaxLen: 10, Queue: 200}
		wantLive(t, rdb, "exp4")
		f := p.Start(t.Context(), "exp4", 1)
		writeOdd(f, randomBytes(100<<10))
		f.Close(t.Context())
		if n, err := rdb.XLen(t.Context(), live.Key("exp4")).Result(); err != nil || n > 10 {
			t.Fatalf("XLEN = %d, %v; want at most 10", n, err)
		}
		es, err := (&live.Reader{Redis: rdb, Count: 100}).Next(t.Context(), "exp4", "0", time.Second)
		if err != nil || len(es) == 0 || es[0].Kind != live.KindData || es[0].Offset == 0 {
			t.Fatalf("late reader got %d entries, first %+v, %v; want data past offset 0", len(es), es, err)
		}
	})
}

// proxy forwards TCP to Redis servers and can stop forwarding, to make
// Redis look slow. It listens on one address for each server (to).
type proxy struct {
	mu     sync.Mutex
	paused bool
	cond   *sync.Cond
	fwd    map[string]string // server address → proxy address
	lns    []net.Listener
}

func newProxy(t *testing.T) *proxy {
	px := &proxy{fwd: map[string]string{}}
	px.cond = sync.NewCond(&px.mu)
	t.Cleanup(func() {
		px.mu.Lock()
		for _, ln := range px.lns {
			ln.Close()
		}
		px.mu.Unlock()
		px.resume()
	})
	return px
}

// to returns the address that forwards to target, listening on it first
// if nothing asked for target yet.
func (px *proxy) to(target string) (string, error) {
	px.mu.Lock()
	defer px.mu.Unlock()
	if a, ok := px.fwd[target]; ok {
		return a, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	px.lns = append(px.lns, ln)
	px.fwd[target] = ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go px.pipe(s, c)
			go px.pipe(c, s)
		}
	}()
	return ln.Addr().String(), nil
}

func (px *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		px.mu.Lock()
		for px.paused {
			px.cond.Wait()
		}
		px.mu.Unlock()
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (px *proxy) pause() { px.mu.Lock(); px.paused = true; px.mu.Unlock() }
func (px *proxy) resume() {
	px.mu.Lock()
	px.paused = false
	px.cond.Broadcast()
	px.mu.Unlock()
}

// textBytes is n bytes of CSV-like text, as compressible as an export.
func textBytes(n int) []byte {
	rng := rand.New(rand.NewPCG(11, uint64(n)))
	kinds := []string{"user.login", "user.logout", "invoice.paid", "role.granted", "export.created"}
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, "%08x-%04x,2026-12-%02dT%02d:%02d:%02dZ,%s,web,user-%d,\"did a thing to %d\"\n",
			rng.Uint32(), rng.IntN(1<<16), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60),
			kinds[rng.IntN(len(kinds))], rng.IntN(500), rng.IntN(100000))
	}
	return b.Bytes()[:n]
}

// A compressing publisher sends text through Redis as S2 blocks and
// incompressible chunks as they are, and the reader gets every byte back
// at its offset either way; by default a publisher sends every chunk as
// it is.
func TestCompressedChunks(t *testing.T) {
	backends(t, func(t *testing.T, rdb redis.UniversalClient, _ *proxy) {
		text := textBytes(1<<20 + 999)
		want := append(append(append([]byte{}, text[:600<<10]...), randomBytes(200<<10)...), text[600<<10:]...)
		for _, uncompressed := range []bool{false, true} {
			id := fmt.Sprintf("z-%v", uncompressed)
			p := &live.Publisher{Redis: rdb, ChunkSize: 64 << 10, Queue: 64, Compress: !uncompressed}
			wantLive(t, rdb, id)
			f := p.Start(t.Context(), id, 1)
			writeOdd(f, want)
			f.Close(t.Context())
			p.End(t.Context(), id)

			var got bytes.Buffer
			var wire, compressed, plain int
			for _, e := range readAll(t, &live.Reader{Redis: rdb}, id) {
				if e.Kind != live.KindData {
					continue
				}
				if e.Offset != int64(got.Len()) {
					t.Fatalf("data at offset %d after %d bytes", e.Offset, got.Len())
				}
				b := entryBytes(t, e)
				if len(b) != e.Len() {
					t.Fatalf("entry at %d: Len %d, %d bytes", e.Offset, e.Len(), len(b))
				}
				got.Write(b)
				wire += len(e.Data)
				if e.Compressed {
					compressed++
				} else {
					plain++
				}
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("uncompressed=%v: read %d bytes back, not the %d written (or not the same bytes)", uncompressed, got.Len(), len(want))
			}
			switch {
			case uncompressed && (compressed > 0 || wire != len(want)):
				t.Fatalf("uncompressed publisher: %d compressed entries, %d bytes in Redis for %d", compressed, wire, len(want))
			case !uncompressed && (compressed < 10 || plain < 2 || wire > len(want)*2/3):
				t.Fatalf("%d compressed and %d plain entries, %d bytes in Redis for %d; want the text compressed, the random bytes not",
					compressed, plain, wire, len(want))
			}
		}
	})
}

// An S2 entry whose header is not a block's, or claims more bytes than
// any chunk (which a reader would allocate), is malformed, as any entry
// of an unknown form: the reader reports it, and a follower goes to
// storage.
func TestMalformedBlock(t *testing.T) {
	backends(t, func(t *testing.T, rdb redis.UniversalClient, _ *proxy) {
		for name, block := range map[string]string{
			"not-a-header": "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
			"1GiB":         "\x80\x80\x80\x80\x04abc",
		} {
			err := rdb.XAdd(t.Context(), &redis.XAddArgs{Stream: live.Key(name),
				Values: []any{"k", "z", "o", "0", "b", block}}).Err()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := (&live.Reader{Redis: rdb}).Next(t.Context(), name, "0", time.Second); !errors.Is(err, live.ErrBadEntry) {
				t.Fatalf("%s: Next: %v, want ErrBadEntry", name, err)
			}
		}
	})
}
