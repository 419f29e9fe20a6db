package live

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/objstore"
)

// Source is what a Follower reads streams with (*Reader).
type Source interface {
	// Want says this request waits for the export's bytes, so that the
	// worker that starts it publishes them.
	Want(ctx context.Context, exportID string) error
	Next(ctx context.Context, exportID, after string, block time.Duration) ([]Entry, error)
}

var _ Source = (*Reader)(nil)

// Records re-reads an export's record: the truth a stream only relays.
type Records interface {
	GetExport(ctx context.Context, tenantID, id string) (audit.Export, error)
}

// Follower follows an export's stream on the API side: it waits for the
// export, woken by its stream, and copies a still-rendering export's bytes
// to a client as they are published, finishing from storage what the
// stream missed.
type Follower struct {
	Source  Source
	Records Records
	Files   objstore.Reader
	Logger  *slog.Logger
	// Metrics counts live responses; nil: none.
	Metrics *Metrics
}

// ErrAborted is returned by Follower.Copy when the body it wrote must not
// end like a complete one: the export failed, or the bytes sent differ from
// the stored file, or storage failed.
var ErrAborted = errors.New("live: copy aborted")

// Live streaming policy. An export still rendering when its first bytes
// are published is answered as it renders, unless it finishes within
// liveGrace or its first liveHold bytes: a small export then gets the
// ordinary response (Content-Length, ETag, Range), a large one its first
// byte without waiting for the whole file to be stored (it reaches
// liveHold in tens of milliseconds; liveGrace only bounds a slow trickle).
const (
	liveGrace  = time.Second
	liveHold   = 4 << 20
	liveBlock  = 250 * time.Millisecond // longest wait on Redis before the record is re-read
	liveRecord = time.Second            // how often a live copy re-reads the record when nothing comes
)

// Waited is what Follower.Wait found.
type Waited struct {
	Export  audit.Export
	Pending []Entry // entries to stream first, from the first data entry on
	After   string  // the last entry read
}

// Streamable reports whether the export is to be answered as it renders.
func (w Waited) Streamable() bool { return len(w.Pending) > 0 && !w.Export.Status.Done() }

// Wait waits up to d for export e to be done, like export.Service.Wait,
// but woken by the export's live stream instead of polling, and it returns
// early with pending entries when the export is big enough to be streamed
// as it renders (see liveGrace). It reports ok=false when the stream cannot
// be read: the caller then waits the ordinary way.
func (s *Follower) Wait(ctx context.Context, tenant string, e audit.Export, d time.Duration, stream bool) (w Waited, ok bool) {
	deadline := time.Now().Add(d)
	w.Export, w.After = e, "0"
	var held int
	var graceEnd time.Time
	lastRecord := time.Now()
	for {
		left := time.Until(deadline)
		if left <= 0 || ctx.Err() != nil {
			return w, true
		}
		block := min(left, liveBlock)
		if !graceEnd.IsZero() {
			if block = min(block, time.Until(graceEnd)); block <= 0 {
				return w, true // grace over: stream it
			}
		}
		es, err := s.Source.Next(ctx, e.ID, w.After, block)
		if err != nil {
			if ctx.Err() == nil {
				s.logger().WarnContext(ctx, "live: read stream; waiting without it", "export_id", e.ID, "err", err)
			}
			return w, false
		}
		done := false
		for _, en := range es {
			w.After = en.ID
			switch en.Kind {
			case KindEnd:
				done = true
			case KindStart:
				// A new attempt sends its bytes from 0 again.
				w.Pending, held, graceEnd = nil, 0, time.Time{}
			case KindData:
				if stream && en.Offset == 0 && len(w.Pending) == 0 {
					graceEnd = time.Now().Add(liveGrace)
				}
				if !graceEnd.IsZero() {
					w.Pending = append(w.Pending, en)
					held += en.Len()
				}
			case KindBroken:
				w.Pending, held, graceEnd = nil, 0, time.Time{} // not worth streaming
			}
		}
		// The record is re-read when the stream says the export is done or
		// is quiet; not while bytes flow during the grace, which the end
		// entry (after the last byte) or liveHold or liveGrace decides.
		if done || len(es) == 0 || graceEnd.IsZero() && time.Since(lastRecord) >= liveBlock {
			lastRecord = time.Now()
			cur, err := s.Records.GetExport(ctx, tenant, e.ID)
			if err != nil {
				return w, true // the caller answers with what it has
			}
			w.Export = cur
			if cur.Status.Done() {
				w.Pending = nil
				return w, true
			}
		}
		if held >= liveHold {
			return w, true
		}
	}
}

