package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// feedResult is one poller's read of a tenant's feed from the start to
// the end (kind "feed").
type feedResult struct {
	Kind       string  `json:"kind"`
	Name       string  `json:"name"`
	Seconds    float64 `json:"seconds"` // first GET to the last byte of the last page
	Pages      int     `json:"pages"`
	Limit      int     `json:"limit"`
	Bytes      int64   `json:"bytes"`
	Events     int64   `json:"events"`       // lines handed out
	Seeded     int64   `json:"seeded"`       // of them, not the service's own (system_source audit_sentinel)
	SelfAudit  int64   `json:"self_audit"`   // the service's own records (earlier exports of the tenant)
	EventsPerS float64 `json:"events_per_s"` // Events / Seconds
	Increasing bool    `json:"cursors_increasing"`
}

// cmdFeed reads the incremental feed (GET /events, format=ndjson) page
// after page from no cursor until X-Has-More is false, as fast as one
// poller can. The pages go to a file; once the clock has stopped the file
// is checked: every line a JSON event, no id twice, the seeded events
// counted, and every X-Next-Cursor after the one before it.
func cmdFeed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("feed", flag.ContinueOnError)
	base := fs.String("base", "", "API base URL")
	key := fs.String("key", "", "API key with scope events:read")
	limit := fs.Int("limit", 10_000, "events per page (the feed's maximum is 10,000)")
	expect := fs.Int64("expect", -1, "seeded events the feed must hand out (-1: do not check)")
	name := fs.String("name", "feed", "label of the measurement")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *base == "" || *key == "" {
		return errors.New("-base and -key are required")
	}
	f, err := os.CreateTemp("", "exportbench-feed-*.ndjson")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	c := newClient(*base, *key)
	r := feedResult{Kind: "feed", Name: *name, Limit: *limit}
	var cursors []string
	cursor := ""
	start := time.Now()
	for {
		q := url.Values{"format": {"ndjson"}, "limit": {strconv.Itoa(*limit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		resp, err := c.get(ctx, eventsPath+"?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			return fmt.Errorf("%s: page %d: status %d: %s", *name, r.Pages+1, resp.StatusCode, b)
		}
		n, err := io.Copy(bw, resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%s: page %d: %w", *name, r.Pages+1, err)
		}
		r.Bytes += n
		r.Pages++
		cursor = resp.Header.Get("X-Next-Cursor")
		if cursor == "" {
			return fmt.Errorf("%s: page %d has no X-Next-Cursor", *name, r.Pages)
		}
		cursors = append(cursors, cursor)
		if resp.Header.Get("X-Has-More") != "true" {
			break
		}
	}
	r.Seconds = time.Since(start).Seconds()
	if err := bw.Flush(); err != nil {
		return err
	}
	// The clock has stopped: check what was read.
	r.Increasing = true
	var prev audit.FeedCursor
	for i, s := range cursors {
		cur, err := parseFeedCursor(s)
		if err != nil {
			return fmt.Errorf("%s: cursor %d: %w", *name, i+1, err)
		}
		if i > 0 && !(prev.Tx < cur.Tx || (prev.Tx == cur.Tx && prev.ID < cur.ID)) {
			r.Increasing = false
		}
		prev = cur
	}
	if !r.Increasing {
		return fmt.Errorf("%s: the cursors handed out do not strictly increase", *name)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	seen := make(map[string]struct{}, max(*expect, 0))
	if err := eachJSONLine(f, func(i int64, e *lineEvent) error {
		if _, dup := seen[e.ID]; dup || e.ID == "" {
			return fmt.Errorf("line %d: id %q is empty or was handed out before", i, e.ID)
		}
		seen[e.ID] = struct{}{}
		r.Events++
		if e.SystemSource == audit.SelfAuditSource {
			r.SelfAudit++
		} else {
			r.Seeded++
		}
		return nil
	}); err != nil {
		return fmt.Errorf("%s: %w", *name, err)
	}
	if *expect >= 0 && r.Seeded != *expect {
		return fmt.Errorf("%s: the feed handed out %d seeded events (and %d of the service's own), expected %d",
			*name, r.Seeded, r.SelfAudit, *expect)
	}
	r.EventsPerS = float64(r.Events) / r.Seconds
	return json.NewEncoder(os.Stdout).Encode(r)
}

// parseFeedCursor reads a cursor as the feed makes it (httpapi: base64url
// of "c1:<ingest transaction>:<event id>"). Clients are to treat it as
// opaque; the benchmark looks inside to check the order.
func parseFeedCursor(s string) (audit.FeedCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return audit.FeedCursor{}, err
	}
	rest, ok := strings.CutPrefix(string(raw), "c1:")
	txs, id, ok2 := strings.Cut(rest, ":")
	tx, err := strconv.ParseInt(txs, 10, 64)
	if !ok || !ok2 || err != nil {
		return audit.FeedCursor{}, fmt.Errorf("unexpected cursor %q", raw)
	}
	return audit.FeedCursor{Tx: tx, ID: id}, nil
}

// lineEvent is what the checks read of an NDJSON line.
type lineEvent struct {
	ID           string `json:"id"`
	SystemSource string `json:"system_source"`
}

// eachJSONLine calls fn for every line of r, which must each be one JSON
// object, the last one ended by a newline too.
func eachJSONLine(r io.Reader, fn func(i int64, e *lineEvent) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	var i int64
	for {
		ln, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("line %d is longer than 1 MiB", i+1)
		}
		if err == io.EOF {
			if len(ln) > 0 {
				return fmt.Errorf("line %d has no final newline", i+1)
			}
			return nil
		}
		if err != nil {
			return err
		}
		i++
		var e lineEvent
		if !json.Valid(ln) || bytes.TrimSpace(ln)[0] != '{' {
			return fmt.Errorf("line %d is not a JSON object", i)
		}
		if err := json.Unmarshal(ln, &e); err != nil {
			return fmt.Errorf("line %d: %w", i, err)
		}
		if err := fn(i, &e); err != nil {
			return err
		}
	}
}

// feedRows reports the feed poller (kind "feed") beside the CSV export's
// rows/s (info: the feed has no target of its own).
func feedRows(w io.Writer, feeds map[string][]line, csvRate float64) {
	fd := feeds["feed-big"]
	if len(fd) == 0 {
		return
	}
	m := medianBy(fd, func(l line) float64 { return l.Seconds })
	ratio := "—"
	if csvRate > 0 {
		ratio = fmt.Sprintf("%.2f× the CSV export's rows/s", m.EventsPerS/csvRate)
	}
	fmt.Fprintf(w, "| event feed, one poller from no cursor to the end: %s events in %d NDJSON pages of ≤ %s "+
		"(median of %d; every event once, cursors strictly increasing) | %.2f s · %s events/s · %.1f MB | %s | info |\n",
		thousands(m.Events), m.Pages, thousands(int64(m.Limit)), len(fd), m.Seconds, thousands(int64(m.EventsPerS)),
		float64(m.Bytes)/1e6, ratio)
}
