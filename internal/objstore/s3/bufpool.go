package s3

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/auditsentinel/sentinel/internal/offheap"
)

// DefaultMaxBufferedParts bounds the part buffers all uploads of one Bucket
// hold together: 6 × 5 MiB = 30 MiB by default. Before, each upload
// allocated its own, so a worker running eight exports held 128 MiB of
// 8 MiB part buffers, and as much again of garbage between collections: the
// memory a worker needs grew by a quarter of a hundred MiB per concurrent
// export (issue 12). An export whose upload waits for a buffer waits on the
// pipe from its renderer, and so on its database stream: nothing is lost,
// the exports share the bandwidth the buffers allow.
const DefaultMaxBufferedParts = 6

// partPool holds the part buffers of every upload of a Bucket, allocated on
// first use and reused by every upload after, so that they are never
// garbage.
//
// How many may be out at once grows with the uploads running: one for each
// and one more, up to max. Each upload needs one to fill; the one more lets
// an upload fill its next part while its last travels, which is what keeps
// a single upload busy (it has its two). Two uploads have three, not four:
// filling a part takes an export far longer than sending it, so a second
// spare buffer bought them nothing but 5 MiB of RSS, the largest single
// step in what each further concurrent export added to a worker (issue 12).
//
// An upload holding no buffer is served before one that wants another, so
// every upload gets its first even when more run than there are buffers,
// and none can wait on another: what an upload holds is being filled from
// its own reader or sent, and comes back.
//
// A buffer is only allocated when every one allocated so far is in use: a
// worker running one export at a time has the two its upload uses, not
// max. (The pool was a FIFO channel of max slots, nil until first used;
// taking the oldest slot each time cycled through all of them, so one
// export after another allocated all six: 30 MiB live in a worker that
// needed 10, which the garbage collector's headroom doubled.)
type partPool struct {
	size int64
	max  int

	mu        sync.Mutex
	uploads   int          // uploads joined and not yet left
	out       int          // buffers handed out
	free      [][]byte     // allocated and not in use; the last returned is reused first
	waiting   []*partWait  // in the order they asked
	peak      int          // the most buffers out at once, for tests
	allocated atomic.Int64 // buffers made so far, for tests
}

// partWait is an upload waiting for a buffer; ready gets it.
type partWait struct {
	u     *uploadParts
	ready chan []byte
}

// uploadParts is one upload's use of a partPool.
type uploadParts struct {
	p    *partPool
	held int // guarded by p.mu
}

func newPartPool(size int64, max int) *partPool {
	return &partPool{size: size, max: max}
}

// join registers an upload, which may then take buffers; it must leave
// once it has given them all back.
func (p *partPool) join() *uploadParts {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.uploads++
	p.grant() // the limit grew
	return &uploadParts{p: p}
}

// leave ends u's use of the pool.
func (u *uploadParts) leave() {
	u.p.mu.Lock()
	u.p.uploads--
	u.p.mu.Unlock()
}

// limit is how many buffers may be out: one for each upload and one more,
// within max.
func (p *partPool) limit() int { return min(p.max, p.uploads+1) }

// grant hands buffers to waiting uploads while the limit allows: first to
// those that hold none, in the order they asked, then to the others.
// p.mu is held.
func (p *partPool) grant() {
	for p.out < p.limit() && len(p.waiting) > 0 {
		i := max(0, slices.IndexFunc(p.waiting, func(w *partWait) bool { return w.u.held == 0 }))
		w := p.waiting[i]
		p.waiting = slices.Delete(p.waiting, i, i+1)
		w.ready <- p.take(w.u)
	}
}

// take hands out a buffer to u. p.mu is held.
func (p *partPool) take(u *uploadParts) []byte {
	p.out++
	p.peak = max(p.peak, p.out)
	u.held++
	if n := len(p.free); n > 0 {
		buf := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		return buf
	}
	p.allocated.Add(1)
	return offheap.Alloc(int(p.size)) // always live: see package offheap
}

// get waits for a buffer, or for ctx to end. A buffer that is free at once
// is taken even when ctx has ended.
func (u *uploadParts) get(ctx context.Context) ([]byte, error) {
	p := u.p
	w := &partWait{u: u, ready: make(chan []byte, 1)}
	p.mu.Lock()
	p.waiting = append(p.waiting, w)
	p.grant()
	p.mu.Unlock()
	select {
	case buf := <-w.ready:
		return buf, nil
	default:
	}
	select {
	case buf := <-w.ready:
		return buf, nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	if i := slices.Index(p.waiting, w); i >= 0 {
		p.waiting = slices.Delete(p.waiting, i, i+1)
		p.mu.Unlock()
		return nil, context.Cause(ctx)
	}
	p.mu.Unlock()
	u.put(<-w.ready) // granted meanwhile
	return nil, context.Cause(ctx)
}

// put gives buf back; every buffer get returned must come back once.
func (u *uploadParts) put(buf []byte) {
	p := u.p
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, buf)
	p.out--
	u.held--
	p.grant()
}

// idle is how many buffers are allocated and back in the pool, for tests.
func (p *partPool) idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free)
}