// Copy writes export w.Export's bytes to out as its worker publishes them,
// starting with w.Pending. What the stream misses (the reader fell behind,
// the publisher gave up, the worker died) is read from storage once the
// export completes, and the bytes written are checked against the stored
// file's digest. It returns the completed record (its SHA-256, size and
// rows are what the body was checked against), ctx's error when the
// client went away or out failed, or an error wrapping ErrAborted when the
// body must not end like a complete one: the export failed, or what was
// sent differs from the file stored.
func (s *Follower) Copy(ctx context.Context, out io.Writer, w Waited) (_ audit.Export, err error) {
	e := w.Export
	st := &liveSend{w: out, sum: sha256.New(), log: s.logger().With("export_id", e.ID)}
	end := s.Metrics.copyStarted()
	defer func() { end(err, st.fromStorage) }()
	abort := func(msg string, args ...any) error {
		return fmt.Errorf("%w: export %s: %s (bytes sent %d) %v", ErrAborted, e.ID, msg, st.sent, args)
	}
	gone := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return context.Canceled
	}

	pending, after := w.Pending, w.After
	streaming := true
	lastRecord := time.Now()
	for {
		if streaming {
			var err error
			if streaming, err = st.apply(ctx, pending); err != nil {
				return e, gone() // the client went away
			}
		}
		if ctx.Err() != nil {
			return e, ctx.Err()
		}
		if streaming {
			es, err := s.Source.Next(ctx, e.ID, after, liveBlock)
			if err != nil {
				if ctx.Err() != nil {
					return e, ctx.Err()
				}
				s.logger().WarnContext(ctx, "live: read stream; finishing from storage", "export_id", e.ID, "err", err)
				streaming = false
			}
			pending = es
			if len(es) > 0 {
				after = es[len(es)-1].ID
			}
			end := false
			for _, en := range es {
				end = end || en.Kind == KindEnd
			}
			if !end && time.Since(lastRecord) < liveRecord {
				continue
			}
		} else {
			pending = nil
			// Not streaming any more: wait for the record, woken by the
			// end entry when the stream still works.
			es, err := s.Source.Next(ctx, e.ID, after, liveRecord)
			end := false
			if err != nil && ctx.Err() == nil {
				select {
				case <-ctx.Done():
				case <-time.After(liveRecord):
				}
			}
			for _, en := range es {
				after = en.ID
				end = end || en.Kind == KindEnd
			}
			if ctx.Err() != nil {
				return e, ctx.Err()
			}
			if !end && time.Since(lastRecord) < liveRecord {
				continue
			}
		}
		lastRecord = time.Now()
		cur, err := s.Records.GetExport(context.WithoutCancel(ctx), e.TenantID, e.ID)
		if err != nil {
			return e, abort("re-read the export", "err", err)
		}
		if !cur.Status.Done() {
			continue
		}
		if streaming {
			// Send what was read with the end entry before finishing.
			if _, err := st.apply(ctx, pending); err != nil {
				return cur, gone()
			}
		}
		return cur, s.finish(ctx, cur, st, abort, gone)
	}
}

func (s *Follower) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// finish completes a copy for the done export e: the bytes not streamed
// from storage, then the check.
func (s *Follower) finish(ctx context.Context, e audit.Export, st *liveSend, abort func(string, ...any) error, gone func() error) error {
	if e.Status != audit.StatusCompleted {
		return abort("the export did not complete", "status", e.Status, "error_code", e.ErrorCode)
	}
	if st.sent > e.SizeBytes {
		return abort("sent more bytes than the stored file holds", "size", e.SizeBytes)
	}
	if st.sent < e.SizeBytes {
		// The stream missed bytes (see Copy); worth knowing when it
		// happens often: the client then waits for the file to be stored.
		st.fromStorage = true
		s.logger().InfoContext(ctx, "live download finishes from storage", "export_id", e.ID,
			"bytes_live", st.sent, "bytes_stored", e.SizeBytes)
		rs := objstore.NewReadSeeker(ctx, s.Files, e.ObjectKey, e.SizeBytes)
		defer rs.Close()
		if _, err := rs.Seek(st.sent, io.SeekStart); err != nil {
			return abort("seek the stored file", "err", err)
		}
		buf := make([]byte, 256<<10)
		for st.sent < e.SizeBytes {
			n, err := rs.Read(buf)
			if n > 0 {
				if werr := st.write(buf[:n]); werr != nil {
					return gone()
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return abort("read the stored file", "err", err)
			}
		}
	}
	sum := hex.EncodeToString(st.sum.Sum(nil))
	if st.sent != e.SizeBytes || sum != e.SHA256 {
		return abort("the bytes sent differ from the stored file", "size", e.SizeBytes, "sha256", e.SHA256, "sent_sha256", sum)
	}
	return nil
}

// liveSend writes a live body and hashes what it sent.
type liveSend struct {
	w    io.Writer
	sum  hash.Hash
	sent int64
	// fromStorage: the stream missed bytes that came from the stored file.
	fromStorage bool
	// block is where compressed entries are decoded, one at a time.
	block []byte
	log   *slog.Logger // with the export's id
}

// apply sends what entries hold past the bytes sent so far. It reports
// false when the stream cannot go on: it missed bytes (an entry starts past
// what was sent: trimmed before it was read), its publisher gave up, or an
// entry cannot be decoded; the rest then comes from storage.
func (l *liveSend) apply(ctx context.Context, entries []Entry) (streaming bool, err error) {
	for _, en := range entries {
		switch en.Kind {
		case KindData:
			if en.Offset > l.sent {
				return false, nil
			}
			// A retried attempt starts again at 0: skip what was sent.
			if skip := l.sent - en.Offset; skip < int64(en.Len()) {
				b, ok := l.decode(ctx, en)
				if !ok {
					return false, nil
				}
				if err := l.write(b[skip:]); err != nil {
					return false, err
				}
			}
		case KindBroken:
			if en.Offset <= l.sent {
				return false, nil
			}
		}
	}
	return true, nil
}

// decode returns data entry en's bytes of the file, decoding a block into
// l.block; false (logged) for an entry that cannot be decoded.
func (l *liveSend) decode(ctx context.Context, en Entry) ([]byte, bool) {
	b, err := en.Bytes(l.block)
	if err != nil {
		l.log.WarnContext(ctx, "live: unreadable entry; finishing from storage", "err", err)
		return nil, false
	}
	if en.Compressed {
		l.block = b
	}
	return b, true
}

// write sends b, which it only reads: an uncompressed entry's bytes are
// lent straight from the string go-redis returned (Entry.Bytes), not a
// copy of every chunk of a large file.
func (l *liveSend) write(b []byte) error {
	n, err := l.w.Write(b)
	l.sum.Write(b[:n])
	l.sent += int64(n)
	return err
}
