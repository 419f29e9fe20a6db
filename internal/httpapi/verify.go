package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"sync"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// errDigestMismatch is what a verifying read returns in place of the last
// bytes of a file that does not match its recorded digest.
var errDigestMismatch = errors.New("httpapi: stored file does not match its recorded sha256")

// verifyingReader hashes a stored file while http.ServeContent sends it, and
// withholds the file's last bytes when the digest does not match the record:
// the response then ends short of its Content-Length and the handler aborts
// the connection, so a corrupted file can never arrive as a complete 200.
//
// Only a read of the whole file, from byte 0 in order, is verified. A 206
// for part of the file is sent as it is stored: checking it would mean
// reading the whole object for every range. Its client has the digest of the
// whole file (Repr-Digest, X-Checksum-SHA256) to check what it assembles;
// a range that covers the whole file (bytes=0-) is verified like a 200.
type verifyingReader struct {
	rs   io.ReadSeeker
	size int64
	want []byte

	mu       sync.Mutex // multi-range responses read from a goroutine
	h        hash.Hash
	pos      int64
	inOrder  bool // bytes [0, pos) were all hashed, in order
	mismatch bool
}

func newVerifyingReader(rs io.ReadSeeker, size int64, sha256Hex string) *verifyingReader {
	want, _ := hex.DecodeString(sha256Hex)
	return &verifyingReader{rs: rs, size: size, want: want, h: sha256.New(), inOrder: len(want) == sha256.Size}
}

func (v *verifyingReader) Seek(offset int64, whence int) (int64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	n, err := v.rs.Seek(offset, whence)
	if err != nil {
		return n, err
	}
	switch {
	case n == 0 && len(v.want) == sha256.Size:
		v.h.Reset()
		v.inOrder = true
	case n != v.pos:
		v.inOrder = false
	}
	v.pos = n
	return n, nil
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.mismatch {
		return 0, errDigestMismatch
	}
	n, err := v.rs.Read(p)
	if v.inOrder && n > 0 {
		v.h.Write(p[:n])
	}
	v.pos += int64(n)
	if v.inOrder && v.pos == v.size && !bytes.Equal(v.h.Sum(nil), v.want) {
		v.mismatch = true
		return 0, errDigestMismatch
	}
	return n, err
}

// Mismatch reports whether the file read did not match its digest.
func (v *verifyingReader) Mismatch() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.mismatch
}

// corrupted logs and marks an export whose stored file did not match its
// digest while it was being downloaded. Marked failed, it is never served
// again, and the next identical request renders a new file.
func (s *Server) corrupted(ctx context.Context, e audit.Export) {
	s.logger.ErrorContext(ctx, "download aborted: the stored file does not match its recorded sha256",
		"export_id", e.ID, "tenant", e.TenantID, "object_key", e.ObjectKey, "sha256", e.SHA256)
	msg := "its stored file no longer matched its recorded sha256 and was not served; request the export again"
	if err := s.cfg.Store.MarkExportCorrupt(context.WithoutCancel(ctx), e.TenantID, e.ID, msg, s.cfg.Now()); err != nil {
		s.logger.ErrorContext(ctx, "could not mark the export corrupt", "export_id", e.ID, "err", err)
	}
}
