package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/manifest"
)

// testSeed is the server's manifest key in these tests.
var testSeed = bytes.Repeat([]byte{42}, ed25519.SeedSize)

func testPublicKey() string {
	return base64.StdEncoding.EncodeToString(ed25519.NewKeyFromSeed(testSeed).Public().(ed25519.PublicKey))
}

// server boots a real Audit Sentinel with events for tenant acme and
// returns it with acme's key.
func server(t *testing.T, o apptest.Options) (*apptest.Env, string) {
	t.Helper()
	o.Env = map[string]string{"SIGNING_KEY": base64.StdEncoding.EncodeToString(testSeed)}
	env := apptest.Boot(t, o)
	key := env.Key("acme")
	var events []map[string]any
	base := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	for i := range 400 {
		events = append(events, map[string]any{
			"id":            fmt.Sprintf("evt-%04d", i),
			"occurred_at":   base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339Nano),
			"event_type":    []string{"assessment", "task"}[i%2],
			"sub_type":      "created",
			"system_source": "tests",
			"auditee_id":    fmt.Sprintf("user-%d", i%7),
			"description":   strings.Repeat("an audit event with enough text to make the file span many packets ", 2),
			"metadata":      map[string]any{"entity_id": fmt.Sprintf("ent-%d", i%3)},
		})
	}
	env.Ingest(key, events)
	return env, key
}

// cli runs sentinelctl in-process with the given environment.
func cli(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code = run(ctx, e, args)
	return code, out.String(), errb.String()
}

