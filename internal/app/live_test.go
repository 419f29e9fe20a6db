package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/demo"
	"github.com/auditsentinel/sentinel/internal/live"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// TestLiveExport: a CSV too large to be answered the ordinary way within
// the live grace is streamed while the worker renders it, through Redis
// (real api, worker, PostgreSQL, Redis, versitygw): chunked, with its
// checksum and row count as trailers, and byte for byte the file that is
// stored. A small export still gets the ordinary response. With
// LIVE_COMPRESSION=s2 the stream holds S2 blocks, without it the bytes.
func TestLiveExport(t *testing.T) {
	t.Parallel()
	for _, compression := range []string{"none", "s2"} {
		t.Run(compression, func(t *testing.T) {
			t.Parallel()
			testLiveExport(t, compression)
		})
	}
}

func testLiveExport(t *testing.T, compression string) {
	env := apptest.Boot(t, apptest.Options{Database: "postgres", Storage: "s3",
		Env: map[string]string{"EXPORT_REUSE_WINDOW": "0s", "LIVE_COMPRESSION": compression}})
	key := env.Key("acme")
	const n = 40_000
	env.SeedDemo(demo.Config{Seed: 11, TenantID: "acme", Now: time.Now().UTC(), Days: 30, Events: n})

	req, _ := http.NewRequest(http.MethodGet, env.URL+exportPath+"?timezone=Europe/Berlin", nil)
	req.Header.Set("apikey", key)
	res, err := env.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	// What the stream holds is read beside the body: it goes two seconds
	// after the export ends.
	rdb := testenv.RedisClient(t, env.Vars["REDIS_URL"])
	streamed := make(chan streamRead, 1)
	go func() { streamed <- readStream(rdb, res.Header.Get("X-Export-Id")) }()
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("read the live body: %v", err)
	}
	if res.StatusCode != http.StatusOK || res.ContentLength != -1 || res.Header.Get("ETag") != "" {
		t.Fatalf("status %d, Content-Length %d, ETag %q; want 200 streamed while rendering",
			res.StatusCode, res.ContentLength, res.Header.Get("ETag"))
	}
	sum := sha256.Sum256(body)
	if got := res.Trailer.Get("X-Checksum-SHA256"); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("trailer X-Checksum-SHA256 %q, body hashes to %x", got, sum)
	}
	if got := res.Trailer.Get("X-Export-Rows"); got != "40000" {
		t.Fatalf("trailer X-Export-Rows %q", got)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(rows) != n+1 {
		t.Fatalf("CSV: %d records, %v; want %d and the header", len(rows), err, n)
	}
	// The stored file is the same bytes, served the ordinary way.
	id := res.Header.Get("X-Export-Id")
	fres, stored := env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+id+"/file", key, nil)
	if fres.StatusCode != http.StatusOK || fres.ContentLength != int64(len(body)) || !bytes.Equal(stored, body) {
		t.Fatalf("stored file: status %d, %d bytes, equal %v", fres.StatusCode, len(stored), bytes.Equal(stored, body))
	}

	// It came through the stream, not from storage after the fact, and
	// the stream carried it as S2 blocks of about half its size when asked.
	if got := scrape(t, env.URL+"/metrics")[`sentinel_live_responses_total{outcome="live"}`]; got != 1 {
		t.Fatalf("sentinel_live_responses_total{outcome=\"live\"} = %v, want 1", got)
	}
	sr := <-streamed
	if sr.err != nil {
		t.Fatalf("read the stream: %v", sr.err)
	}
	relayed, wire, blocks := sr.data, sr.wire, sr.blocks
	compressed := blocks > 0 && wire < len(body)*2/3
	if !bytes.Equal(relayed, body) || compressed != (compression == "s2") || compression == "none" && wire != len(body) {
		t.Fatalf("stream: %d bytes relayed (equal to the body: %v) in %d bytes, %d S2 blocks; want the body, compressed %v",
			len(relayed), bytes.Equal(relayed, body), wire, blocks, compression == "s2")
	}

	// A small export finishes within the grace: Content-Length, ETag.
	sres, small := env.Do(http.MethodGet, exportPath+"?timezone=Europe/Berlin&event_type=nothing-matches", key, nil)
	if sres.StatusCode != http.StatusOK || sres.ContentLength != int64(len(small)) || sres.Header.Get("ETag") == "" {
		t.Fatalf("small export: status %d, Content-Length %d, ETag %q", sres.StatusCode, sres.ContentLength, sres.Header.Get("ETag"))
	}
}

// streamRead is what an export's live stream carried.
type streamRead struct {
	data         []byte // the file's bytes, decoded
	wire, blocks int    // bytes Redis held for them; how many entries were S2 blocks
	err          error
}

// readStream reads export id's live stream from its start to its end entry.
func readStream(rdb redis.UniversalClient, id string) (sr streamRead) {
	r := &live.Reader{Redis: rdb}
	after := "0"
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		es, err := r.Next(context.Background(), id, after, time.Second)
		if err != nil {
			return streamRead{err: err}
		}
		for _, e := range es {
			after = e.ID
			switch e.Kind {
			case live.KindEnd:
				return sr
			case live.KindData:
				b, err := e.Bytes(nil)
				if err != nil {
					return streamRead{err: err}
				}
				sr.data, sr.wire = append(sr.data, b...), sr.wire+len(e.Data)
				if e.Compressed {
					sr.blocks++
				}
			}
		}
	}
	return streamRead{err: fmt.Errorf("no end entry within a minute; %d bytes read", len(sr.data))}
}
