package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ReadSeeker presents a stored object as an io.ReadSeeker for
// http.ServeContent without fetching anything up front: Seek only records
// the offset, and Read opens a ranged read from there when it needs one.
//
// ServeContent cannot report a failed read: it stops writing and returns,
// which to the client looks like a complete, shorter body. Err tells the
// handler that storage failed so it can abort the connection instead.
type ReadSeeker struct {
	ctx  context.Context
	r    Reader
	key  string
	size int64

	// mu guards the rest: ServeContent reads from a goroutine for
	// multi-range responses, and that goroutine may outlive ServeContent
	// when the client goes away.
	mu   sync.Mutex
	off  int64
	body io.ReadCloser
	err  error
}

// NewReadSeeker returns a ReadSeeker over the object key, which has size
// bytes (from Stat).
func NewReadSeeker(ctx context.Context, r Reader, key string, size int64) *ReadSeeker {
	return &ReadSeeker{ctx: ctx, r: r, key: key, size: size}
}

// Read reads from the current offset, opening the object there if needed.
func (s *ReadSeeker) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	if s.off >= s.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if s.body == nil {
		body, err := s.r.GetRange(s.ctx, s.key, s.off, s.size-s.off)
		if err != nil {
			s.err = fmt.Errorf("objstore: read %s at %d: %w", s.key, s.off, err)
			return 0, s.err
		}
		s.body = body
	}
	n, err := s.body.Read(p)
	s.off += int64(n)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) && s.off >= s.size:
		_ = s.closeBody() // every byte arrived; a failed close loses nothing
		// The bytes read are good; the next Read reports EOF.
		err = nil
		if n == 0 {
			err = io.EOF
		}
	case errors.Is(err, io.EOF):
		s.err = fmt.Errorf("objstore: read %s: body ended at %d of %d bytes: %w", s.key, s.off, s.size, io.ErrUnexpectedEOF)
		err = s.err
	default:
		s.err = fmt.Errorf("objstore: read %s at %d: %w", s.key, s.off, err)
		err = s.err
	}
	return n, err
}

// Seek records the new offset; the next Read opens the object there.
func (s *ReadSeeker) Seek(offset int64, whence int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = s.off + offset
	case io.SeekEnd:
		abs = s.size + offset
	default:
		return 0, fmt.Errorf("objstore: seek %s: invalid whence %d", s.key, whence)
	}
	if abs < 0 {
		return 0, fmt.Errorf("objstore: seek %s: negative offset %d", s.key, abs)
	}
	if abs != s.off {
		_ = s.closeBody() // abandoning this body for one at the new offset
		s.off = abs
	}
	return abs, nil
}

// Err returns the first storage error a Read met, or nil.
func (s *ReadSeeker) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close closes the open body, if any. The ReadSeeker stays usable: a later
// Read opens the object again.
func (s *ReadSeeker) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeBody()
}

func (s *ReadSeeker) closeBody() error {
	if s.body == nil {
		return nil
	}
	err := s.body.Close()
	s.body = nil
	return err
}