func mustCLI(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	code, out, errs := cli(t, vars, args...)
	if code != 0 {
		t.Fatalf("sentinelctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestExportCommand(t *testing.T) {
	for _, o := range []apptest.Options{{Database: "postgres", Storage: "s3"}, {Database: "sqlite", Storage: "file"}} {
		t.Run(o.Database+"+"+o.Storage, func(t *testing.T) {
			t.Parallel()
			env, key := server(t, o)
			dir := t.TempDir()
			out := filepath.Join(dir, "tasks.csv")
			// Server and key from the environment; flags from the endpoint.
			vars := map[string]string{"SENTINEL_URL": env.URL, "SENTINEL_API_KEY": key}
			stdout := mustCLI(t, vars, "export", "--event-type", "task", "--metadata", "entity_id=ent-1",
				"--range-start", "2026-04-10T00:00:00Z", "--locale", "de", "--timezone", "Europe/Zurich", "--poll", "50ms", "-o", out)
			var sum downloadSummary
			if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
				t.Fatalf("stdout is not JSON when not a terminal: %v\n%s", err, stdout)
			}
			if sum.Path != out || sum.SHA256 != sha256File(t, out) || sum.Rows != 67 || sum.ExportID == "" || sum.Resumed {
				t.Fatalf("summary %+v (file sha256 %s)", sum, sha256File(t, out))
			}
			if _, err := os.Stat(out + ".part"); !os.IsNotExist(err) {
				t.Fatalf("the .part file was left behind: %v", err)
			}
			b, _ := os.ReadFile(out)
			if lines := strings.Count(string(b), "\n"); lines != 68 {
				t.Fatalf("file has %d lines, want header + 67", lines)
			}

			// The same export again, by id, with flags instead of the
			// environment.
			out2 := filepath.Join(dir, "again.csv")
			mustCLI(t, nil, "exports", "pull", sum.ExportID, "--url", env.URL, "--api-key", key, "-o", out2)
			if sha256File(t, out2) != sum.SHA256 {
				t.Fatal("pull gave another file")
			}

			// Listing through every page.
			mustCLI(t, vars, "export", "--event-type", "assessment", "-o", filepath.Join(dir, "a.csv"), "--poll", "50ms")
			mustCLI(t, vars, "export", "--file-type", "pdf", "--auditee-id", "user-1", "-o", filepath.Join(dir, "u.pdf"), "--poll", "50ms")
			var l httpapi.ArchiveList
			if err := json.Unmarshal([]byte(mustCLI(t, vars, "exports", "list", "--limit", "1", "--all")), &l); err != nil {
				t.Fatal(err)
			}
			if len(l.Exports) != 3 || l.NextCursor != "" || l.Exports[2].ID != sum.ExportID || l.Exports[0].FileType != "pdf" {
				t.Fatalf("list --all: %+v", l)
			}
			if err := json.Unmarshal([]byte(mustCLI(t, vars, "exports", "list", "--status", "completed", "--file-type", "csv", "--limit", "1")), &l); err != nil {
				t.Fatal(err)
			}
			if len(l.Exports) != 1 || l.NextCursor == "" {
				t.Fatalf("one page: %+v", l)
			}

			// Presigned links: S3 only.
			code, stdout, stderr := cli(t, vars, "exports", "url", sum.ExportID)
			if o.Storage == "s3" {
				var d httpapi.DownloadURL
				if code != 0 || json.Unmarshal([]byte(stdout), &d) != nil || !strings.HasPrefix(d.URL, env.S3.Endpoint) {
					t.Fatalf("exports url: %d %s %s", code, stdout, stderr)
				}
			} else if code != 1 || !strings.Contains(stderr, "presigned download links need S3 storage") {
				t.Fatalf("exports url on file storage: %d %s", code, stderr)
			}

			// Delete, then it is gone.
			mustCLI(t, vars, "exports", "delete", sum.ExportID)
			code, _, stderr = cli(t, vars, "exports", "pull", sum.ExportID, "-o", filepath.Join(dir, "gone.csv"))
			if code != 1 || !strings.Contains(stderr, "not found") {
				t.Fatalf("pull after delete: %d %s", code, stderr)
			}
		})
	}
}

// cutter is a proxy in front of the server that breaks chosen downloads:
// it cuts the connection after cutAt bytes of a file body (while cuts > 0;
// half the body when cutAt is 0) or flips one byte of it. accept, when
// set, replaces the Accept-Encoding the server sees: a server that only
// offers that coding.
type cutter struct {
	mu       sync.Mutex
	cuts     int
	cutAt    int
	flip     bool
	badSum   bool
	accept   string
	requests []http.Header
	codings  []string // the Content-Encoding of each file response
}

func (c *cutter) start(t *testing.T, target string) string {
	u, _ := url.Parse(target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/file") {
			proxy.ServeHTTP(w, r)
			return
		}
		c.mu.Lock()
		c.requests = append(c.requests, r.Header.Clone())
		cut := c.cuts > 0
		if cut {
			c.cuts--
		}
		flip, badSum := c.flip, c.badSum
		if c.accept != "" {
			r.Header.Set("Accept-Encoding", c.accept)
		}
		c.mu.Unlock()
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		c.mu.Lock()
		c.codings = append(c.codings, rec.Header().Get("Content-Encoding"))
		cutAt := c.cutAt
		if cutAt == 0 {
			cutAt = len(body) / 2
		}
		c.mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		if badSum {
			w.Header().Set("X-Checksum-SHA256", strings.Repeat("0", 64))
		}
		if flip && len(body) > 10 {
			body = bytes.Clone(body)
			body[10] ^= 0x20
		}
		w.WriteHeader(rec.Code)
		if cut && len(body) > cutAt {
			w.Write(body[:cutAt])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // the connection drops mid-body
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestDownloadResumeAndChecksum(t *testing.T) {
	env, key := server(t, apptest.Options{Database: "sqlite", Storage: "file"})
	vars := map[string]string{"SENTINEL_API_KEY": key}
	dir := t.TempDir()
	// Make the export through the server itself.
	first := filepath.Join(dir, "first.csv")
	var sum downloadSummary
	if err := json.Unmarshal([]byte(mustCLI(t, vars, "export", "--url", env.URL, "-o", first, "--poll", "50ms")), &sum); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(first)
	if fi.Size() < 20_000 {
		t.Fatalf("file of %d bytes is too small to interrupt meaningfully", fi.Size())
	}

	t.Run("sent in zstd, decoded", func(t *testing.T) {
		c := &cutter{}
		out := filepath.Join(dir, "zstd.csv")
		var got downloadSummary
		if err := json.Unmarshal([]byte(mustCLI(t, vars, "exports", "pull", sum.ExportID, "--url", c.start(t, env.URL), "-o", out)), &got); err != nil {
			t.Fatal(err)
		}
		if got.Resumed || got.SHA256 != sum.SHA256 || sha256File(t, out) != sum.SHA256 {
			t.Fatalf("summary %+v", got)
		}
		if len(c.requests) != 1 || c.requests[0].Get("Accept-Encoding") != "zstd, gzip" || c.codings[0] != "zstd" {
			t.Fatalf("requests %v, codings %v", c.requests, c.codings)
		}
	})

	t.Run("a coded transfer interrupted resumes with the stored bytes", func(t *testing.T) {
		// gzip decodes as it arrives, so the cut leaves a prefix behind.
		c := &cutter{cuts: 1, accept: "gzip"}
		proxy := c.start(t, env.URL)
		out := filepath.Join(dir, "coded-cut.csv")
		code, _, stderr := cli(t, vars, "exports", "pull", sum.ExportID, "--url", proxy, "-o", out, "--attempts", "1")
		if code != 1 || !strings.Contains(stderr, "run again to resume") {
			t.Fatalf("interrupted run: exit %d, %s", code, stderr)
		}
		fi, err := os.Stat(out + ".part")
		if err != nil || fi.Size() == 0 || fi.Size() >= sum.Bytes || c.codings[0] != "gzip" {
			t.Fatalf(".part after the interruption: %v %v; codings %v", fi, err, c.codings)
		}
		stdout := mustCLI(t, vars, "exports", "pull", sum.ExportID, "--url", proxy, "-o", out)
		var got downloadSummary
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatal(err)
		}
		if !got.Resumed || sha256File(t, out) != sum.SHA256 || len(c.requests) != 2 ||
			c.requests[1].Get("Range") != fmt.Sprintf("bytes=%d-", fi.Size()) || c.codings[1] != "" {
			t.Fatalf("resumed run: %+v; requests %v, codings %v", got, c.requests, c.codings)
		}
	})

	t.Run("interrupted and resumed in one run", func(t *testing.T) {
		c := &cutter{cuts: 1, cutAt: 7000, accept: "identity"}
		out := filepath.Join(dir, "resumed.csv")
		stdout := mustCLI(t, vars, "exports", "pull", sum.ExportID, "--url", c.start(t, env.URL), "-o", out, "--retry-delay", "10ms")
		var got downloadSummary
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatal(err)
		}
		if !got.Resumed || got.SHA256 != sum.SHA256 || sha256File(t, out) != sum.SHA256 {
			t.Fatalf("summary %+v", got)
		}
		if len(c.requests) != 2 || c.requests[0].Get("Range") != "" ||
			c.requests[1].Get("Range") != "bytes=7000-" || c.requests[1].Get("If-Range") != `"`+sum.SHA256+`"` {
			t.Fatalf("requests: %v", c.requests)
		}
	})

	t.Run("interrupted, then resumed by the next run", func(t *testing.T) {
		c := &cutter{cuts: 1, cutAt: 5000, accept: "identity"}
		proxy := c.start(t, env.URL)
		out := filepath.Join(dir, "later.csv")
		code, _, stderr := cli(t, vars, "exports", "pull", sum.ExportID, "--url", proxy, "-o", out, "--attempts", "1")
		if code != 1 || !strings.Contains(stderr, "run again to resume") {
			t.Fatalf("interrupted run: exit %d, %s", code, stderr)
		}
		if fi, err := os.Stat(out + ".part"); err != nil || fi.Size() != 5000 {
			t.Fatalf(".part after the interruption: %v %v", fi, err)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatal("an incomplete file was put in place")
		}
		mustCLI(t, vars, "exports", "pull", sum.ExportID, "--url", proxy, "-o", out)
		if sha256File(t, out) != sum.SHA256 || c.requests[1].Get("Range") != "bytes=5000-" {
			t.Fatalf("second run: requests %v", c.requests)
		}
	})

	t.Run("a part of another file is replaced", func(t *testing.T) {
		c := &cutter{}
		out := filepath.Join(dir, "stale.csv")
		if err := os.WriteFile(out+".part", []byte("not this export's bytes"), 0o644); err != nil {
			t.Fatal(err)
		}
		// The ETag in If-Range matches, so the server answers 206 and the
		// foreign prefix would survive — unless the digest check catches it.
		code, _, stderr := cli(t, vars, "exports", "pull", sum.ExportID, "--url", c.start(t, env.URL), "-o", out)
		if code != 1 || !strings.Contains(stderr, "corrupt") {
			t.Fatalf("foreign prefix: exit %d, %s", code, stderr)
		}
		if _, err := os.Stat(out + ".part"); !os.IsNotExist(err) {
			t.Fatal("a corrupt .part was kept")
		}
		// Having deleted it, the next run starts afresh and succeeds.
		mustCLI(t, vars, "exports", "pull", sum.ExportID, "--url", c.start(t, env.URL), "-o", out)
		if sha256File(t, out) != sum.SHA256 {
			t.Fatal("fresh download after a corrupt part")
		}
	})

	for _, accept := range []string{"identity", "zstd", "gzip"} {
		t.Run("a flipped byte in transit, "+accept, func(t *testing.T) {
			c := &cutter{flip: true, accept: accept}
			out := filepath.Join(dir, "flipped-"+accept+".csv")
			code, _, stderr := cli(t, vars, "exports", "pull", sum.ExportID, "--url", c.start(t, env.URL), "-o", out)
			if code != 1 || !strings.Contains(stderr, "checksum mismatch") || !strings.Contains(stderr, "corrupt") {
				t.Fatalf("flipped byte: exit %d, %s", code, stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatal("a corrupt file was put in place")
			}
			if want := strings.TrimPrefix(accept, "identity"); len(c.codings) != 1 || c.codings[0] != want {
				t.Fatalf("codings %v, want one %q answer (a corrupt coded body is not retried)", c.codings, want)
			}
		})
	}

	t.Run("the server's digest header disagrees", func(t *testing.T) {
		c := &cutter{badSum: true}
		code, _, stderr := cli(t, vars, "exports", "pull", sum.ExportID, "--url", c.start(t, env.URL), "-o", filepath.Join(dir, "h.csv"))
		if code != 1 || !strings.Contains(stderr, "X-Checksum-SHA256") {
			t.Fatalf("bad header: exit %d, %s", code, stderr)
		}
	})
}

func TestVerifyCommand(t *testing.T) {
	env, key := server(t, apptest.Options{Database: "postgres", Storage: "s3"})
	vars := map[string]string{"SENTINEL_URL": env.URL, "SENTINEL_API_KEY": key}
	dir := t.TempDir()
	file, mf := filepath.Join(dir, "e.csv"), filepath.Join(dir, "e.manifest.json")
	var sum downloadSummary
	if err := json.Unmarshal([]byte(mustCLI(t, vars, "export", "--sub-type", "created", "-o", file, "--poll", "50ms")), &sum); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, vars, "exports", "manifest", sum.ExportID, "-o", mf)
	b, _ := os.ReadFile(mf)
	m, err := manifest.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if m.ExportID != sum.ExportID || m.TenantID != "acme" || m.SHA256 != sum.SHA256 || m.RowCount != 400 ||
		m.FirstEventID != "evt-0000" || m.LastEventID != "evt-0399" || m.ServiceVersion == "" || m.ProducerVersion == "" ||
		m.KeyID != manifest.KeyID(ed25519.NewKeyFromSeed(testSeed).Public().(ed25519.PublicKey)) {
		t.Fatalf("manifest: %+v", m)
	}
	// Signed on request, deterministically: asking again gives the same bytes.
	if again := mustCLI(t, vars, "exports", "manifest", sum.ExportID); again != string(b) {
		t.Fatal("the manifest changed between two requests")
	}

	// The published key, fetched; and the same key given offline.
	out := mustCLI(t, vars, "verify", "--json=false", file, mf, "--keys-url", "/v5/audit-sentinel/signing-keys")
	if !strings.Contains(out, "VERIFIED") || !strings.Contains(out, "signature  OK") {
		t.Fatalf("verify with published keys:\n%s", out)
	}
	out = mustCLI(t, nil, "verify", "--json=false", file, mf, "--public-key", testPublicKey())
	if !strings.Contains(out, "VERIFIED") {
		t.Fatalf("verify offline:\n%s", out)
	}
	var jr verifyOutput
	if err := json.Unmarshal([]byte(mustCLI(t, nil, "verify", "--json", file, mf, "--public-key", testPublicKey())), &jr); err != nil || !jr.OK {
		t.Fatalf("verify --json: %+v %v", jr, err)
	}

	// A flipped byte in the file.
	data, _ := os.ReadFile(file)
	data[len(data)/2] ^= 0x01
	bad := filepath.Join(dir, "flipped.csv")
	os.WriteFile(bad, data, 0o644)
	code, out, stderr := cli(t, nil, "verify", "--json=false", bad, mf, "--public-key", testPublicKey())
	if code != 1 || !strings.Contains(out, "sha256     MISMATCH") || !strings.Contains(out, "signature  OK") ||
		!strings.Contains(stderr, "verification FAILED") {
		t.Fatalf("flipped byte: exit %d\n%s%s", code, out, stderr)
	}

	// Another key.
	other, _, _ := manifest.GenerateKey()
	otherPub := base64.StdEncoding.EncodeToString(other.Public().(ed25519.PublicKey))
	code, out, _ = cli(t, nil, "verify", "--json=false", file, mf, "--public-key", otherPub)
	if code != 1 || !strings.Contains(out, "sha256     OK") || !strings.Contains(out, "signature  UNKNOWN") {
		t.Fatalf("wrong key: exit %d\n%s", code, out)
	}

	// A manifest altered after signing.
	var raw map[string]any
	json.Unmarshal(b, &raw)
	raw["row_count"] = 399
	altered, _ := json.Marshal(raw)
	amf := filepath.Join(dir, "altered.json")
	os.WriteFile(amf, altered, 0o644)
	code, out, _ = cli(t, nil, "verify", "--json=false", file, amf, "--public-key", testPublicKey())
	if code != 1 || !strings.Contains(out, "signature  INVALID") {
		t.Fatalf("altered manifest: exit %d\n%s", code, out)
	}

	// As the README writes it: no key given, the keys come from
	// SENTINEL_URL, without an API key (they are public).
	out = mustCLI(t, map[string]string{"SENTINEL_URL": env.URL}, "verify", "--json=false", file, mf)
	if !strings.Contains(out, "VERIFIED") || !strings.Contains(out, "signature  OK") {
		t.Fatalf("verify FILE MANIFEST with SENTINEL_URL:\n%s", out)
	}

	// No key and no server: the file matches, but nothing is proven, and
	// the message says what to pass.
	code, out, stderr = cli(t, nil, "verify", "--json=false", file, mf)
	if code != 1 || !strings.Contains(out, "SKIPPED") || !strings.Contains(stderr, "no public key") ||
		!strings.Contains(stderr, "SENTINEL_URL") || !strings.Contains(stderr, "--public-key") {
		t.Fatalf("no key: exit %d\n%s%s", code, out, stderr)
	}
}

func TestClientErrors(t *testing.T) {
	env, key := server(t, apptest.Options{Database: "sqlite", Storage: "file"})
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		code int
		want string
	}{
		{"bad key", map[string]string{"SENTINEL_URL": env.URL, "SENTINEL_API_KEY": "sk_wrong"},
			[]string{"export", "-o", filepath.Join(dir, "x.csv")}, 1, "sentinelctl export: invalid API key"},
		{"bad key on list", nil, []string{"exports", "list", "--url", env.URL, "--api-key", "sk_wrong"}, 1, "invalid API key"},
		{"no server", map[string]string{"SENTINEL_API_KEY": key}, []string{"export", "-o", filepath.Join(dir, "x.csv")}, 1,
			"pass --url or set SENTINEL_URL"},
		{"no key", map[string]string{"SENTINEL_URL": env.URL}, []string{"exports", "list"}, 1, "pass --api-key or set SENTINEL_API_KEY"},
		{"bad parameter", map[string]string{"SENTINEL_URL": env.URL, "SENTINEL_API_KEY": key},
			[]string{"export", "--file-type", "xls", "-o", filepath.Join(dir, "x.xls")}, 1, "file_type: "},
		{"bad range", map[string]string{"SENTINEL_URL": env.URL, "SENTINEL_API_KEY": key},
			[]string{"export", "--range-start", "yesterday", "-o", filepath.Join(dir, "x.csv")}, 1, "range_start: "},
		{"bad metadata flag", map[string]string{"SENTINEL_URL": env.URL, "SENTINEL_API_KEY": key},
			[]string{"export", "--metadata", "entity_id", "-o", filepath.Join(dir, "x.csv")}, 1, "write KEY=VALUE"},
		{"bad list limit", map[string]string{"SENTINEL_URL": env.URL, "SENTINEL_API_KEY": key},
			[]string{"exports", "list", "--limit", "1000"}, 1, "limit: limit must be an integer from 1 to 500"},
		{"unknown export", map[string]string{"SENTINEL_URL": env.URL, "SENTINEL_API_KEY": key},
			[]string{"exports", "pull", "exp_nope", "-o", filepath.Join(dir, "x.csv")}, 1, "export exp_nope not found"},
		{"server down", map[string]string{"SENTINEL_URL": "http://127.0.0.1:1", "SENTINEL_API_KEY": key},
			[]string{"exports", "list"}, 1, "connection refused"},
		{"missing -o", map[string]string{"SENTINEL_URL": env.URL, "SENTINEL_API_KEY": key}, []string{"export"}, 2, "Usage: sentinelctl export"},
		{"verify missing args", nil, []string{"verify", "only-one"}, 2, "Usage: sentinelctl verify"},
		{"verify bad key", nil, []string{"verify", "a", "b", "--public-key", "xyz"}, 1, "--public-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := cli(t, tc.vars, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d (want %d), stderr:\n%s\nwant it to contain %q", code, tc.code, stderr, tc.want)
			}
		})
	}
	// Help exits 0 and explains.
	for _, args := range [][]string{{"export", "-h"}, {"exports", "list", "-h"}, {"exports", "pull", "-h"}, {"verify", "-h"}} {
		code, _, stderr := cli(t, nil, args...)
		if code != 0 || !strings.Contains(stderr, "Usage: sentinelctl "+strings.Join(args[:len(args)-1], " ")) {
			t.Errorf("%v: exit %d\n%s", args, code, stderr)
		}
	}
}

