package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/client"
	"github.com/auditsentinel/sentinel/internal/httpapi"
)

func init() {
	register(command{"export", "request an export, follow its progress and download it (-o FILE)", cmdExport})
}

// downloadOpts are the flags of every command that downloads a file.
type downloadOpts struct {
	out        string
	attempts   int
	retryDelay time.Duration
}

func addDownloadFlags(fs *flag.FlagSet) *downloadOpts {
	o := &downloadOpts{}
	fs.StringVar(&o.out, "o", "", "write the file to `FILE` (required); bytes go to FILE.part until verified")
	fs.IntVar(&o.attempts, "attempts", 5, "requests to make before giving up on an interrupted download")
	fs.DurationVar(&o.retryDelay, "retry-delay", time.Second, "pause before resuming an interrupted download")
	return o
}

const exportSynopsis = `export [flags] -o FILE

Requests an export of audit events, shows its progress (rows written of the
total) while the server renders it, then downloads it with a progress bar.
An interrupted download resumes where it stopped (with Range and If-Range),
also in a later run: FILE.part holds what has arrived. The file is renamed
to FILE only after its size and SHA-256 match what the server states
(X-Checksum-SHA256, Repr-Digest and the export's status).

Filters take the export endpoint's values; repeat a flag for several values
(they OR together; different flags AND):

  sentinelctl export --event-type assessment --event-type task \
      --metadata entity_id=497f6eca-6276-4993-bfeb-53cbbbba6f08 \
      --range-start 2026-01-01T00:00:00Z --file-type csv -o events.csv

Exit status: 0 when FILE is complete and verified, 1 on any failure (the
server's reason is printed as "param: message"), 2 on a usage error.

Flags:`

func cmdExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "export", exportSynopsis)
	co := addClientFlags(fs)
	do := addDownloadFlags(fs)
	var eventTypes, subTypes, auditees, sources, metadata stringList
	fs.Var(&eventTypes, "event-type", "event type to include (repeatable)")
	fs.Var(&subTypes, "sub-type", "sub-type to include (repeatable)")
	fs.Var(&auditees, "auditee-id", "auditee id to include (repeatable)")
	fs.Var(&sources, "system-source", "system source to include (repeatable)")
	fs.Var(&metadata, "metadata", "metadata filter `KEY=VALUE` (repeatable)")
	rangeStart := fs.String("range-start", "", "earliest occurred_at, inclusive (ISO 8601, e.g. 2026-01-01T00:00:00Z)")
	rangeEnd := fs.String("range-end", "", "latest occurred_at, inclusive (ISO 8601)")
	fileType := fs.String("file-type", "csv", "csv, ndjson, parquet or pdf")
	compression := fs.String("compression", "", "compress the file itself: gzip or zstd (csv, ndjson)")
	columns := fs.String("columns", "", "comma-separated columns, in order (csv, ndjson, parquet), e.g. event_id,occurred_at,metadata")
	delimiter := fs.String("delimiter", "", "CSV separator: comma, semicolon or tab")
	bom := fs.Bool("bom", false, "start a CSV with a UTF-8 byte order mark (for Excel)")
	locale := fs.String("locale", "", "language of the file, e.g. en, de (server default when empty)")
	timezone := fs.String("timezone", "", "IANA time zone of the times in the file, e.g. Europe/Zurich")
	poll := fs.Duration("poll", time.Second, "how often to ask for the export's progress")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || do.out == "" {
		fs.Usage()
		return errUsage
	}
	q := url.Values{}
	for name, vals := range map[string][]string{
		"event_type": eventTypes, "sub_type": subTypes, "auditee_id": auditees, "system_source": sources,
	} {
		for _, v := range vals {
			q.Add(name, v)
		}
	}
	for _, kv := range metadata {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("--metadata %q: write KEY=VALUE, e.g. entity_id=497f6eca-6276-4993-bfeb-53cbbbba6f08", kv)
		}
		q.Add("metadata["+k+"]", v)
	}
	for name, v := range map[string]string{
		"range_start": *rangeStart, "range_end": *rangeEnd, "file_type": *fileType, "locale": *locale, "timezone": *timezone,
		"compression": *compression, "columns": *columns, "delimiter": *delimiter,
	} {
		if v != "" {
			q.Set(name, v)
		}
	}
	if *bom {
		q.Set("bom", "true")
	}
	c, err := co.client(e)
	if err != nil {
		return err
	}
	c.Throttled = func(wait time.Duration, err *client.Error) {
		fmt.Fprintf(e.stderr, "the tenant is at its limit of exports in progress; asking again in %s\n", wait)
	}
	st, err := c.RequestExport(ctx, q)
	if err != nil {
		return err
	}
	if !co.jsonOutput(e) {
		fmt.Fprintf(e.stderr, "export %s %s\n", st.ID, st.Status)
	}
	bar := newProgress(e.stderr, "rendering", -1)
	st, err = c.WaitExport(ctx, st.ID, *poll, func(st httpapi.ExportStatus) {
		if st.RowsTotal != nil {
			bar.setTotal(*st.RowsTotal)
		} else if st.RowsEstimate != nil {
			bar.setTotal(*st.RowsEstimate) // the database's estimate (PostgreSQL)
		}
		bar.set(st.RowsWritten)
	})
	bar.done()
	if err != nil {
		return err
	}
	return download(ctx, e, c, co, do, st)
}

// downloadSummary is what export and exports pull print.
type downloadSummary struct {
	ExportID string `json:"export_id"`
	Path     string `json:"path"`
	Rows     int64  `json:"rows"`
	Bytes    int64  `json:"bytes"`
	SHA256   string `json:"sha256"`
	Resumed  bool   `json:"resumed"`
}

// download is the one download path: resume, progress, verification.
func download(ctx context.Context, e *env, c *client.Client, co *clientOpts, do *downloadOpts, st httpapi.ExportStatus) error {
	var size int64 = -1
	if st.SizeBytes != nil {
		size = *st.SizeBytes
	}
	bar := newByteProgress(e.stderr, "downloading", size)
	res, err := c.Download(ctx, st, do.out, client.DownloadOptions{
		Attempts: do.attempts, RetryDelay: do.retryDelay,
		Progress: func(done, _ int64) { bar.set(done) },
	})
	bar.done()
	if errors.Is(err, client.ErrChecksum) {
		return fmt.Errorf("the downloaded file is corrupt and was deleted: %w", err)
	}
	if err != nil {
		return err
	}
	sum := downloadSummary{ExportID: st.ID, Path: res.Path, Rows: st.RowsWritten, Bytes: res.Bytes, SHA256: res.SHA256,
		Resumed: res.Resumed}
	if co.jsonOutput(e) {
		return printJSON(e.stdout, sum)
	}
	fmt.Fprintf(e.stdout, "%s: %d rows, %s, sha256 %s verified (export %s)\n",
		sum.Path, sum.Rows, humanBytes(sum.Bytes), sum.SHA256, sum.ExportID)
	return nil
}
