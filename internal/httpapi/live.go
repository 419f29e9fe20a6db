package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"time"
	"unsafe"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/live"
	"github.com/auditsentinel/sentinel/internal/objstore"
	"github.com/labstack/echo/v4"
)

// LiveReader reads the stream a worker publishes while it renders an
// export (package live).
type LiveReader interface {
	// Want says this request waits for the export's bytes, so that the
	// worker that starts it publishes them.
	Want(ctx context.Context, exportID string) error
	Next(ctx context.Context, exportID, after string, block time.Duration) ([]live.Entry, error)
}

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
	liveRecord = time.Second            // how often a live response re-reads the record when nothing comes
)

// liveTrailers are sent after a live body: its size was not known when it
// started.
var liveTrailers = []string{"X-Checksum-SHA256", "Repr-Digest", "X-Export-Rows"}

// liveWait is what waitLive found.
type liveWait struct {
	export  audit.Export
	pending []live.Entry // entries to stream first, from the first data entry on
	after   string       // the last entry read
}

// waitLive waits up to d for export e to be done, like export.Service.Wait,
// but woken by the export's live stream instead of polling, and it returns
// early with pending entries when the export is big enough to be streamed
// as it renders (see liveGrace). It reports ok=false when the stream cannot
// be read: the caller then waits the ordinary way.
func (s *Server) waitLive(ctx context.Context, tenant string, e audit.Export, d time.Duration, stream bool) (w liveWait, ok bool) {
	deadline := time.Now().Add(d)
	w.export, w.after = e, "0"
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
		es, err := s.cfg.Live.Next(ctx, e.ID, w.after, block)
		if err != nil {
			if ctx.Err() == nil {
				s.logger.WarnContext(ctx, "live: read stream; waiting without it", "export_id", e.ID, "err", err)
			}
			return w, false
		}
		done := false
		for _, en := range es {
			w.after = en.ID
			switch en.Kind {
			case live.KindEnd:
				done = true
			case live.KindStart:
				// A new attempt sends its bytes from 0 again.
				w.pending, held, graceEnd = nil, 0, time.Time{}
			case live.KindData:
				if stream && en.Offset == 0 && len(w.pending) == 0 {
					graceEnd = time.Now().Add(liveGrace)
				}
				if !graceEnd.IsZero() {
					w.pending = append(w.pending, en)
					held += len(en.Data)
				}
			case live.KindBroken:
				w.pending, held, graceEnd = nil, 0, time.Time{} // not worth streaming
			}
		}
		// The record is re-read when the stream says the export is done or
		// is quiet; not while bytes flow during the grace, which the end
		// entry (after the last byte) or liveHold or liveGrace decides.
		if done || len(es) == 0 || graceEnd.IsZero() && time.Since(lastRecord) >= liveBlock {
			lastRecord = time.Now()
			cur, err := s.cfg.Store.GetExport(ctx, tenant, e.ID)
			if err != nil {
				return w, true // the caller answers with what it has
			}
			w.export = cur
			if cur.Status.Done() {
				w.pending = nil
				return w, true
			}
		}
		if held >= liveHold {
			return w, true
		}
	}
}

// serveLive answers with export e's bytes as its worker publishes them,
// starting with pending. The body is chunked; its SHA-256, size and rows
// come as trailers once the export is stored and the bytes sent are checked
// against the stored file's digest. What the stream misses (the reader fell
// behind, the publisher gave up, the worker died) is read from storage once
// the export completes. If the export fails, or the bytes sent do not match
// the file stored, the connection is aborted: a partial or wrong body never
// ends like a complete one.
func (s *Server) serveLive(c echo.Context, w liveWait) error {
	ctx := c.Request().Context()
	e := w.export
	resp := c.Response()
	h := resp.Header()
	h.Set(echo.HeaderContentType, contentTypeOf(e))
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, Filename(e)))
	h.Set("X-Export-Id", e.ID)
	h.Set("Cache-Control", "private, no-transform")
	setAsOfHeaders(h, e)
	for _, t := range liveTrailers {
		h.Add("Trailer", t)
	}
	_ = http.NewResponseController(resp.Writer).SetWriteDeadline(time.Time{})
	resp.WriteHeader(http.StatusOK)
	resp.Flush()

	st := &liveSend{w: resp, sum: sha256.New()}
	abort := func(msg string, args ...any) error {
		s.logger.ErrorContext(ctx, "live download aborted: "+msg, append([]any{"export_id", e.ID,
			"request_id", h.Get(echo.HeaderXRequestID), "bytes_sent", st.sent}, args...)...)
		panic(http.ErrAbortHandler)
	}

	pending, after := w.pending, w.after
	streaming := true
	lastRecord := time.Now()
	for {
		if streaming {
			var err error
			if streaming, err = st.apply(pending); err != nil {
				return nil // the client went away
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if streaming {
			es, err := s.cfg.Live.Next(ctx, e.ID, after, liveBlock)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.logger.WarnContext(ctx, "live: read stream; finishing from storage", "export_id", e.ID, "err", err)
				streaming = false
			}
			pending = es
			if len(es) > 0 {
				after = es[len(es)-1].ID
			}
			end := false
			for _, en := range es {
				end = end || en.Kind == live.KindEnd
			}
			if !end && time.Since(lastRecord) < liveRecord {
				continue
			}
		} else {
			pending = nil
			// Not streaming any more: wait for the record, woken by the
			// end entry when the stream still works.
			es, err := s.cfg.Live.Next(ctx, e.ID, after, liveRecord)
			end := false
			if err != nil && ctx.Err() == nil {
				select {
				case <-ctx.Done():
				case <-time.After(liveRecord):
				}
			}
			for _, en := range es {
				after = en.ID
				end = end || en.Kind == live.KindEnd
			}
			if ctx.Err() != nil {
				return nil
			}
			if !end && time.Since(lastRecord) < liveRecord {
				continue
			}
		}
		lastRecord = time.Now()
		cur, err := s.cfg.Store.GetExport(context.WithoutCancel(ctx), e.TenantID, e.ID)
		if err != nil {
			return abort("re-read the export", "err", err)
		}
		if !cur.Status.Done() {
			continue
		}
		if streaming {
			// Send what was read with the end entry before finishing.
			if _, err := st.apply(pending); err != nil {
				return nil
			}
		}
		return s.finishLive(c, cur, st, abort)
	}
}

