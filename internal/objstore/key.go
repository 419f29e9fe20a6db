package objstore

import (
	"io/fs"
	"strings"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// MaxKeyLen bounds a key in bytes. S3 allows 1024; the rest is left for a
// bucket prefix.
const MaxKeyLen = 900

// ValidateKey enforces the key rules every backend shares, so a key that
// works on one works on all: slash-separated, relative, no empty, "." or
// ".." elements, no trailing slash, no NUL or backslash. A directory-backed
// store cannot otherwise be kept inside its directory, and S3 would accept
// keys the filesystem cannot hold.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return audit.Invalid("key", "object key is empty")
	case len(key) > MaxKeyLen:
		return audit.Invalid("key", "object key is longer than %d bytes", MaxKeyLen)
	case strings.ContainsAny(key, "\x00\\"):
		return audit.Invalid("key", "object key %q contains a NUL or a backslash", key)
	case key == "." || !fs.ValidPath(key):
		return audit.Invalid("key", "object key %q is not a clean relative path", key)
	}
	return nil
}
