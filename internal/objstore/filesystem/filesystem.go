// Package filesystem stores objects as files under one directory, for
// single-node deployments and demos. A key maps to the path of the same
// name below the directory.
//
// An upload is written to a temporary file beside its target, named
// ".incomplete-<random>-<name>", synced and renamed over the target, so a
// reader sees the old file or the new one, never a part. A writer that
// crashes leaves the temporary file, which ListIncompleteUploads reports.
//
// Keys follow objstore.ValidateKey; in addition no element of a key may
// start with ".incomplete-", and a key cannot be both an object and the
// directory of another ("a" and "a/b"), as on any filesystem.
package filesystem

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/objstore"
)

// tempPrefix starts the name of every file an unfinished upload writes.
const tempPrefix = ".incomplete-"

// Bucket is a directory of objects.
type Bucket struct {
	dir  string
	root *os.Root
}

var _ objstore.Bucket = (*Bucket)(nil)

// New opens (creating it if needed) the directory dir as a bucket.
func New(dir string) (*Bucket, error) {
	if dir == "" {
		return nil, fmt.Errorf("filesystem: no directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("filesystem: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("filesystem: %w", err)
	}
	// os.Root keeps every operation inside dir, symlinks included.
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("filesystem: %w", err)
	}
	return &Bucket{dir: abs, root: root}, nil
}

// Dir returns the bucket's directory.
func (b *Bucket) Dir() string { return b.dir }

// Close releases the directory handle.
func (b *Bucket) Close() error { return b.root.Close() }

func checkKey(key string) error {
	if err := objstore.ValidateKey(key); err != nil {
		return err
	}
	for elem := range strings.SplitSeq(key, "/") {
		if strings.HasPrefix(elem, tempPrefix) {
			return fmt.Errorf("%w %q: an element starts with %q", objstore.ErrInvalidKey, key, tempPrefix)
		}
	}
	return nil
}

// Upload implements objstore.Writer.
func (b *Bucket) Upload(ctx context.Context, key string, r io.Reader, contentType string) (objstore.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return objstore.ObjectInfo{}, err
	}
	f, tmp, err := b.createTemp(key)
	if err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("filesystem: upload %s: %w", key, err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			_ = b.root.Remove(tmp)
		}
	}()
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("filesystem: upload %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("filesystem: upload %s: sync: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("filesystem: upload %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("filesystem: upload %s: close: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("filesystem: upload %s: %w", key, err)
	}
	if err := b.root.Rename(tmp, key); err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("filesystem: upload %s: %w", key, err)
	}
	done = true
	// The rename is durable once the directory entry is.
	if err := b.syncDir(path.Dir(key)); err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("filesystem: upload %s: %w", key, err)
	}
	if contentType == "" {
		contentType = typeOf(key)
	}
	return objstore.ObjectInfo{Key: key, Size: fi.Size(), LastModified: fi.ModTime(), ContentType: contentType}, nil
}

// createTemp creates the temporary file an upload of key writes to, beside
// the target so the final rename stays within one directory.
func (b *Bucket) createTemp(key string) (*os.File, string, error) {
	dir := path.Dir(key)
	if dir != "." {
		if err := b.root.MkdirAll(dir, 0o755); err != nil {
			return nil, "", err
		}
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(dir, tempPrefix+hex.EncodeToString(rnd[:])+"-"+path.Base(key))
	f, err := b.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, "", err
	}
	return f, tmp, nil
}

func (b *Bucket) syncDir(dir string) error {
	d, err := b.root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Delete implements objstore.Writer. Deleting a missing key is not an
// error: the caller wanted it gone, and it is.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := b.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("filesystem: delete %s: %w", key, err)
	}
	return nil
}

// Stat implements objstore.Reader.
func (b *Bucket) Stat(ctx context.Context, key string) (objstore.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return objstore.ObjectInfo{}, err
	}
	fi, err := b.root.Stat(key)
	if err != nil {
		return objstore.ObjectInfo{}, b.readErr("stat", key, err)
	}
	if !fi.Mode().IsRegular() {
		return objstore.ObjectInfo{}, audit.NotFound("object %s not found", key)
	}
	return b.info(key, fi), nil
}

func (b *Bucket) info(key string, fi fs.FileInfo) objstore.ObjectInfo {
	return objstore.ObjectInfo{Key: key, Size: fi.Size(), LastModified: fi.ModTime(), ContentType: typeOf(key)}
}

// typeOf guesses a content type from the key's extension: a directory does
// not keep the type the object was uploaded with. The types exports have are
// fixed here; the system's table (which a slim container may lack) does the
// rest.
func typeOf(key string) string {
	ext := strings.ToLower(path.Ext(key))
	if t, ok := knownTypes[ext]; ok {
		return t
	}
	return mime.TypeByExtension(ext)
}

