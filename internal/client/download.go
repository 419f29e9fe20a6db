package client

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/coding"
	"github.com/auditsentinel/sentinel/internal/httpapi"
)

// DownloadOptions tune Download.
type DownloadOptions struct {
	// Attempts bounds the requests one Download makes; an interrupted
	// transfer is resumed by the next (default 5).
	Attempts int
	// RetryDelay is the pause before a resumed attempt (default 1s).
	RetryDelay time.Duration
	// Progress, when set, is called as bytes arrive with the bytes on
	// disk and the file's size.
	Progress func(done, total int64)
}

// DownloadResult describes a file Download completed.
type DownloadResult struct {
	Path    string `json:"path"`
	Bytes   int64  `json:"bytes"`
	SHA256  string `json:"sha256"`
	Resumed bool   `json:"resumed"` // some bytes came from an earlier, interrupted transfer
}

// PartSuffix is appended to the target path while a download is under way.
const PartSuffix = ".part"

// Download fetches the file of the completed export st to path.
//
// The whole file is asked for in zstd or gzip (AcceptEncoding) and
// decoded as it arrives: path always holds the stored file's bytes.
// Bytes go to path+".part". An interrupted transfer — in this call, or in
// an earlier run that left the .part behind — resumes from the part's
// size with Range, guarded by If-Range on the export's ETag (its SHA-256):
// if the part belongs to another file the server sends the whole file and
// the part is rewritten. Once complete, the part's size and SHA-256 are
// checked against the export's status and the server's X-Checksum-SHA256 /
// Repr-Digest headers, and only then is it renamed to path. A file that
// does not match is deleted and ErrChecksum returned.
func (c *Client) Download(ctx context.Context, st httpapi.ExportStatus, path string, o DownloadOptions) (DownloadResult, error) {
	res := DownloadResult{Path: path}
	if st.Status != "completed" || st.SizeBytes == nil || st.SHA256 == "" {
		return res, fmt.Errorf("export %s is %s; only a completed export has a file", st.ID, st.Status)
	}
	size, want := *st.SizeBytes, strings.ToLower(st.SHA256)
	attempts := o.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	delay := o.RetryDelay
	if delay <= 0 {
		delay = time.Second
	}
	part := path + PartSuffix
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return res, fmt.Errorf("download: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		res.Resumed = true
	}

	var lastErr error
	for attempt := 1; ; attempt++ {
		err := c.fetch(ctx, st, f, size, want, o.Progress)
		if err == nil {
			break
		}
		lastErr = err
		var apiErr *Error
		switch {
		case ctx.Err() != nil:
			return res, fmt.Errorf("download of export %s interrupted; run again to resume from %s: %w", st.ID, part, ctx.Err())
		case errors.As(err, &apiErr) && !apiErr.Temporary():
			return res, err
		case errors.Is(err, ErrChecksum):
			return res, err
		case attempt >= attempts:
			return res, fmt.Errorf("download of export %s failed after %d attempts; run again to resume from %s: %w",
				st.ID, attempts, part, lastErr)
		}
		res.Resumed = true
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, fmt.Errorf("download of export %s interrupted; run again to resume from %s: %w", st.ID, part, ctx.Err())
		case <-t.C:
		}
	}

	// Verify what is on disk, not what went through the pipe: a resumed
	// file is only as good as the bytes kept from before.
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return res, fmt.Errorf("download: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return res, fmt.Errorf("download: verify %s: %w", part, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if n != size || got != want {
		f.Close()
		os.Remove(part)
		return res, fmt.Errorf("%w: export %s: got %d bytes with SHA-256 %s, the server states %d bytes with %s; the file was deleted",
			ErrChecksum, st.ID, n, got, size, want)
	}
	if err := f.Sync(); err != nil {
		return res, fmt.Errorf("download: %w", err)
	}
	if err := f.Close(); err != nil {
		return res, fmt.Errorf("download: %w", err)
	}
	if err := os.Rename(part, path); err != nil {
		return res, fmt.Errorf("download: %w", err)
	}
	res.Bytes, res.SHA256 = n, got
	return res, nil
}

