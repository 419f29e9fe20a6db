package objstore

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// MaxKeyLen bounds a key in bytes. S3 allows 1024; the rest is left for a
// bucket prefix.
const MaxKeyLen = 900

// ErrInvalidKey is returned for a key that breaks the rules of ValidateKey.
// Keys are made by the service (export.ObjectKey), never taken from a
// request, so it is not a client error: an invalid key is a bug, which the
// HTTP layer answers as any internal error.
var ErrInvalidKey = errors.New("objstore: invalid object key")

// ValidateKey enforces the key rules every backend shares, so a key that
// works on one works on all: slash-separated, relative, no empty, "." or
// ".." elements, no trailing slash, no NUL or backslash. A directory-backed
// store cannot otherwise be kept inside its directory, and S3 would accept
// keys the filesystem cannot hold.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, MaxKeyLen)
	case strings.ContainsAny(key, "\x00\\"):
		return fmt.Errorf("%w %q: it contains a NUL or a backslash", ErrInvalidKey, key)
	case key == "." || !fs.ValidPath(key):
		return fmt.Errorf("%w %q: not a clean relative path", ErrInvalidKey, key)
	}
	return nil
}
