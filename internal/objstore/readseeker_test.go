package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/objstore"
	"github.com/auditsentinel/sentinel/internal/objstore/filesystem"
	"github.com/auditsentinel/sentinel/internal/objstore/objstoretest"
)

// countingReader counts the ranged reads a ReadSeeker opens.
type countingReader struct {
	objstore.Reader
	opens []int64
}

func (c *countingReader) GetRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	c.opens = append(c.opens, off)
	return c.Reader.GetRange(ctx, key, off, n)
}

func TestReadSeeker(t *testing.T) {
	b, err := filesystem.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := objstoretest.Data(1, 1000)
	if _, err := b.Upload(t.Context(), "k", bytes.NewReader(data), ""); err != nil {
		t.Fatal(err)
	}
	c := &countingReader{Reader: b}
	rs := objstore.NewReadSeeker(t.Context(), c, "k", int64(len(data)))
	defer rs.Close()

	if n, err := rs.Seek(0, io.SeekEnd); n != 1000 || err != nil {
		t.Fatalf("seek end = %d, %v", n, err)
	}
	if n, err := rs.Seek(-100, io.SeekCurrent); n != 900 || err != nil {
		t.Fatalf("seek current = %d, %v", n, err)
	}
	if len(c.opens) != 0 {
		t.Fatalf("seeking opened the object: %v", c.opens)
	}
	p := make([]byte, 10)
	if _, err := io.ReadFull(rs, p); err != nil || !bytes.Equal(p, data[900:910]) {
		t.Fatalf("read at 900 = %v", err)
	}
	// Reading on continues the open body; seeking to where we are keeps it.
	_, _ = rs.Seek(910, io.SeekStart)
	if _, err := io.ReadFull(rs, p); err != nil || !bytes.Equal(p, data[910:920]) {
		t.Fatalf("read at 910 = %v", err)
	}
	_, _ = rs.Seek(5, io.SeekStart)
	rest, err := io.ReadAll(rs)
	if err != nil || !bytes.Equal(rest, data[5:]) {
		t.Fatalf("read from 5: %d bytes, %v", len(rest), err)
	}
	if want := []int64{900, 5}; len(c.opens) != 2 || c.opens[0] != want[0] || c.opens[1] != want[1] {
		t.Fatalf("opens = %v, want %v", c.opens, want)
	}
	if _, err := rs.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("negative seek accepted")
	}
	if rs.Err() != nil {
		t.Fatalf("Err() = %v", rs.Err())
	}
}

func TestReadSeekerErr(t *testing.T) {
	b, err := filesystem.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := objstoretest.Data(2, 1000)
	if _, err := b.Upload(t.Context(), "k", bytes.NewReader(data), ""); err != nil {
		t.Fatal(err)
	}
	t.Run("body fails", func(t *testing.T) {
		f := objstoretest.NewFaultyBucket(b)
		f.FailReadsAfter(100)
		rs := objstore.NewReadSeeker(t.Context(), f, "k", 1000)
		got, err := io.ReadAll(rs)
		if !errors.Is(err, objstoretest.ErrInjected) || len(got) != 100 || !errors.Is(rs.Err(), objstoretest.ErrInjected) {
			t.Fatalf("read %d bytes, err %v, Err() %v", len(got), err, rs.Err())
		}
	})
	t.Run("body shorter than the size", func(t *testing.T) {
		rs := objstore.NewReadSeeker(t.Context(), b, "k", 2000)
		_, err := io.ReadAll(rs)
		if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(rs.Err(), io.ErrUnexpectedEOF) {
			t.Fatalf("err %v, Err() %v", err, rs.Err())
		}
	})
	t.Run("object gone", func(t *testing.T) {
		rs := objstore.NewReadSeeker(t.Context(), b, "gone", 10)
		_, err := io.ReadAll(rs)
		if !errors.Is(err, audit.ErrNotFound) || !errors.Is(rs.Err(), audit.ErrNotFound) {
			t.Fatalf("err %v, Err() %v", err, rs.Err())
		}
	})
}

func TestValidateKey(t *testing.T) {
	for _, key := range []string{"a", "a/b.csv", "tenants/t1/exports/01J.csv", "a..b", ".hidden"} {
		if err := objstore.ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v", key, err)
		}
	}
	for _, key := range []string{"", ".", "..", "/a", "a/", "a//b", "a/./b", "a/../b", "../a", "a\\b", "a\x00b",
		string(make([]byte, objstore.MaxKeyLen+1))} {
		if err := objstore.ValidateKey(key); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}
