package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// DecodeNDJSON reads an application/x-ndjson body, one event object per
// line (blank lines are skipped), and calls batch with the validated events
// in chunks of at most limits.ChunkEvents, each event with an id. Zero
// fields of limits take DefaultNDJSONLimits. It returns how many events
// were handed to batch.
//
// All or nothing is shared with the caller (see the package comment):
// batch is called only while every event so far is valid, and the caller
// must apply all chunks in one transaction, committing only when
// DecodeNDJSON returns nil. batch must not keep the slice.
//
// Errors are those of DecodeJSON, except that a malformed line is one more
// Problem of the batch (its reason names the line and column) rather than
// the end of decoding; an error from batch is returned as it is.
func DecodeNDJSON(r io.Reader, limits Limits, batch func([]audit.Event) error) (int, error) {
	l := limits.or(DefaultNDJSONLimits())
	cr := &countingReader{r: io.LimitReader(r, l.MaxBytes+1)}
	br := bufio.NewReaderSize(cr, 64<<10)
	v := newValidator(l)

	var (
		line   []byte
		lineNo int
		index  int
		handed int
		chunk  = make([]audit.Event, 0, l.ChunkEvents)
		flush  = func() error {
			if len(chunk) == 0 {
				return nil
			}
			if err := assignIDs(chunk); err != nil {
				return err
			}
			if err := batch(chunk); err != nil {
				return err
			}
			handed += len(chunk)
			chunk = make([]audit.Event, 0, l.ChunkEvents)
			return nil
		}
	)
	for {
		var err error
		line, err = readLine(br, line[:0], l.MaxLineBytes)
		if cr.n > l.MaxBytes {
			return handed, tooLarge(l.MaxBytes)
		}
		if errors.Is(err, errLineTooLong) {
			return handed, &audit.Error{Code: audit.ETOOLARGE, Param: "body",
				Message: fmt.Sprintf("line %d is longer than the %s limit of one event", lineNo+1, byteSize(int64(l.MaxLineBytes)))}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return handed, fmt.Errorf("ingest: read body: %w", err)
		}
		if len(line) > 0 || err == nil {
			lineNo++
		}
		if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
			if index == l.MaxEvents {
				return handed, tooManyEvents(l.MaxEvents)
			}
			if e, ok := v.line(index, lineNo, trimmed); ok && !v.p.any() {
				chunk = append(chunk, e)
				if len(chunk) == l.ChunkEvents {
					if err := flush(); err != nil {
						return handed, err
					}
				}
			}
			index++
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if index == 0 {
		return handed, audit.Invalid("events", "the batch holds no events")
	}
	if err := v.p.err(index); err != nil {
		return handed, err
	}
	if err := flush(); err != nil {
		return handed, err
	}
	return handed, nil
}

var errLineTooLong = errors.New("line too long")

// readLine appends the next line of br (without its end of line) to buf. It
// returns io.EOF with the last, unterminated line, and errLineTooLong as
// soon as the line exceeds max bytes, so that memory stays bounded.
func readLine(br *bufio.Reader, buf []byte, max int) ([]byte, error) {
	for {
		frag, err := br.ReadSlice('\n')
		if len(buf)+len(frag) > max+1 { // +1: the '\n' itself
			return buf, errLineTooLong
		}
		buf = append(buf, frag...)
		switch {
		case err == nil:
			return bytes.TrimSuffix(buf, []byte{'\n'}), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return buf, err
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func trimJSONPrefix(s string) string {
	const p = "json: "
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
