package s3

import (
	"context"
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
// by every upload after, so that they are never garbage.
type partPool struct {
	size      int64
	free      chan []byte  // nil entries: not allocated yet
	allocated atomic.Int64 // buffers made so far, for tests
}

func newPartPool(size int64, max int) *partPool {
	p := &partPool{size: size, free: make(chan []byte, max)}
	for range max {
		p.free <- nil
	}
	return p
}

// get waits for a buffer, or for ctx to end.
func (p *partPool) get(ctx context.Context) ([]byte, error) {
	select {
	case buf := <-p.free:
		if buf == nil {
			buf = make([]byte, p.size)
			p.allocated.Add(1)
		}
		return buf, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// put gives buf back; every buffer get returned must come back once.
func (p *partPool) put(buf []byte) { p.free <- buf }
