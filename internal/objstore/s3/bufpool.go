package s3

import (
	"context"
	"sync"
	"sync/atomic"
)

// DefaultMaxBufferedParts bounds the part buffers all uploads of one Bucket
// hold together: 6 × 5 MiB = 30 MiB by default. One upload still has its two (one
// fills while the other travels); three or more share the six. Before, each
// upload allocated its own, so a worker running eight exports held 128 MiB
// of 8 MiB part buffers, and as much again of garbage between collections: the
// memory a worker needs grew by a quarter of a hundred MiB per concurrent
// export (issue 12). An export whose upload waits for a buffer waits on the
// pipe from its renderer, and so on its database stream: nothing is lost,
// the exports share the bandwidth the buffers allow.
const DefaultMaxBufferedParts = 6

// partPool holds up to max part buffers, allocated on first use and reused
// by every upload after, so that they are never garbage. A buffer is only
// allocated when every one allocated so far is in use: a worker running
// one export at a time has the two its upload uses, not max. (The pool was
// a FIFO channel of max slots, nil until first used; taking the oldest
// slot each time cycled through all of them, so one export after another
// allocated all six: 30 MiB live in a worker that needed 10, which the
// garbage collector's headroom doubled.)
type partPool struct {
	size      int64
	tokens    chan struct{} // one per buffer out of the pool: at most max
	mu        sync.Mutex
	free      [][]byte     // allocated and not in use; the last returned is reused first
	allocated atomic.Int64 // buffers made so far, for tests
}

func newPartPool(size int64, max int) *partPool {
	return &partPool{size: size, tokens: make(chan struct{}, max)}
}

// get waits for a buffer, or for ctx to end.
func (p *partPool) get(ctx context.Context) ([]byte, error) {
	select {
	case p.tokens <- struct{}{}:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		buf := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		return buf, nil
	}
	p.allocated.Add(1)
	return newPartBuffer(p.size), nil
}

// put gives buf back; every buffer get returned must come back once.
func (p *partPool) put(buf []byte) {
	p.mu.Lock()
	p.free = append(p.free, buf)
	p.mu.Unlock()
	<-p.tokens
}

// idle is how many buffers are allocated and back in the pool, for tests.
func (p *partPool) idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free)
}