var knownTypes = map[string]string{
	".csv":  "text/csv; charset=utf-8",
	".pdf":  "application/pdf",
	".json": "application/json",
}

func (b *Bucket) readErr(op, key string, err error) error {
	// ENOTDIR: an element of the key is a file, so the key cannot exist.
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
		return fmt.Errorf("filesystem: %s %s: %w", op, key, audit.NotFound("object %s not found", key))
	}
	return fmt.Errorf("filesystem: %s %s: %w", op, key, err)
}

// GetRange implements objstore.Reader. An offset at or past the end of a
// non-empty object is an EINVALID error, as on S3.
func (b *Bucket) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, audit.Invalid("offset", "negative offset %d", offset)
	}
	f, err := b.root.Open(key)
	if err != nil {
		return nil, b.readErr("get object", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("filesystem: get object %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("filesystem: get object %s: %w", key, audit.NotFound("object %s not found", key))
	}
	size := fi.Size()
	if offset > 0 && offset >= size {
		f.Close()
		return nil, fmt.Errorf("filesystem: get object %s: %w", key,
			audit.Invalid("offset", "offset %d is past the end of the %d-byte object", offset, size))
	}
	n := size - offset
	if length >= 0 && length < n {
		n = length
	}
	return readCloser{io.NewSectionReader(f, offset, n), f}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// List implements objstore.Lister. Objects come in no particular order.
func (b *Bucket) List(ctx context.Context, prefix string, fn func(objstore.ObjectInfo) error) error {
	return b.walk(ctx, prefix, func(p string, d fs.DirEntry) error {
		if strings.HasPrefix(d.Name(), tempPrefix) || !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted while we walked
		}
		if err != nil {
			return fmt.Errorf("filesystem: list %s: %w", prefix, err)
		}
		return fn(b.info(p, fi))
	})
}

// walk calls fn for every file whose key starts with prefix, starting at
// the deepest directory the prefix names.
func (b *Bucket) walk(ctx context.Context, prefix string, fn func(key string, d fs.DirEntry) error) error {
	start := "."
	if i := strings.LastIndexByte(prefix, '/'); i > 0 {
		start = path.Clean(prefix[:i])
		if !fs.ValidPath(start) {
			return audit.Invalid("prefix", "prefix %q is not a clean relative path", prefix)
		}
	}
	err := fs.WalkDir(b.root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // the prefix's directory does not exist, or vanished
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			// Skip directories that cannot hold a matching key.
			if p != "." && !strings.HasPrefix(p+"/", prefix) && !strings.HasPrefix(prefix, p+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(p, prefix) && !strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		return fn(p, d)
	})
	if err != nil {
		return fmt.Errorf("filesystem: list %s: %w", prefix, err)
	}
	return nil
}

// ListIncompleteUploads implements objstore.UploadJanitor. Initiated is the
// temporary file's last write, the best a directory records.
func (b *Bucket) ListIncompleteUploads(ctx context.Context, prefix string) ([]objstore.IncompleteUpload, error) {
	var ups []objstore.IncompleteUpload
	err := b.walk(ctx, prefix, func(p string, d fs.DirEntry) error {
		key, ok := targetOf(p)
		if !ok || !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // finished or removed while we walked
		}
		if err != nil {
			return err
		}
		ups = append(ups, objstore.IncompleteUpload{Key: key, UploadID: p, Initiated: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ups, nil
}

// targetOf returns the key a temporary file at p was going to become.
func targetOf(p string) (string, bool) {
	rest, ok := strings.CutPrefix(path.Base(p), tempPrefix)
	if !ok {
		return "", false
	}
	_, name, ok := strings.Cut(rest, "-")
	if !ok || name == "" {
		return "", false
	}
	return path.Join(path.Dir(p), name), true
}

// AbortIncompleteUpload implements objstore.UploadJanitor. Aborting an
// upload that is already gone is not an error.
func (b *Bucket) AbortIncompleteUpload(ctx context.Context, u objstore.IncompleteUpload) error {
	if _, ok := targetOf(u.UploadID); !ok || !fs.ValidPath(u.UploadID) {
		return audit.Invalid("upload_id", "%q is not an incomplete upload of this bucket", u.UploadID)
	}
	if err := b.root.Remove(u.UploadID); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("filesystem: abort upload %s: %w", u.UploadID, err)
	}
	return nil
}

// Ping implements objstore.Bucket: the directory must still be there.
func (b *Bucket) Ping(ctx context.Context) error {
	if _, err := b.root.Stat("."); err != nil {
		return fmt.Errorf("filesystem: ping %s: %w", b.dir, err)
	}
	return nil
}

// ctxReader stops a copy once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// errNotDir is what opening "a/b" gives when "a" is a file.
var errNotDir = syscall.ENOTDIR
