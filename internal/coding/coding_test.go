package coding_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/auditsentinel/sentinel/internal/coding"
)

func TestNewReader(t *testing.T) {
	plain := bytes.Repeat([]byte("id,occurred_at,Zoë\r\n"), 5000)
	var gz, zs bytes.Buffer
	g := gzip.NewWriter(&gz)
	g.Write(plain)
	g.Close()
	z, _ := zstd.NewWriter(&zs)
	z.Write(plain)
	z.Close()
	for _, tc := range []struct {
		coding string
		body   []byte
	}{{"", plain}, {"identity", plain}, {"gzip", gz.Bytes()}, {"x-gzip", gz.Bytes()}, {" ZSTD ", zs.Bytes()}} {
		r, err := coding.NewReader(tc.coding, bytes.NewReader(tc.body))
		if err != nil {
			t.Fatalf("%q: %v", tc.coding, err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%q: decoded %d bytes, %v; want the %d plain ones", tc.coding, len(got), err, len(plain))
		}
		// Cut short, a coded body never decodes cleanly.
		if tc.coding == "" || tc.coding == "identity" {
			continue
		}
		r, err = coding.NewReader(tc.coding, bytes.NewReader(tc.body[:len(tc.body)-4]))
		if err == nil {
			_, err = io.ReadAll(r)
			r.Close()
		}
		if err == nil {
			t.Errorf("%q: a truncated body decoded without an error", tc.coding)
		}
	}
	if _, err := coding.NewReader("br", bytes.NewReader(nil)); !errors.Is(err, coding.ErrUnsupported) {
		t.Errorf("br: %v, want ErrUnsupported", err)
	}
}
