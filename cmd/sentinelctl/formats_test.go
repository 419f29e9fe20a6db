package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/render/parquet/parquettest"
)

// TestMachineFormatsEndToEnd: what a downstream system does with the
// machine formats, through sentinelctl only: export a Parquet file and
// compressed CSV and NDJSON files, fetch each one's signed manifest, and
// verify file against manifest. The file on disk is the stored one (the
// compressed bytes, not their decoding), so the manifest's digest and size
// are the compressed file's; a flipped byte in any of them fails
// verification. Each file is also read back as its format (Parquet with
// arrow-go, a reader other than the writer) to check it holds every event.
func TestMachineFormatsEndToEnd(t *testing.T) {
	env, key := server(t, apptest.Options{Database: "postgres", Storage: "s3"})
	vars := map[string]string{"SENTINEL_URL": env.URL, "SENTINEL_API_KEY": key}
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		// rows decodes the file and counts its events.
		rows func(t *testing.T, b []byte) int
	}{
		{"events.parquet", []string{"--file-type", "parquet"}, func(t *testing.T, b []byte) int {
			f := parquettest.Read(t, b)
			if f.Rows[0]["id"] != "evt-0000" || f.Rows[len(f.Rows)-1]["id"] != "evt-0399" {
				t.Errorf("parquet: first %v, last %v", f.Rows[0]["id"], f.Rows[len(f.Rows)-1]["id"])
			}
			return len(f.Rows)
		}},
		{"events.csv.gz", []string{"--compression", "gzip"}, func(t *testing.T, b []byte) int {
			r, err := gzip.NewReader(bytes.NewReader(b))
			apptest.Must(t, err)
			plain, err := io.ReadAll(r)
			apptest.Must(t, err)
			return strings.Count(string(plain), "\nevt-") // the header has no event
		}},
		{"events.ndjson.zst", []string{"--file-type", "ndjson", "--compression", "zstd"}, func(t *testing.T, b []byte) int {
			r, err := zstd.NewReader(bytes.NewReader(b))
			apptest.Must(t, err)
			defer r.Close()
			plain, err := io.ReadAll(r)
			apptest.Must(t, err)
			return strings.Count(string(plain), "\n")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			file, mf := filepath.Join(dir, c.name), filepath.Join(dir, c.name+".manifest.json")
			args := append([]string{"export", "-o", file, "--poll", "50ms", "--range-end", "2026-04-11T00:00:00Z"}, c.args...)
			var sum downloadSummary
			if err := json.Unmarshal([]byte(mustCLI(t, vars, args...)), &sum); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(file)
			apptest.Must(t, err)
			if sum.SHA256 != sha256File(t, file) || sum.Bytes != int64(len(b)) || sum.Rows != 400 {
				t.Fatalf("summary %+v for a file of %d bytes", sum, len(b))
			}
			if n := c.rows(t, b); n != 400 {
				t.Errorf("the file holds %d events, want 400", n)
			}

			mustCLI(t, vars, "exports", "manifest", sum.ExportID, "-o", mf)
			out := mustCLI(t, nil, "verify", "--json=false", file, mf, "--public-key", testPublicKey())
			if !strings.Contains(out, "VERIFIED") || !strings.Contains(out, "sha256     OK") {
				t.Fatalf("verify:\n%s", out)
			}

			// One flipped byte in the middle of the stored file.
			b[len(b)/2] ^= 0x01
			bad := filepath.Join(dir, "flipped-"+c.name)
			apptest.Must(t, os.WriteFile(bad, b, 0o600))
			code, out, _ := cli(t, nil, "verify", "--json=false", bad, mf, "--public-key", testPublicKey())
			if code != 1 || !strings.Contains(out, "sha256     MISMATCH") {
				t.Fatalf("flipped byte: exit %d\n%s", code, out)
			}
		})
	}
}