// finishLive completes a live body for the done export e: the bytes not
// streamed from storage, then the check, then the trailers.
func (s *Server) finishLive(c echo.Context, e audit.Export, st *liveSend, abort func(string, ...any) error) error {
	ctx := c.Request().Context()
	if e.Status != audit.StatusCompleted {
		return abort("the export did not complete", "status", e.Status, "error_code", e.ErrorCode)
	}
	if st.sent > e.SizeBytes {
		return abort("sent more bytes than the stored file holds", "size", e.SizeBytes)
	}
	if st.sent < e.SizeBytes {
		// The stream missed bytes (see serveLive); worth knowing when it
		// happens often: the client then waits for the file to be stored.
		s.logger.InfoContext(ctx, "live download finishes from storage", "export_id", e.ID,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "bytes_live", st.sent, "bytes_stored", e.SizeBytes)
		rs := objstore.NewReadSeeker(ctx, s.cfg.Files, e.ObjectKey, e.SizeBytes)
		defer rs.Close()
		if _, err := rs.Seek(st.sent, io.SeekStart); err != nil {
			return abort("seek the stored file", "err", err)
		}
		buf := make([]byte, 256<<10)
		for st.sent < e.SizeBytes {
			n, err := rs.Read(buf)
			if n > 0 {
				if werr := st.write(string(buf[:n])); werr != nil {
					return nil
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return abort("read the stored file", "err", err)
			}
		}
	}
	sum := hex.EncodeToString(st.sum.Sum(nil))
	if st.sent != e.SizeBytes || sum != e.SHA256 {
		return abort("the bytes sent differ from the stored file", "size", e.SizeBytes, "sha256", e.SHA256, "sent_sha256", sum)
	}
	h := c.Response().Header()
	h.Set("X-Checksum-SHA256", e.SHA256)
	if raw, err := hex.DecodeString(e.SHA256); err == nil {
		h.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(raw)+":")
	}
	h.Set("X-Export-Rows", strconv.FormatInt(e.RowsWritten, 10))
	return nil
}

// liveSend writes a live body and hashes what it sent.
type liveSend struct {
	w    *echo.Response
	sum  hash.Hash
	sent int64
}

// apply sends what entries hold past the bytes sent so far. It reports
// false when the stream cannot go on: it missed bytes (an entry starts past
// what was sent: trimmed before it was read) or its publisher gave up; the
// rest then comes from storage.
func (l *liveSend) apply(entries []live.Entry) (streaming bool, err error) {
	for _, en := range entries {
		switch en.Kind {
		case live.KindData:
			if en.Offset > l.sent {
				return false, nil
			}
			// A retried attempt starts again at 0: skip what was sent.
			if skip := l.sent - en.Offset; skip < int64(len(en.Data)) {
				if err := l.write(en.Data[skip:]); err != nil {
					return false, err
				}
			}
		case live.KindBroken:
			if en.Offset <= l.sent {
				return false, nil
			}
		}
	}
	return true, nil
}

func (l *liveSend) write(s string) error {
	// The writer and the hash only read the bytes: lend them the string's
	// instead of copying every chunk of a large file twice (neither
	// implements io.StringWriter, so io.WriteString would copy).
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	n, err := l.w.Write(b)
	l.sum.Write(b[:n])
	l.sent += int64(n)
	return err
}
