package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/demo"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// TestContentCodedTransfer: a CSV asked for with Accept-Encoding zstd or
// gzip is compressed on the way out, both while it renders (the live
// answer) and once stored, and decodes to exactly the stored file (real
// api, worker, PostgreSQL, Redis, versitygw). X-Checksum-SHA256 is the
// decoded file's SHA-256; Repr-Digest, a trailer, the coded bytes'.
func TestContentCodedTransfer(t *testing.T) {
	t.Parallel()
	env := apptest.Boot(t, apptest.Options{Database: "postgres", Storage: "s3", Env: map[string]string{"EXPORT_REUSE_WINDOW": "0s"}})
	key := env.Key("acme")
	const n = 40_000
	env.SeedDemo(demo.Config{Seed: 12, TenantID: "acme", Now: time.Now().UTC(), Days: 30, Events: n})
	digest := func(b []byte) string {
		sum := sha256.Sum256(b)
		return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
	}

	for _, ce := range []string{"zstd", "gzip"} {
		t.Run(ce, func(t *testing.T) {
			// Live: rendering when answered, so no ETag, and trailers.
			req, _ := http.NewRequest(http.MethodGet, env.URL+exportPath+"?timezone=Europe/Berlin", nil)
			req.Header.Set("apikey", key)
			req.Header.Set("Accept-Encoding", ce)
			res, err := env.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			coded, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatalf("read the live body: %v", err)
			}
			if res.StatusCode != http.StatusOK || res.Header.Get("ETag") != "" || res.Header.Get("Content-Encoding") != ce ||
				res.Header.Get("Vary") != "Accept-Encoding" || res.ContentLength != -1 {
				t.Fatalf("status %d, headers %v; want 200 streamed while rendering, coded %s", res.StatusCode, res.Header, ce)
			}
			plain := testenv.Decode(t, ce, coded)
			sum := sha256.Sum256(plain)
			rows, err := csv.NewReader(bytes.NewReader(plain)).ReadAll()
			// n events, and the service's records of the earlier exports.
			if err != nil || len(rows) < n+1 {
				t.Fatalf("CSV: %d records, %v; want %d and the header", len(rows), err, n)
			}
			if res.Trailer.Get("X-Checksum-SHA256") != hex.EncodeToString(sum[:]) || res.Trailer.Get("X-Export-Rows") != strconv.Itoa(len(rows)-1) ||
				res.Trailer.Get("Repr-Digest") != digest(coded) {
				t.Fatalf("trailers %v; decoded body hashes to %x", res.Trailer, sum)
			}
			if len(coded)*2 > len(plain) {
				t.Fatalf("%d coded bytes for a %d-byte CSV", len(coded), len(plain))
			}

			// Stored: the same bytes as identity, and coded again.
			file := "/v5/audit-sentinel/exports/" + res.Header.Get("X-Export-Id") + "/file"
			fres, stored := env.Do(http.MethodGet, file, key, nil)
			if fres.StatusCode != http.StatusOK || fres.Header.Get("Content-Encoding") != "" || !bytes.Equal(stored, plain) ||
				fres.Header.Get("ETag") != `"`+hex.EncodeToString(sum[:])+`"` || fres.Header.Get("Repr-Digest") != digest(plain) {
				t.Fatalf("stored file: status %d, %d bytes, headers %v", fres.StatusCode, len(stored), fres.Header)
			}
			cres, recoded := env.Do(http.MethodGet, file, key, nil, "Accept-Encoding", ce)
			if cres.StatusCode != http.StatusOK || cres.Header.Get("Content-Encoding") != ce || cres.ContentLength != -1 ||
				cres.Header.Get("ETag") != `"`+hex.EncodeToString(sum[:])+"-"+ce+`"` || cres.Header.Get("Repr-Digest") != "" ||
				cres.Header.Get("X-Checksum-SHA256") != hex.EncodeToString(sum[:]) || cres.Trailer.Get("Repr-Digest") != digest(recoded) {
				t.Fatalf("stored file coded: status %d, headers %v, trailers %v", cres.StatusCode, cres.Header, cres.Trailer)
			}
			if !bytes.Equal(testenv.Decode(t, ce, recoded), plain) {
				t.Fatal("the coded stored file does not decode to the file")
			}
			// Range: the stored bytes, whatever Accept-Encoding says.
			rres, part := env.Do(http.MethodGet, file, key, nil, "Accept-Encoding", ce, "Range", "bytes=1000-1999")
			if rres.StatusCode != http.StatusPartialContent || rres.Header.Get("Content-Encoding") != "" || !bytes.Equal(part, plain[1000:2000]) {
				t.Fatalf("Range with %s: %d, headers %v", ce, rres.StatusCode, rres.Header)
			}
		})
	}

	// Answered the ordinary way (finished within the wait), coded too.
	res, coded := env.Do(http.MethodGet, exportPath+"?event_type=nothing-matches", key, nil, "Accept-Encoding", "gzip, zstd")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "zstd" ||
		!bytes.HasSuffix([]byte(res.Header.Get("ETag")), []byte(`-zstd"`)) || len(testenv.Decode(t, "zstd", coded)) == 0 {
		t.Fatalf("small export: status %d, headers %v", res.StatusCode, res.Header)
	}
	// Identity refused: 406 before any export is made.
	before, err := env.Deps.Store.ListExports(t.Context(), audit.ExportListFilter{TenantID: "acme"})
	apptest.Must(t, err)
	res, body := env.Do(http.MethodGet, exportPath+"?event_type=refused", key, nil, "Accept-Encoding", "identity;q=0")
	if res.StatusCode != http.StatusNotAcceptable || !bytes.Contains(body, []byte(`"not_acceptable"`)) {
		t.Fatalf("identity refused: %d %s", res.StatusCode, body)
	}
	after, err := env.Deps.Store.ListExports(t.Context(), audit.ExportListFilter{TenantID: "acme"})
	apptest.Must(t, err)
	if len(after) != len(before) {
		t.Fatalf("a refused request made an export: %d exports, then %d", len(before), len(after))
	}
}
