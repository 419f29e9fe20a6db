package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"
)

const eventsPath = "/v5/audit-sentinel/events"

// ingestResult is one measured NDJSON ingest (kind "ingest").
type ingestResult struct {
	Kind       string  `json:"kind"`
	Name       string  `json:"name"`
	Status     int     `json:"status"`
	Seconds    float64 `json:"seconds"` // POST to the end of the response
	Bytes      int64   `json:"bytes"`   // body size
	Events     int64   `json:"events"`  // accepted, as the response says
	EventsPerS float64 `json:"events_per_s"`
}

// cmdIngest POSTs an NDJSON file (exportbench gen) to the ingest endpoint
// in one request and times it to the end of the response; the response
// must account for every line as accepted, none as duplicate.
func cmdIngest(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	base := fs.String("base", "", "API base URL")
	key := fs.String("key", "", "API key with scope events:write")
	file := fs.String("file", "", "NDJSON body (exportbench gen -ndjson)")
	expect := fs.Int64("expect", -1, "events the response must report accepted (-1: do not check)")
	name := fs.String("name", "ingest", "label of the measurement")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *base == "" || *key == "" || *file == "" {
		return errors.New("-base, -key and -file are required")
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	c := newClient(*base, *key)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+eventsPath, f)
	if err != nil {
		return err
	}
	req.ContentLength = st.Size()
	req.Header.Set("apikey", c.key)
	req.Header.Set("Content-Type", "application/x-ndjson")
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	el := time.Since(start)
	if err != nil {
		return err
	}
	r := ingestResult{Kind: "ingest", Name: *name, Status: resp.StatusCode, Seconds: el.Seconds(), Bytes: st.Size()}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d: %.2000s", *name, resp.StatusCode, body)
	}
	var res struct {
		Received   int64 `json:"received"`
		Accepted   int64 `json:"accepted"`
		Duplicates int64 `json:"duplicates"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("%s: response: %w", *name, err)
	}
	if res.Duplicates != 0 || res.Received != res.Accepted || (*expect >= 0 && res.Accepted != *expect) {
		return fmt.Errorf("%s: received %d, accepted %d, duplicates %d; expected %d accepted", *name,
			res.Received, res.Accepted, res.Duplicates, *expect)
	}
	r.Events = res.Accepted
	r.EventsPerS = float64(r.Events) / r.Seconds
	return json.NewEncoder(os.Stdout).Encode(r)
}

// Targets of the ingest measurements (issue 14).
const (
	targetIngestRatio   = 0.7  // API NDJSON ingest events/s ÷ psql \copy FROM events/s
	targetIngestFlatMiB = 16.0 // api peak RSS growth from the small to the large request
)

// ingestRows reports the API's NDJSON ingest beside psql \copy … FROM of
// the same events (kind "ingest" ingest-api, kind "copyin" copyin), and
// the api's peak RSS after the small and the large request (kind "rss"
// api-ingest-small, api-ingest-large).
func ingestRows(w io.Writer, ingests, copyins map[string][]line, rss map[string][]line) {
	api, cp := ingests["ingest-api"], copyins["copyin"]
	if len(api) == 0 && len(cp) == 0 {
		return
	}
	var aRate, cRate float64
	if len(api) > 0 {
		m := medianBy(api, func(l line) float64 { return l.Seconds })
		aRate = m.EventsPerS
		fmt.Fprintf(w, "| NDJSON ingest through the API, %s events in one `POST /events` (median of %d, a fresh tenant each) | "+
			"%.2f s · %s events/s · %.1f MB body | ≥ %.1f× COPY | see ratio |\n", thousands(m.Events), len(api), m.Seconds,
			thousands(int64(m.EventsPerS)), float64(m.Bytes)/1e6, targetIngestRatio)
	} else {
		fmt.Fprintf(w, "| NDJSON ingest through the API | not measured | ≥ %.1f× COPY | MISSED (not run) |\n", targetIngestRatio)
	}
	if len(cp) > 0 {
		m := medianBy(cp, func(l line) float64 { return l.Seconds })
		cRate = float64(m.Rows) / m.Seconds
		fmt.Fprintf(w, "| `psql \\copy events FROM` the same events as CSV (median of %d, a fresh tenant each) | %.2f s · %s events/s · "+
			"%.1f MB CSV | reference | — |\n", len(cp), m.Seconds, thousands(int64(cRate)), float64(m.Bytes)/1e6)
	}
	if aRate > 0 && cRate > 0 {
		fmt.Fprintf(w, "| API ingest ÷ COPY, events/s | %.2f× | ≥ %.2f× | %s |\n", aRate/cRate, targetIngestRatio,
			verdict(aRate >= targetIngestRatio*cRate))
	}
	small, large := rss["api-ingest-small"], rss["api-ingest-large"]
	if len(small) == 0 || len(large) == 0 {
		if len(api) > 0 {
			fmt.Fprintf(w, "| api peak RSS growth, small → large ingest request | not measured | ≤ +%.0f MiB | MISSED (not run) |\n",
				targetIngestFlatMiB)
		}
		return
	}
	peak := func(ls []line) (float64, int64) {
		m := slices.MaxFunc(ls, func(a, b line) int { return cmp.Compare(a.KiB, b.KiB) })
		return float64(m.KiB) / 1024, m.Events
	}
	ps, ns := peak(small)
	pl, nl := peak(large)
	fmt.Fprintf(w, "| api peak RSS (VmHWM of a freshly started api) after one %s-event · one %s-event NDJSON request | "+
		"%.1f · %.1f MiB (%+.1f MiB) | growth ≤ +%.0f MiB | %s |\n", thousands(ns), thousands(nl), ps, pl, pl-ps,
		targetIngestFlatMiB, verdict(pl-ps <= targetIngestFlatMiB))
}
