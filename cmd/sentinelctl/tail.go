package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func init() {
	register(command{"tail", "follow the event feed and print events as NDJSON (--cursor-file to resume)", cmdTail})
}

const tailSynopsis = `tail [flags]

Prints the tenant's events in ingest order as NDJSON, one event a line, from
the event feed (GET /v5/audit-sentinel/events). Every event comes once,
including events whose ingest committed late. Without --follow it stops
once it has caught up; with --follow it keeps polling.

--cursor-file FILE keeps the position: tail starts after the cursor FILE
holds (from the beginning when FILE does not exist) and rewrites FILE after
each page it has printed and flushed. A tail killed between printing a page
and saving its cursor prints that page again next time: at least once, never
a gap.

Filters take the export's values (repeat a flag for several values):

  sentinelctl tail --event-type assessment --cursor-file feed.cursor --follow

Flags:`

func cmdTail(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "tail", tailSynopsis)
	co := addClientFlags(fs)
	var eventTypes, subTypes, auditees, sources, metadata stringList
	fs.Var(&eventTypes, "event-type", "event type to include (repeatable)")
	fs.Var(&subTypes, "sub-type", "sub-type to include (repeatable)")
	fs.Var(&auditees, "auditee-id", "auditee id to include (repeatable)")
	fs.Var(&sources, "system-source", "system source to include (repeatable)")
	fs.Var(&metadata, "metadata", "metadata filter `KEY=VALUE` (repeatable)")
	rangeStart := fs.String("range-start", "", "earliest occurred_at, inclusive (ISO 8601)")
	rangeEnd := fs.String("range-end", "", "latest occurred_at, inclusive (ISO 8601)")
	cursorFile := fs.String("cursor-file", "", "read the cursor from and save it to `FILE`")
	cursor := fs.String("cursor", "", "start after this cursor (overrides --cursor-file's)")
	follow := fs.Bool("follow", false, "keep polling once caught up")
	interval := fs.Duration("interval", 2*time.Second, "pause between polls once caught up (--follow)")
	limit := fs.Int("limit", 1000, "events per page (1 to 10000)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *interval <= 0 {
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
			return fmt.Errorf("--metadata %q: write KEY=VALUE", kv)
		}
		q.Add("metadata["+k+"]", v)
	}
	if *rangeStart != "" {
		q.Set("range_start", *rangeStart)
	}
	if *rangeEnd != "" {
		q.Set("range_end", *rangeEnd)
	}
	c, err := co.client(e)
	if err != nil {
		return err
	}
	cur := *cursor
	if cur == "" && *cursorFile != "" {
		b, err := os.ReadFile(*cursorFile)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		cur = strings.TrimSpace(string(b))
	}
	out := bufio.NewWriter(e.stdout)
	enc := json.NewEncoder(out)
	for {
		p, err := c.Feed(ctx, q, cur, *limit)
		if err != nil {
			if ctx.Err() != nil {
				return nil //nolint:nilerr // interrupted (Ctrl-C): not a failure; the cursor file holds what was printed
			}
			return err
		}
		for i := range p.Events {
			if err := enc.Encode(&p.Events[i]); err != nil {
				return err
			}
		}
		if err := out.Flush(); err != nil {
			return err
		}
		if p.NextCursor != cur && *cursorFile != "" {
			if err := saveCursor(*cursorFile, p.NextCursor); err != nil {
				return err
			}
		}
		cur = p.NextCursor
		if p.HasMore {
			continue
		}
		if !*follow {
			return nil
		}
		t := time.NewTimer(*interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// saveCursor replaces path's content with cursor atomically (a temporary
// file renamed over it), so that a crash leaves the old cursor or the new
// one, never half of one.
func saveCursor(path, cursor string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(cursor + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save cursor to %s: %w", path, err)
	}
	return nil
}
