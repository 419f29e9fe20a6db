// Package objstore is the seam between exports and where their files live:
// an S3-compatible bucket (internal/objstore/s3) or a local directory
// (internal/objstore/filesystem). Both pass one acceptance suite
// (internal/objstore/objstoretest).
package objstore

import (
	"context"
	"io"
	"time"
)

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key          string
	Size         int64
	LastModified time.Time
	ContentType  string
}

// Writer stores objects. Upload reads r to its end and makes the object
// visible under key only once everything was stored: a failed or cancelled
// upload leaves no object and no partial upload behind. Re-uploading a key
// replaces the object atomically.
type Writer interface {
	Upload(ctx context.Context, key string, r io.Reader, contentType string) (ObjectInfo, error)
	Delete(ctx context.Context, key string) error
}

// RetainingWriter writes an object that storage keeps from deletion until
// a date (S3 Object Lock). Storage that cannot, or a bucket without Object
// Lock, writes it as Upload does: the retention is then the service's
// alone (DELETE refuses, the sweeper waits).
type RetainingWriter interface {
	UploadRetained(ctx context.Context, key string, r io.Reader, contentType string, until time.Time) (ObjectInfo, error)
}

// Retained is the error of a deletion storage refuses because it retains
// the object (S3 Object Lock). Until is when that retention ends, by
// storage's clock; zero when storage gave no date (a legal hold set in
// storage, or a bucket's default retention kept on the bucket rather than
// the object). Err is what callers and the API see: an audit.ECONFLICT
// naming the lock (errors.As finds it through Unwrap).
type Retained struct {
	Until time.Time
	Err   error
}

func (e *Retained) Error() string { return e.Err.Error() }
func (e *Retained) Unwrap() error { return e.Err }

// Reader reads objects. Missing objects are audit.ErrNotFound.
type Reader interface {
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// GetRange returns length bytes from offset; length < 0 means to the end.
	GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
}

// Lister walks objects under a prefix (the sweeper looks for orphans).
type Lister interface {
	List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error
}

// IncompleteUpload is a multipart upload (or temporary file) that was
// started and never finished.
type IncompleteUpload struct {
	Key       string
	UploadID  string
	Initiated time.Time
}

// UploadJanitor finds and removes uploads abandoned by a crashed writer.
type UploadJanitor interface {
	ListIncompleteUploads(ctx context.Context, prefix string) ([]IncompleteUpload, error)
	AbortIncompleteUpload(ctx context.Context, u IncompleteUpload) error
}

// Presigner hands out time-limited URLs that fetch an object without an API
// key. Only stores reachable by the caller implement it (S3).
type Presigner interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (string, time.Time, error)
}

// Bucket is everything a backend provides.
type Bucket interface {
	Reader
	Writer
	Lister
	UploadJanitor
	Ping(ctx context.Context) error
}
