// Command exportbench measures Audit Sentinel's export endpoint end to end
// from a client's point of view: time from sending
// GET /v5/audit-sentinel/events/export to the last byte of the file, the
// rows and bytes per second that makes, and whether the file holds the rows
// it should. bench/run.sh drives it; it talks to one API base URL and,
// for choosing filters, to the benchmark's PostgreSQL database.
//
//	exportbench export  -base URL -key KEY -query Q -expect-rows N -name NAME
//	                    [-cpu NAME=PID,NAME=tree:PID,... -cpu-out FILE -run I -clk-tck T]
//	exportbench windows -dsn DSN -tenant T -rows N -count K
//	exportbench latency -base URL -key KEY -dsn DSN -tenant T -rows N -count K
//	exportbench gen     -events N -seed S -ndjson FILE -csv FILE -csv-tenants T,...
//	exportbench ingest  -base URL -key KEY -file NDJSON -expect N -name NAME
//	exportbench feed    -base URL -key KEY -limit L -expect N -name NAME
//	exportbench link    -listen ADDR -to ADDR -mbit M
//	exportbench report  -in RESULTS.jsonl > table.md
//
// Every measurement prints one JSON object on stdout (see result).
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/coding"
)

const exportPath = "/v5/audit-sentinel/events/export"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: exportbench export|windows|latency|gen|ingest|feed|link|report [flags]")
		os.Exit(2)
	}
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "export":
		err = cmdExport(ctx, os.Args[2:])
	case "windows":
		err = cmdWindows(ctx, os.Args[2:])
	case "latency":
		err = cmdLatency(ctx, os.Args[2:])
	case "gen":
		err = cmdGen(os.Args[2:])
	case "ingest":
		err = cmdIngest(ctx, os.Args[2:])
	case "feed":
		err = cmdFeed(ctx, os.Args[2:])
	case "link":
		err = cmdLink(os.Args[2:])
	case "report":
		err = cmdReport(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "exportbench %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// result is one measured export.
type result struct {
	Name       string  `json:"name"`
	Status     int     `json:"status"`     // status of the first response
	Polled     bool    `json:"polled"`     // 202 → status → file
	Seconds    float64 `json:"seconds"`    // GET to last byte
	TTFBMs     float64 `json:"ttfb_ms"`    // GET to first byte of the 200 body
	Bytes      int64   `json:"bytes"`      // body size
	Rows       int64   `json:"rows"`       // data rows verified in the file
	RowsPerSec float64 `json:"rows_per_s"` // Rows / Seconds
	MBPerSec   float64 `json:"mb_per_s"`   // Bytes / Seconds / 1e6
	ExportID   string  `json:"export_id"`  // X-Export-Id
	SHA256OK   bool    `json:"sha256_ok"`  // body hash = X-Checksum-SHA256 (header or trailer)
	wantSHA256 string  // X-Checksum-SHA256: checked after the clock stops
	Live       bool    `json:"live"`      // streamed while it rendered (chunked, digest in trailers)
	FileType   string  `json:"file_type"` // csv, ndjson, parquet or pdf
	// Compression is the query's compression (gzip, zstd; empty: none):
	// Bytes are then the compressed bytes, as stored.
	Compression string `json:"compression,omitempty"`
	// ContentEncoding is the response's content coding (-accept-encoding):
	// the body was decoded as it arrived and its SHA-256 checked before
	// the clock stopped; Bytes are the decoded (stored) bytes, WireBytes
	// the coded ones received.
	ContentEncoding string `json:"content_encoding,omitempty"`
	WireBytes       int64  `json:"wire_bytes,omitempty"`
	ServerRows      int64  `json:"server_rows"` // X-Export-Rows
	// SelfAuditRows of Rows are the service's records of its own use
	// (system_source audit_sentinel: earlier exports of the tenant);
	// -expect-rows counts the others.
	SelfAuditRows int64 `json:"self_audit_rows"`
	// CPU time of exportbench itself from just before the GET to the last
	// byte (export only; the file check after it is not counted).
	UserMs float64 `json:"user_ms"`
	SysMs  float64 `json:"sys_ms"`
}

type client struct {
	base string
	key  string
	hc   *http.Client
	// acceptEncoding, when set, is sent with the export's and the file's
	// GET (the transport itself neither asks for nor decodes any coding).
	acceptEncoding string
}

func newClient(base, key string) *client {
	return &client{base: strings.TrimRight(base, "/"), key: key, hc: &http.Client{
		Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4},
	}}
}

