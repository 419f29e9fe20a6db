package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// coding is a content coding (RFC 9110 §8.4.1) a file is sent in: the
// stored bytes compressed on the way out, decoded by the client into the
// very file stored. "" is identity.
type coding string

const (
	identity   coding = ""
	codingZstd coding = "zstd"
	codingGzip coding = "gzip"
)

// codable reports whether files of p are content-coded on request: the
// text formats stored uncompressed. A compressed file (compression=gzip or
// zstd), a PDF and a Parquet file compress inside already; coding them
// again costs CPU and saves next to nothing.
func codable(p audit.ExportParams) bool {
	plain := p.Compression == audit.CompressNone || p.Compression == "none" // "none": as asked, not canonical
	return plain && (p.FileType == audit.FileCSV || p.FileType == audit.FileNDJSON)
}

// negotiate picks the content coding of a file's response from the
// request's Accept-Encoding (RFC 9110 §12.5.3): the coding with the highest
// q-value, zstd before gzip before identity on a tie (zstd is the faster
// and the smaller). Identity is acceptable unless refused (identity;q=0, or
// *;q=0 without identity). A request without Accept-Encoding, and one with
// Range (offsets are those of the stored bytes), gets identity.
//
// When nothing the file can be sent in is acceptable, the answer is 406:
// RFC 9110 lets a server send identity anyway, but a client that refused it
// would then store bytes it said it cannot read.
func negotiate(r *http.Request, codableFile bool) (coding, error) {
	vals := r.Header.Values("Accept-Encoding")
	offered := []coding{identity}
	if codableFile && r.Header.Get("Range") == "" && len(vals) > 0 {
		offered = []coding{codingZstd, codingGzip, identity}
	}
	if len(vals) == 0 {
		return identity, nil
	}
	q := map[string]float64{}
	for _, el := range strings.Split(strings.Join(vals, ","), ",") {
		name, params, _ := strings.Cut(el, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		if name == "x-gzip" { // RFC 9110 §8.4.1.3
			name = string(codingGzip)
		}
		v, ok := 1.0, true
		for _, p := range strings.Split(params, ";") {
			k, val, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				v, ok = parseQ(strings.TrimSpace(val))
			}
		}
		if ok {
			q[name] = v
		}
	}
	best, bestQ := identity, 0.0
	for _, c := range offered {
		name := string(c)
		if c == identity {
			name = "identity"
		}
		v, listed := q[name]
		if !listed {
			star, hasStar := q["*"]
			switch {
			case hasStar:
				v = star
			case c == identity:
				v = 1 // acceptable unless refused
			}
		}
		if v > bestQ {
			best, bestQ = c, v
		}
	}
	if bestQ == 0 {
		allowed := make([]string, len(offered))
		for i, c := range offered {
			allowed[i] = string(c)
			if c == identity {
				allowed[i] = "identity"
			}
		}
		return identity, &audit.Error{Code: audit.ENOTACCEPTABLE, Param: "Accept-Encoding", Allowed: allowed,
			Message: "Accept-Encoding accepts none of the codings this file can be sent in; allowed: " + strings.Join(allowed, ", ")}
	}
	return best, nil
}

// parseQ reads a qvalue; false when it is not one (the element is then
// ignored, as if it had not been listed).
func parseQ(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1 {
		return 0, false
	}
	return v, true
}

// etagOf is the ETag of a file with SHA-256 sum sent in coding c: each
// representation has its own, so a cache or a conditional request never
// takes the coded bytes for the stored ones. The coded bytes are the same
// on every request (one encoder, one level, one goroutine), so the tag is
// strong.
func etagOf(sum string, c coding) string {
	if c == identity {
		return `"` + sum + `"`
	}
	return `"` + sum + "-" + string(c) + `"`
}

