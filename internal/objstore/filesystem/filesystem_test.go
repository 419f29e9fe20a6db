package filesystem

import (
	"context"
	"testing"

	"github.com/auditsentinel/sentinel/internal/objstore"
	"github.com/auditsentinel/sentinel/internal/objstore/objstoretest"
)

// crashable leaves a temporary file behind, as a writer killed mid-upload
// would.
type crashable struct{ *Bucket }

func (c crashable) AbandonUpload(ctx context.Context, key string) error {
	f, _, err := c.createTemp(key)
	if err != nil {
		return err
	}
	_, err = f.WriteString("half an export")
	f.Close()
	return err
}

func TestAcceptance(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) objstore.Bucket {
		b, err := New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return crashable{b}
	})
}

func TestKeyMayNotNameATemporaryFile(t *testing.T) {
	b, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, key := range []string{".incomplete-x-y", "a/.incomplete-0-b/c"} {
		if err := checkKey(key); err == nil {
			t.Errorf("checkKey(%q) = nil, want an error", key)
		}
	}
}