// fetch makes one request for the bytes f lacks and appends them.
func (c *Client) fetch(ctx context.Context, st httpapi.ExportStatus, f *os.File, size int64, want string, progress func(int64, int64)) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	off := fi.Size()
	if off > size {
		off = 0 // not a prefix of this file
	}
	if off == size && size > 0 {
		return nil
	}
	path := st.FileURL
	if path == "" {
		path = httpapi.Prefix + "/exports/" + url.PathEscape(st.ID) + "/file"
	}
	req, err := c.newRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "*/*")
	if off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
		req.Header.Set("If-Range", `"`+want+`"`)
	} else {
		// The whole file: coded when the server can (a CSV or NDJSON
		// file, about a quarter of the bytes), decoded here. A resumed
		// transfer asks for a Range, whose bytes are always the stored
		// ones; what was decoded before the interruption is the prefix
		// it resumes from.
		req.Header.Set("Accept-Encoding", AcceptEncoding)
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		off = 0
	case http.StatusPartialContent:
		start, err := contentRangeStart(resp.Header.Get("Content-Range"))
		if err != nil || start != off {
			return fmt.Errorf("download: asked for bytes from %d, got Content-Range %q", off, resp.Header.Get("Content-Range"))
		}
	case http.StatusRequestedRangeNotSatisfiable:
		// The part is not a prefix of this file: start over.
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("download: %w", err)
		}
		return errors.New("download: the partial file did not fit the export; starting over")
	default:
		return readError(resp)
	}
	if err := checkDigestHeaders(resp.Header, want); err != nil {
		return err
	}
	if err := f.Truncate(off); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	var w io.Writer = f
	if progress != nil {
		progress(off, size)
		w = &progressWriter{w: f, done: off, total: size, fn: progress}
	}
	raw := &readErr{r: resp.Body}
	body, err := decodeBody(resp, raw)
	if err != nil {
		return err
	}
	defer body.Close()
	n, err := io.Copy(w, body)
	if err != nil && raw.err == nil && resp.Header.Get("Content-Encoding") != "" {
		// The bytes arrived whole but do not decode: corrupted in
		// transit, like a flipped byte of a stored one. What was decoded
		// is no prefix to resume from.
		_ = f.Truncate(0)
		return fmt.Errorf("%w: export %s: the %s body does not decode; the partial file was emptied: %w",
			ErrChecksum, st.ID, resp.Header.Get("Content-Encoding"), err)
	}
	if err != nil {
		return fmt.Errorf("download: transfer interrupted after %d bytes: %w", off+n, err)
	}
	if off+n != size {
		return fmt.Errorf("download: transfer ended at %d of %d bytes", off+n, size)
	}
	return nil
}

// AcceptEncoding is what Download asks a whole file in: zstd, else gzip,
// else as stored.
const AcceptEncoding = "zstd, gzip"

// decodeBody is resp's body with its content coding undone: the stored
// file's bytes. A truncated or corrupted coded body fails to decode (zstd's
// checksum, gzip's CRC and size), and the file's SHA-256 is checked after.
func decodeBody(resp *http.Response, body io.Reader) (io.ReadCloser, error) {
	ce := resp.Header.Get("Content-Encoding")
	d, err := coding.NewReader(ce, body)
	if errors.Is(err, coding.ErrUnsupported) {
		return nil, fmt.Errorf("download: the server sent Content-Encoding %q, which this client does not decode", ce)
	} else if err != nil {
		// gzip reads its header at once: a body cut before it ends here.
		return nil, fmt.Errorf("download: transfer interrupted: %w", err)
	}
	return d, nil
}

// readErr remembers the error its reader returned other than io.EOF: a
// transfer cut short, as opposed to bytes that arrived but do not decode.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return n, err
}

// checkDigestHeaders compares the whole-file digests the server sends
// (X-Checksum-SHA256, RFC 9530 Repr-Digest) with the status' SHA-256. The
// Repr-Digest of a content-coded body is the coded bytes' (RFC 9530: it
// describes the representation sent), so only X-Checksum-SHA256, always
// the stored file's, is compared then.
func checkDigestHeaders(h http.Header, want string) error {
	if got := h.Get("X-Checksum-SHA256"); got != "" && !strings.EqualFold(got, want) {
		return fmt.Errorf("%w: X-Checksum-SHA256 is %s, the export's status says %s", ErrChecksum, got, want)
	}
	if ce := h.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil
	}
	for _, d := range strings.Split(h.Get("Repr-Digest"), ",") {
		alg, val, ok := strings.Cut(strings.TrimSpace(d), "=")
		if !ok || !strings.EqualFold(alg, "sha-256") {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(strings.Trim(val, ":"))
		if err != nil {
			return fmt.Errorf("%w: malformed Repr-Digest %q", ErrChecksum, d)
		}
		if got := hex.EncodeToString(raw); got != want {
			return fmt.Errorf("%w: Repr-Digest is sha-256 %s, the export's status says %s", ErrChecksum, got, want)
		}
	}
	return nil
}

func contentRangeStart(cr string) (int64, error) {
	rest, ok := strings.CutPrefix(cr, "bytes ")
	if !ok {
		return 0, fmt.Errorf("malformed Content-Range %q", cr)
	}
	start, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, fmt.Errorf("malformed Content-Range %q", cr)
	}
	return strconv.ParseInt(start, 10, 64)
}

type progressWriter struct {
	w           io.Writer
	done, total int64
	fn          func(int64, int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	p.fn(p.done, p.total)
	return n, err
}