// The encoders are the fastest levels of github.com/klauspost/compress
// (already the stored files' zstd). On the fly, the coder sits between
// storage and the network of every download, on the api's CPU: measured
// on a 62 MB export-like CSV (one core, best of four, README "Compressed
// transfer"), zstd SpeedFastest coded 152 MB/s to 26.9% of the bytes,
// SpeedDefault 135 MB/s to 25.2%; gzip level 1 132 MB/s to 35.0%, level 6
// 80 MB/s to 31.9%. The few points of size are not worth the CPU a
// download costs the api. One goroutine per encoder and a 1 MiB window
// (the 8 MiB one made no smaller file) keep each download's CPU and
// memory bounded, and the window within the 8 MiB RFC 9659 allows zstd in
// HTTP. Encoders are pooled: a zstd encoder's tables cost more to allocate
// than a small file to encode.
var (
	zstdPool = sync.Pool{New: func() any {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<20))
		if err != nil {
			panic(err) // constant options
		}
		return e
	}}
	gzipPool = sync.Pool{New: func() any {
		w, err := gzip.NewWriterLevel(nil, gzip.BestSpeed)
		if err != nil {
			panic(err) // constant level
		}
		return w
	}}
)

// encoder codes a body on its way to dst and hashes the coded bytes, whose
// SHA-256 is the coded representation's Repr-Digest.
type encoder struct {
	c   coding
	zw  *zstd.Encoder
	gw  *gzip.Writer
	out io.Writer
	sum hash.Hash
}

func newEncoder(c coding, dst io.Writer) *encoder {
	e := &encoder{c: c, sum: sha256.New()}
	e.out = io.MultiWriter(dst, e.sum)
	switch c {
	case codingZstd:
		e.zw = zstdPool.Get().(*zstd.Encoder)
		e.zw.Reset(e.out)
	case codingGzip:
		e.gw = gzipPool.Get().(*gzip.Writer)
		e.gw.Reset(e.out)
	}
	return e
}

func (e *encoder) Write(p []byte) (int, error) {
	if e.zw != nil {
		return e.zw.Write(p)
	}
	return e.gw.Write(p)
}

// Close ends the coded stream (zstd's checksum, gzip's CRC and size) and
// returns the coded bytes' Repr-Digest value. It is called only once the
// identity bytes were checked: a body that must not end like a complete
// one is abandoned instead, and its stream never ends.
func (e *encoder) Close() (string, error) {
	var err error
	if e.zw != nil {
		err = e.zw.Close()
	} else {
		err = e.gw.Close()
	}
	if err != nil {
		return "", err
	}
	e.release()
	return "sha-256=:" + base64.StdEncoding.EncodeToString(e.sum.Sum(nil)) + ":", nil
}

// release returns a finished encoder to its pool; an abandoned one is left
// to the garbage collector, its state half a stream.
func (e *encoder) release() {
	if e.zw != nil {
		e.zw.Reset(nil)
		zstdPool.Put(e.zw)
	} else {
		e.gw.Reset(nil)
		gzipPool.Put(e.gw)
	}
	e.zw, e.gw = nil, nil
}

// errShortCoded: a coded body got fewer bytes than its file has.
var errShortCoded = errors.New("httpapi: coded body ended short of the file")

// codedWriter stands between http.ServeContent and the response of a coded
// file: ServeContent does the conditional requests against the coded
// representation's ETag, and when it answers 200 its identity bytes are
// coded on the way out. The coded length is not known in advance, so
// Content-Length goes; the coded bytes' Repr-Digest follows as a trailer.
type codedWriter struct {
	http.ResponseWriter
	c    coding
	head bool
	enc  *encoder
	n    int64 // identity bytes coded
}

func (w *codedWriter) WriteHeader(code int) {
	if code == http.StatusOK {
		h := w.Header()
		h.Del("Content-Length")
		h.Set("Content-Encoding", string(w.c))
		if !w.head {
			h.Add("Trailer", "Repr-Digest")
			w.enc = newEncoder(w.c, w.ResponseWriter)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *codedWriter) Write(p []byte) (int, error) {
	if w.enc != nil {
		n, err := w.enc.Write(p)
		w.n += int64(n)
		return n, err
	}
	return w.ResponseWriter.Write(p)
}

// finish ends a coded 200 once its size identity bytes were all sent and
// checked. Fewer (the object read short) leave the stream unended: a coded
// body has no Content-Length to betray a short one, so ending it would make
// a truncated file look complete.
func (w *codedWriter) finish(size int64) error {
	if w.enc == nil {
		return nil
	}
	if w.n != size {
		return errShortCoded
	}
	d, err := w.enc.Close()
	if err != nil {
		return err
	}
	w.Header().Set("Repr-Digest", d)
	return nil
}

// Unwrap lets http.ResponseController reach the connection.
func (w *codedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
