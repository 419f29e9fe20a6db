package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/auditsentinel/sentinel/internal/httpapi"
)

func init() {
	register(command{"exports list", "list stored exports, newest first", cmdExportsList})
	register(command{"exports pull", "download a stored export (-o FILE), resuming and verifying", cmdExportsPull})
	register(command{"exports manifest", "fetch the signed manifest of an export", cmdExportsManifest})
	register(command{"exports url", "print a presigned download link (S3 storage)", cmdExportsURL})
	register(command{"exports delete", "delete an export and its file", cmdExportsDelete})
}

func cmdExportsList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "exports list", `exports list [--status S]… [--file-type T] [--limit N | --all]

Lists the tenant's exports, newest first, one page of --limit at a time;
--cursor continues where the previous page's next_cursor says, --all
follows every page. On a terminal it prints a table, otherwise (or with
--json) the API's JSON: {"exports": […], "next_cursor": "…"}.

Flags:`)
	co := addClientFlags(fs)
	var statuses stringList
	fs.Var(&statuses, "status", "queued, running, completed, failed or expired (repeatable)")
	fileType := fs.String("file-type", "", "csv, ndjson, parquet or pdf")
	schedule := fs.String("schedule-id", "", "only exports fired by this schedule")
	from := fs.String("created-from", "", "created at or after (ISO 8601)")
	to := fs.String("created-to", "", "created at or before (ISO 8601)")
	limit := fs.Int("limit", 0, "exports per page (server default 50, at most 500)")
	cur := fs.String("cursor", "", "continue after a previous page (its next_cursor)")
	all := fs.Bool("all", false, "follow next_cursor through every page")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		fs.Usage()
		return errUsage
	}
	q := url.Values{}
	for _, s := range statuses {
		q.Add("status", s)
	}
	for k, v := range map[string]string{"file_type": *fileType, "schedule_id": *schedule, "created_from": *from,
		"created_to": *to, "cursor": *cur} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if *limit != 0 {
		q.Set("limit", strconv.Itoa(*limit))
	}
	c, err := co.client(e)
	if err != nil {
		return err
	}
	var out httpapi.ArchiveList
	for {
		page, err := c.ListExports(ctx, q)
		if err != nil {
			return err
		}
		out.Exports = append(out.Exports, page.Exports...)
		out.NextCursor = page.NextCursor
		if !*all || page.NextCursor == "" {
			break
		}
		q.Set("cursor", page.NextCursor)
	}
	if out.Exports == nil {
		out.Exports = []httpapi.ArchiveEntry{}
	}
	if co.jsonOutput(e) {
		return printJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tTYPE\tROWS\tSIZE\tCREATED\tEXPIRES\tSCHEDULE")
	for _, x := range out.Exports {
		size, expires := "-", "-"
		if x.SizeBytes != nil {
			size = humanBytes(*x.SizeBytes)
		}
		if x.ExpiresAt != nil {
			expires = x.ExpiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", x.ID, x.Status, x.FileType, x.RowsWritten, size,
			x.CreatedAt.Format(time.RFC3339), expires, orDash(x.ScheduleID))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if out.NextCursor != "" {
		fmt.Fprintf(e.stderr, "more: --cursor %s (or --all)\n", out.NextCursor)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdExportsPull(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "exports pull", `exports pull ID -o FILE

Downloads the file of a completed export, as 'export' does: resumable
(FILE.part), and renamed to FILE only once its size and SHA-256 match.

Flags:`)
	co := addClientFlags(fs)
	do := addDownloadFlags(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || do.out == "" {
		fs.Usage()
		return errUsage
	}
	c, err := co.client(e)
	if err != nil {
		return err
	}
	st, err := c.GetExport(ctx, pos[0])
	if err != nil {
		return err
	}
	if st.Status != "completed" {
		return fmt.Errorf("export %s is %s; only a completed export has a file", st.ID, st.Status)
	}
	return download(ctx, e, c, co, do, st)
}

func cmdExportsManifest(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "exports manifest", `exports manifest ID [-o FILE]

Fetches the signed manifest of a completed export (JSON), to keep beside the
file and check later with 'sentinelctl verify FILE MANIFEST'.

Flags:`)
	co := addClientFlags(fs)
	out := fs.String("o", "", "write the manifest to `FILE` instead of stdout")
	id, c, err := idAndClient(e, fs, co, args)
	if err != nil {
		return err
	}
	b, _, err := c.Manifest(ctx, id)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = e.stdout.Write(b)
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}

func cmdExportsURL(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "exports url", `exports url ID [--ttl 15m]

Prints a presigned link that downloads the export's file straight from S3,
without an API key, until it expires. Needs S3 storage on the server.

Flags:`)
	co := addClientFlags(fs)
	ttl := fs.Duration("ttl", 0, "link lifetime, 1m to 24h (server default 15m)")
	id, c, err := idAndClient(e, fs, co, args)
	if err != nil {
		return err
	}
	d, err := c.DownloadURL(ctx, id, *ttl)
	if err != nil {
		return err
	}
	if co.jsonOutput(e) {
		return printJSON(e.stdout, d)
	}
	fmt.Fprintln(e.stdout, d.URL)
	fmt.Fprintf(e.stderr, "valid until %s\n", d.ExpiresAt.Format(time.RFC3339))
	return nil
}

func cmdExportsDelete(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "exports delete", `exports delete ID

Deletes a finished export: its file, then its record. A queued or running
export cannot be deleted (409).

Flags:`)
	co := addClientFlags(fs)
	id, c, err := idAndClient(e, fs, co, args)
	if err != nil {
		return err
	}
	if err := c.DeleteExport(ctx, id); err != nil {
		return err
	}
	if !co.jsonOutput(e) {
		fmt.Fprintf(e.stdout, "deleted export %s\n", id)
	}
	return nil
}