// delete deletes export id (its file and its record).
func (c *client) delete(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("delete: the response named no export (X-Export-Id)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.base+"/v5/audit-sentinel/exports/"+url.PathEscape(id), nil)
	if err != nil {
		return err
	}
	req.Header.Set("apikey", c.key)
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("DELETE export %s: status %d: %s", id, resp.StatusCode, b)
	}
	return nil
}

func (c *client) get(ctx context.Context, path string, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("apikey", c.key)
	if c.acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", c.acceptEncoding)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return c.hc.Do(req)
}

// fetch runs one export: GET with Prefer: wait, then, on 202, polls the
// status URL and fetches the file. The body goes to sink; the clock stops
// at its last byte. Like psql \copy on the other side of the comparison,
// it only stores the body: the caller hashes it afterwards (checkSHA256),
// so the client's checks cost the measurement nothing.
func (c *client) fetch(ctx context.Context, query string, wait int, sink io.Writer) (result, error) {
	var r result
	start := time.Now()
	resp, err := c.get(ctx, exportPath+"?"+query, map[string]string{"Prefer": fmt.Sprintf("wait=%d", wait)})
	if err != nil {
		return r, err
	}
	r.Status = resp.StatusCode
	if resp.StatusCode == http.StatusAccepted {
		r.Polled = true
		loc := resp.Header.Get("Location")
		_, _ = io.Copy(io.Discard, resp.Body) // a 202 body is a status we do not need
		resp.Body.Close()
		if loc == "" {
			return r, errors.New("202 without Location")
		}
		if resp, err = c.poll(ctx, loc); err != nil {
			return r, err
		}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return r, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	r.TTFBMs = ms(time.Since(start))
	header := func(k string) string {
		if v := resp.Header.Get(k); v != "" {
			return v
		}
		return resp.Trailer.Get(k)
	}
	r.ContentEncoding = resp.Header.Get("Content-Encoding")
	var n int64
	if r.ContentEncoding == "" {
		n, err = io.Copy(sink, resp.Body)
		if err != nil {
			return r, fmt.Errorf("read body after %d bytes: %w", n, err)
		}
		if cl := resp.ContentLength; cl >= 0 && cl != n {
			return r, fmt.Errorf("read %d bytes, Content-Length says %d", n, cl)
		}
	} else if n, r.WireBytes, err = decodeChecked(resp, sink, header); err != nil {
		return r, err
	}
	el := time.Since(start)
	r.Seconds = el.Seconds()
	r.Bytes = n
	r.ExportID = resp.Header.Get("X-Export-Id")
	// A CSV streamed while it rendered sends its checksum and row count as
	// trailers, known once the body is read; it has no ETag (a coded
	// stored file has no Content-Length either).
	r.Live = resp.Header.Get("ETag") == ""
	r.wantSHA256 = header("X-Checksum-SHA256")
	r.ServerRows, _ = strconv.ParseInt(header("X-Export-Rows"), 10, 64)
	r.MBPerSec = float64(n) / el.Seconds() / 1e6
	return r, nil
}

// decodeChecked decodes a content-coded body into sink as it arrives and
// checks the decoded bytes' SHA-256 against X-Checksum-SHA256 (always the
// decoded file's), all before the caller stops the clock: a client of a
// coded download has not got its file until it has decoded and checked it.
// It returns the decoded and the received (coded) byte counts.
func decodeChecked(resp *http.Response, sink io.Writer, header func(string) string) (n, wire int64, err error) {
	raw := &countingReader{r: resp.Body}
	ce := resp.Header.Get("Content-Encoding")
	if ce == "" {
		return 0, 0, errors.New("the answer is not content-coded")
	}
	body, err := coding.NewReader(ce, raw) // as sentinelctl decodes
	if err != nil {
		return 0, 0, err
	}
	defer body.Close()
	h := sha256.New()
	n, err = io.Copy(io.MultiWriter(sink, h), body)
	if err != nil {
		return n, raw.n, fmt.Errorf("decode body after %d bytes (%d received): %w", n, raw.n, err)
	}
	if got, want := hex.EncodeToString(h.Sum(nil)), header("X-Checksum-SHA256"); got != want {
		return n, raw.n, fmt.Errorf("decoded body has SHA-256 %s, X-Checksum-SHA256 says %q", got, want)
	}
	return n, raw.n, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// poll follows a 202's status URL until the export is done, then GETs the
// file. A failed export is an error.
func (c *client) poll(ctx context.Context, loc string) (*http.Response, error) {
	for {
		resp, err := c.get(ctx, loc, nil)
		if err != nil {
			return nil, err
		}
		var st struct {
			Status  string `json:"status"`
			FileURL string `json:"file_url"`
			Error   any    `json:"error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("status %s: %w", loc, err)
		}
		switch st.Status {
		case "completed":
			return c.get(ctx, st.FileURL, nil)
		case "failed", "expired":
			return nil, fmt.Errorf("export %s: %s (%v)", loc, st.Status, st.Error)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// countCSV returns the data rows of a CSV file (records minus the header),
// checking that every record has the header's number of fields, and how
// many of them are the service's records of its own use (a field is
// audit_sentinel, the self-audit system_source, which no seeded event has):
// each export of a tenant adds some to its later exports.
func countCSV(r io.Reader) (rows, selfAudit int64, err error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<20))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return 0, 0, fmt.Errorf("csv header: %w", err)
	}
	cr.FieldsPerRecord = len(header)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, selfAudit, nil
		}
		if err != nil {
			return rows, selfAudit, fmt.Errorf("csv row %d: %w", rows+1, err)
		}
		rows++
		if slices.Contains(rec, audit.SelfAuditSource) {
			selfAudit++
		}
	}
}

func cmdExport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	base := fs.String("base", "", "API base URL, e.g. http://127.0.0.1:8080")
	key := fs.String("key", "", "API key")
	query := fs.String("query", "", "export query string (file_type=csv&...)")
	expect := fs.Int64("expect-rows", -1, "rows the file must hold besides the service's own records "+
		"(system_source audit_sentinel) (-1: do not check)")
	name := fs.String("name", "export", "label of the measurement")
	wait := fs.Int("wait", 120, "Prefer: wait=N seconds")
	out := fs.String("out", "", "keep the body in this file (default: a temp file, removed)")
	del := fs.Bool("delete", false, "DELETE the export once its file is verified (keeps the S3 server's "+
		"disk, and its write-back, from growing run after run)")
	cpu := fs.String("cpu", "", "NAME=PID,NAME=tree:PID,NAME=unknown,...: write the CPU time each used "+
		"(tree: with its live children) from just before the GET to the last byte to -cpu-out")
	cpuOut := fs.String("cpu-out", "", "file for -cpu's kind \"cpu\" JSON record")
	acceptEncoding := fs.String("accept-encoding", "", "send this Accept-Encoding (zstd, gzip) and decode "+
		"and check the body before the clock stops")
	run := fs.Int("run", 0, "run index for -cpu's record")
	clkTck := fs.Int64("clk-tck", 100, "clock ticks per second of /proc/PID/stat (getconf CLK_TCK)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	acct := &cpuAccount{clkTck: *clkTck}
	if *cpu != "" {
		if *cpuOut == "" || *clkTck <= 0 {
			return errors.New("-cpu needs -cpu-out and a positive -clk-tck")
		}
		var err error
		if acct.procs, err = parseCPUProcs(*cpu); err != nil {
			return err
		}
	}
	if *base == "" || *key == "" {
		return errors.New("-base and -key are required")
	}
	q, err := url.ParseQuery(*query)
	if err != nil {
		return fmt.Errorf("-query: %w", err)
	}
	fileType := q.Get("file_type")
	if fileType == "" {
		fileType = "csv"
	}
	path := *out
	if path == "" {
		f, err := os.CreateTemp("", "exportbench-*."+fileType)
		if err != nil {
			return err
		}
		path = f.Name()
		f.Close()
		defer os.Remove(path)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// Like curl -o: the body goes to a file. The file is verified after
	// the clock has stopped, so parsing costs the measurement nothing.
	bw := bufio.NewWriterSize(f, 1<<20)
	c := newClient(*base, *key)
	c.acceptEncoding = *acceptEncoding
	if err := acct.start(); err != nil {
		return err
	}
	r, err := c.fetch(ctx, *query, *wait, bw)
	if err != nil {
		return err
	}
	var cpuRec []byte
	if r.UserMs, r.SysMs, cpuRec, err = acct.stop(*name, *run); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	r.Name, r.FileType, r.Compression = *name, fileType, q.Get("compression")
	if err := verify(&r, f, *expect); err != nil {
		return err
	}
	if cpuRec != nil {
		if err := os.WriteFile(*cpuOut, cpuRec, 0o644); err != nil {
			return err
		}
	}
	if *del {
		if err := c.delete(ctx, r.ExportID); err != nil {
			return fmt.Errorf("%s: %w", r.Name, err)
		}
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// verify checks the file in f against r's headers and the expected rows,
// and sets r.Rows and r.RowsPerSec.
func verify(r *result, f *os.File, expect int64) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	h := sha256.New()
	// The hash covers the bytes as stored (compressed ones too); the rows
	// are counted in what they decompress to.
	body := io.Reader(io.TeeReader(f, h))
	if r.Compression != "none" { // the compression= names are the content codings'
		zr, err := coding.NewReader(r.Compression, body)
		if err != nil {
			return fmt.Errorf("%s: %w", r.Name, err)
		}
		defer zr.Close()
		body = zr
	}
	switch r.FileType {
	case "csv":
		n, self, err := countCSV(body)
		if err != nil {
			return fmt.Errorf("%s: %w", r.Name, err)
		}
		r.Rows, r.SelfAuditRows = n, self
	case "ndjson":
		// Every line one JSON object with an id.
		err := eachJSONLine(body, func(i int64, e *lineEvent) error {
			if e.ID == "" {
				return fmt.Errorf("line %d has no id", i)
			}
			r.Rows++
			if e.SystemSource == audit.SelfAuditSource {
				r.SelfAuditRows++
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: %w", r.Name, err)
		}
	case "parquet":
		// Random access (the footer first): the file itself, not the
		// stream; the hash reads it below.
		n, self, err := countParquet(f)
		if err != nil {
			return fmt.Errorf("%s: %w", r.Name, err)
		}
		r.Rows, r.SelfAuditRows = n, self
	case "pdf":
		head := make([]byte, 5)
		if _, err := io.ReadFull(body, head); err != nil || string(head) != "%PDF-" {
			return fmt.Errorf("%s: body is not a PDF", r.Name)
		}
		// A PDF's rows are what the worker counted into it.
		r.Rows = r.ServerRows
	}
	if _, err := io.Copy(h, f); err != nil { // what the check did not read
		return err
	}
	if r.checkSHA256([32]byte(h.Sum(nil))); !r.SHA256OK {
		return fmt.Errorf("%s: body SHA-256 does not match X-Checksum-SHA256", r.Name)
	}
	if r.Rows != r.ServerRows {
		return fmt.Errorf("%s: file holds %d rows, X-Export-Rows says %d", r.Name, r.Rows, r.ServerRows)
	}
	if expect >= 0 && r.Rows-r.SelfAuditRows != expect {
		return fmt.Errorf("%s: file holds %d rows (%d of them the service's own records), expected %d besides those",
			r.Name, r.Rows, r.SelfAuditRows, expect)
	}
	r.RowsPerSec = float64(r.Rows) / r.Seconds
	return nil
}

// checkSHA256 sets r.SHA256OK: whether sum, the body's SHA-256, is the
// server's X-Checksum-SHA256.
func (r *result) checkSHA256(sum [32]byte) {
	r.SHA256OK = r.wantSHA256 != "" && hex.EncodeToString(sum[:]) == r.wantSHA256
}

// window is a time range holding exactly Rows of a tenant's events.
type window struct {
	Start, End time.Time
	Rows       int64
}

// query is the export query string selecting w.
func (w window) query(fileType string) string {
	v := url.Values{}
	v.Set("file_type", fileType)
	v.Set("range_start", w.Start.UTC().Format(time.RFC3339Nano))
	v.Set("range_end", w.End.UTC().Format(time.RFC3339Nano))
	return v.Encode()
}

// windows picks count disjoint windows of rows consecutive events of
// tenant, spread evenly over its events. Events sharing a bound's instant
// fall inside the window too, so each window's exact count is re-read.
func windows(ctx context.Context, dsn, tenant string, rows, count int64) ([]window, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var total int64
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE tenant_id = $1`, tenant).Scan(&total); err != nil {
		return nil, err
	}
	if total < rows*count {
		return nil, fmt.Errorf("tenant %s has %d events, fewer than %d windows of %d", tenant, total, count, rows)
	}
	stride := total / count
	var out []window
	for i := range count {
		var lo, hi int64
		err := db.QueryRowContext(ctx, `SELECT min(occurred_at), max(occurred_at) FROM (
			SELECT occurred_at FROM events WHERE tenant_id = $1
			ORDER BY occurred_at, id OFFSET $2 LIMIT $3) w`, tenant, i*stride, rows).Scan(&lo, &hi)
		if err != nil {
			return nil, fmt.Errorf("window %d: %w", i, err)
		}
		var n int64
		err = db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE tenant_id = $1
			AND occurred_at BETWEEN $2 AND $3`, tenant, lo, hi).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("window %d: count: %w", i, err)
		}
		out = append(out, window{Start: time.UnixMicro(lo), End: time.UnixMicro(hi), Rows: n})
	}
	return out, nil
}

func cmdWindows(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("windows", flag.ContinueOnError)
	dsn := fs.String("dsn", "", "PostgreSQL URL of the benchmark database")
	tenant := fs.String("tenant", "", "tenant")
	rows := fs.Int64("rows", 1000, "events per window")
	count := fs.Int64("count", 1, "windows")
	fileType := fs.String("file-type", "csv", "file_type of the printed queries")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ws, err := windows(ctx, *dsn, *tenant, *rows, *count)
	if err != nil {
		return err
	}
	// One line per window: ROWS<TAB>QUERY.
	for _, w := range ws {
		fmt.Printf("%d\t%s\n", w.Rows, w.query(*fileType))
	}
	return nil
}

// latencyResult summarises a series of small exports.
type latencyResult struct {
	Name     string    `json:"name"`
	Count    int       `json:"count"`
	Rows     int64     `json:"rows_each"`
	MedianMs float64   `json:"median_ms"`
	P90Ms    float64   `json:"p90_ms"`
	MinMs    float64   `json:"min_ms"`
	MaxMs    float64   `json:"max_ms"`
	All200   bool      `json:"all_200"`
	Accepted int       `json:"accepted"` // answered 202, not 200
	Samples  []float64 `json:"samples_ms"`
}

func cmdLatency(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("latency", flag.ContinueOnError)
	base := fs.String("base", "", "API base URL")
	key := fs.String("key", "", "API key")
	dsn := fs.String("dsn", "", "PostgreSQL URL of the benchmark database")
	tenant := fs.String("tenant", "", "tenant the key belongs to")
	rows := fs.Int64("rows", 1000, "events per export")
	count := fs.Int64("count", 30, "sequential exports, each with a different range")
	warmup := fs.Int64("warmup", 2, "unmeasured exports first (connections, caches)")
	wait := fs.Int("wait", 20, "Prefer: wait=N seconds")
	name := fs.String("name", "latency", "label")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ws, err := windows(ctx, *dsn, *tenant, *rows, *count+*warmup)
	if err != nil {
		return err
	}
	c := newClient(*base, *key)
	res := latencyResult{Name: *name, Rows: *rows, All200: true}
	for i, w := range ws {
		var buf strings.Builder
		r, err := c.fetch(ctx, w.query("csv"), *wait, &buf)
		if err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
		r.checkSHA256(sha256.Sum256([]byte(buf.String())))
		r.Name, r.FileType = fmt.Sprintf("%s[%d]", *name, i), "csv"
		n, _, err := countCSV(strings.NewReader(buf.String()))
		if err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
		if n != w.Rows || !r.SHA256OK {
			return fmt.Errorf("export %d: %d rows (want %d), sha256 ok %v", i, n, w.Rows, r.SHA256OK)
		}
		if int64(i) < *warmup {
			continue
		}
		if r.Status != http.StatusOK || r.Polled {
			res.All200 = false
			res.Accepted++
		}
		res.Samples = append(res.Samples, r.Seconds*1000)
	}
	s := slices.Clone(res.Samples)
	slices.Sort(s)
	res.Count = len(s)
	res.MedianMs = percentile(s, 50)
	res.P90Ms = percentile(s, 90)
	res.MinMs, res.MaxMs = s[0], s[len(s)-1]
	return json.NewEncoder(os.Stdout).Encode(res)
}

// percentile of sorted s, nearest rank.
func percentile(s []float64, p float64) float64 {
	if len(s) == 0 {
		return 0
	}
	if p == 50 && len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}