// A tenant at its limit of active exports gets 429 with Retry-After;
// `sentinelctl export` says so, waits as told and asks again instead of
// failing. A proxy in front of the real server answers the first export
// request with the server's own 429 body.
func TestExportWaitsWhenTheTenantIsAtItsLimit(t *testing.T) {
	env, key := server(t, apptest.Options{})
	target, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	var refused atomic.Int32
	rp := httputil.NewSingleHostReverseProxy(target)
	px := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/events/export") && refused.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":{"code":"too_many","message":"20 exports of this tenant are queued or running","request_id":"r1"}}`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(px.Close)
	out := filepath.Join(t.TempDir(), "tasks.csv")
	start := time.Now()
	code, stdout, stderr := cli(t, map[string]string{"SENTINEL_URL": px.URL, "SENTINEL_API_KEY": key},
		"export", "--event-type", "task", "--poll", "50ms", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if refused.Load() < 2 || time.Since(start) < time.Second || !strings.Contains(stderr, "limit of exports in progress") {
		t.Fatalf("requests %d after %v; stderr: %s\nwant a second request after Retry-After, announced", refused.Load(),
			time.Since(start), stderr)
	}
	var sum downloadSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum.Rows != 200 {
		t.Fatalf("summary %s: %+v, %v", stdout, sum, err)
	}
}
