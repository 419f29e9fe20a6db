package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Targets from the issues (#3 §8, #4 "Benchmark").
const (
	targetRSSMiB      = 100.0 // worker peak RSS, CSV at any size and a 5,000-event PDF
	targetFlatMiB     = 16.0  // "the same for 100,000 and 1,000,000": peak may grow at most this much
	targetSmallMedian = 150.0 // ms, 1,000-event export answered 200 with its file
	targetPDFSeconds  = 1.0   // 5,000-event PDF, GET to last byte
)

// line is one record of run.sh's results file; which fields are set
// depends on Kind.
type line struct {
	Kind string `json:"kind"`
	result
	// kind info
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"` // printed verbatim (see infoValue)
	// kind cpu (also Name): per process P, P_user_ms and P_sys_ms, a
	// number or "unknown"; see cpuOf
	Run     int     `json:"run"`
	WindowS float64 `json:"window_s"`
	raw     []byte
	// kind rss
	KiB int64 `json:"kib"`
	// kind phases (also Name, ExportID): the worker's split of the export
	RenderMs float64 `json:"render_ms"`
	StoreMs  float64 `json:"store_ms"`
	// kind seed (also ingest, feed and rss of the api: events)
	Tenant string `json:"tenant"`
	Events int64  `json:"events"`
	// kind ingest, feed
	EventsPerS float64 `json:"events_per_s"`
	// kind feed
	Pages     int   `json:"pages"`
	Limit     int   `json:"limit"`
	Seeded    int64 `json:"seeded"`
	SelfAudit int64 `json:"self_audit"`
	// kind purge (also window_s)
	Purged int64 `json:"purged"`
	// kind latency
	Count    int       `json:"count"`
	RowsEach int64     `json:"rows_each"`
	MedianMs float64   `json:"median_ms"`
	P90Ms    float64   `json:"p90_ms"`
	MinMs    float64   `json:"min_ms"`
	MaxMs    float64   `json:"max_ms"`
	All200   bool      `json:"all_200"`
	Accepted int       `json:"accepted"`
	Samples  []float64 `json:"samples_ms"`
}

func cmdReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	in := fs.String("in", "", "results file (JSON lines) written by bench/run.sh")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	var lines []line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("%s: %w: %s", *in, err, sc.Text())
		}
		if l.Kind == "" {
			l.Kind = "export"
		}
		l.raw = slices.Clone(sc.Bytes())
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	report(os.Stdout, lines)
	return nil
}

func report(w io.Writer, lines []line) {
	info := map[string]string{}
	var seeds []line
	exports := map[string][]line{}
	copies := map[string][]line{}
	rss := map[string][]float64{} // MiB
	rssLines := map[string][]line{}
	cpus := map[string][]line{}
	ingests := map[string][]line{}
	copyins := map[string][]line{}
	feeds := map[string][]line{}
	phases := map[string]line{} // by export id
	var purges []line
	var lat *line
	for _, l := range lines {
		switch l.Kind {
		case "info":
			info[l.Key] = infoValue(l.Value)
		case "cpu":
			cpus[l.Name] = append(cpus[l.Name], l)
		case "seed":
			seeds = append(seeds, l)
		case "export":
			exports[l.Name] = append(exports[l.Name], l)
		case "copy":
			copies[l.Name] = append(copies[l.Name], l)
		case "rss":
			rss[l.Name] = append(rss[l.Name], float64(l.KiB)/1024)
			rssLines[l.Name] = append(rssLines[l.Name], l)
		case "ingest":
			ingests[l.Name] = append(ingests[l.Name], l)
		case "copyin":
			copyins[l.Name] = append(copyins[l.Name], l)
		case "feed":
			feeds[l.Name] = append(feeds[l.Name], l)
		case "phases":
			phases[l.ExportID] = l
		case "purge":
			purges = append(purges, l)
		case "latency":
			lat = &l
		}
	}

	finished := info["finished"] // the run's end; results before it had none
	if finished == "" {
		finished = time.Now().UTC().Format("2006-01-02 15:04 MST")
	}
	fmt.Fprintf(w, "# Export benchmark (`make bench`) — %s\n\n", finished)
	fmt.Fprintf(w, "Machine: %s · %s · PostgreSQL %s · commit %s · run took %s s.\n\n",
		info["machine"], info["go"], info["postgres"], info["commit"], info["duration_seconds"])
	var parts []string
	for _, s := range seeds {
		parts = append(parts, fmt.Sprintf("%s %s (%.1f s)", s.Tenant, thousands(s.Events), s.Seconds))
	}
	fmt.Fprintf(w, "Data (sentinelctl seed, COPY): %s. The first four make the 1,000,000-event table every figure "+
		"but the 1M one is measured on (seeded in %s s, two loaders at a time); `huge` is added afterwards for the "+
		"1M export.\n\n", strings.Join(parts, " · "), info["seed_1m_seconds"])
	fmt.Fprintln(w, "api and ONE worker process on PostgreSQL, Redis and versitygw (S3, posix backend with "+
		"--data-integrity-etag), all on 127.0.0.1. The worker "+
		"is restarted before each measured export, so its VmHWM is that export's peak RSS. Exports: "+
		"EXPORT_REUSE_WINDOW=0s, `Prefer: wait=120` (a 202 would be followed to the file and marked). "+
		"Every file is checked after the clock stops: row count (CSV parsed with encoding/csv), SHA-256 against "+
		"the server's; then the export is deleted.")
	if v, ok := info["live_from_storage"]; ok {
		live := 0
		for _, ls := range exports {
			for _, l := range ls {
				if l.Live {
					live++
				}
			}
		}
		fmt.Fprintf(w, "\nLive responses (streamed while the worker rendered, chunked, digest in trailers): %d of "+
			"the exports below; the api logged %s response(s) that had to finish from storage because their "+
			"stream broke or fell behind.\n", live, v)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| measurement | result | target | verdict |")
	fmt.Fprintln(w, "|---|---|---|---|")

	a, b := exports["csv-600k"], copies["copy-600k"]
	var aRate, bRate float64
	if len(a) > 0 {
		m := medianBy(a, func(l line) float64 { return l.Seconds })
		aRate = m.RowsPerSec
		fmt.Fprintf(w, "| (a) %s-event CSV export, GET → last byte (median of %d) | %.2f s · %s rows/s · %.1f MB/s (%.1f MB) | "+
			"rows/s ≥ (b) | %s |\n", thousands(m.Rows-m.SelfAuditRows), len(a), m.Seconds, thousands(int64(m.RowsPerSec)), m.MBPerSec, float64(m.Bytes)/1e6,
			"see ratio")
	}
	if len(b) > 0 {
		m := medianBy(b, func(l line) float64 { return l.Seconds })
		bRate = float64(m.Rows) / m.Seconds
		fmt.Fprintf(w, "| (b) `psql \\copy` of the same query → CSV file (median of %d) | %.2f s · %s rows/s · %.1f MB/s (%.1f MB) | "+
			"reference | — |\n", len(b), m.Seconds, thousands(int64(bRate)), float64(m.Bytes)/m.Seconds/1e6, float64(m.Bytes)/1e6)
	}
	if aRate > 0 && bRate > 0 {
		fmt.Fprintf(w, "| (a) ÷ (b), rows/s | %.2f× | ≥ 1.00× | %s |\n", aRate/bRate, verdict(aRate >= bRate))
	}
	rssRow := func(name, label string) (float64, bool) {
		v := rss[name]
		if len(v) == 0 {
			fmt.Fprintf(w, "| worker peak RSS, %s | not measured | ≤ %.0f MiB | MISSED (not run) |\n", label, targetRSSMiB)
			return 0, false
		}
		peak := slices.Max(v)
		of := ""
		if len(v) > 1 {
			of = fmt.Sprintf(" (max of %d)", len(v))
		}
		fmt.Fprintf(w, "| worker peak RSS, %s%s | %.1f MiB | ≤ %.0f MiB | %s |\n", label, of, peak, targetRSSMiB,
			verdict(peak <= targetRSSMiB))
		return peak, true
	}
	r100, ok100 := rssRow("csv-100k", "100,000-event CSV")
	rssRow("csv-600k", "600,000-event CSV")
	r1m, ok1m := rssRow("csv-1m", "1,000,000-event CSV")
	if ok100 && ok1m {
		fmt.Fprintf(w, "| peak RSS growth 100k → 1M events | %+.1f MiB | flat (≤ +%.0f MiB) | %s |\n", r1m-r100,
			targetFlatMiB, verdict(r1m-r100 <= targetFlatMiB))
	}
	concurrentRows(w, rss)
	if lat != nil {
		note := ""
		if !lat.All200 {
			note = fmt.Sprintf(" — %d answered 202", lat.Accepted)
		}
		fmt.Fprintf(w, "| 1,000-event CSV export → 200 with its file, %d sequential requests, different ranges | "+
			"median %.0f ms · p90 %.0f ms · min %.0f · max %.0f%s | median ≤ %.0f ms | %s |\n",
			lat.Count, lat.MedianMs, lat.P90Ms, lat.MinMs, lat.MaxMs, note, targetSmallMedian,
			verdict(lat.All200 && lat.MedianMs <= targetSmallMedian))
	} else {
		fmt.Fprintf(w, "| 1,000-event CSV export | not measured | median ≤ %.0f ms | MISSED (not run) |\n", targetSmallMedian)
	}
	if p := exports["pdf-5k"]; len(p) > 0 {
		m := medianBy(p, func(l line) float64 { return l.Seconds })
		fmt.Fprintf(w, "| 5,000-event PDF, GET → last byte (median of %d, different ranges) | %.2f s · %.1f MB | < %.0f s | %s |\n",
			len(p), m.Seconds, float64(m.Bytes)/1e6, targetPDFSeconds, verdict(m.Seconds < targetPDFSeconds && m.Status == 200))
	}
	rssRow("pdf-5k", "5,000-event PDF")
	if v := rss["csv-1m-memlimit"]; len(v) > 0 {
		t := ""
		if e := exports["csv-1m-memlimit"]; len(e) > 0 {
			t = fmt.Sprintf(" (export took %.2f s)", e[0].Seconds)
		}
		fmt.Fprintf(w, "| what-if, not the shipped config: worker peak RSS, 1,000,000-event CSV with GOMEMLIMIT=48MiB | "+
			"%.1f MiB%s | — | info |\n", slices.Max(v), t)
	}
	if v := rss["csv-1k-series"]; len(v) > 0 {
		fmt.Fprintf(w, "| worker peak RSS after the 1,000-event series | %.1f MiB | — | — |\n", slices.Max(v))
	}

	codedRows(w, exports, copies, info["link_mbit"], aRate, bRate)
	ndjsonRows(w, exports, rss, phases, aRate)
	parquetRows(w, exports, rss, aRate)
	feedRows(w, feeds, aRate)
	ingestRows(w, ingests, copyins, rssLines)
	purgeRows(w, exports, ingests, purges)

	cpuSection(w, info, cpus, exports, copies)

	fmt.Fprint(w, "\n## Every run\n\n")
	fmt.Fprintln(w, "| run | status | seconds | TTFB ms | rows | bytes | rows/s | MB/s |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, l := range lines {
		switch l.Kind {
		case "export":
			st := fmt.Sprint(l.Status)
			if l.Polled {
				st += " → polled"
			}
			fmt.Fprintf(w, "| %s | %s | %.3f | %.0f | %s | %s | %s | %.1f |\n", l.Name, st, l.Seconds, l.TTFBMs,
				thousands(l.Rows), thousands(l.Bytes), thousands(int64(l.RowsPerSec)), l.MBPerSec)
		case "ingest":
			fmt.Fprintf(w, "| %s (POST) | %d | %.3f | — | %s events | %s | %s events/s | %.1f |\n", l.Name, l.Status, l.Seconds,
				thousands(l.Events), thousands(l.Bytes), thousands(int64(l.EventsPerS)), float64(l.Bytes)/l.Seconds/1e6)
		case "copyin":
			fmt.Fprintf(w, "| %s (psql \\copy FROM) | — | %.3f | — | %s events | %s | %s events/s | %.1f |\n", l.Name, l.Seconds,
				thousands(l.Rows), thousands(l.Bytes), thousands(int64(float64(l.Rows)/l.Seconds)), float64(l.Bytes)/l.Seconds/1e6)
		case "feed":
			fmt.Fprintf(w, "| %s (%d pages) | — | %.3f | — | %s events | %s | %s events/s | %.1f |\n", l.Name, l.Pages, l.Seconds,
				thousands(l.Events), thousands(l.Bytes), thousands(int64(l.EventsPerS)), float64(l.Bytes)/l.Seconds/1e6)
		case "copy":
			fmt.Fprintf(w, "| %s (psql) | — | %.3f | — | %s | %s | %s | %.1f |\n", l.Name, l.Seconds,
				thousands(l.Rows), thousands(l.Bytes), thousands(int64(float64(l.Rows)/l.Seconds)),
				float64(l.Bytes)/l.Seconds/1e6)
		}
	}
	if lat != nil {
		var ss []string
		for _, s := range lat.Samples {
			ss = append(ss, fmt.Sprintf("%.0f", s))
		}
		fmt.Fprintf(w, "\n1,000-event series, ms in request order: %s\n", strings.Join(ss, " "))
	}
}

// infoValue is an info record's value as it was written: a JSON string
// unquoted, anything else (a number) as its JSON text, so that a commit like
// 8756306 written as a number by an older run.sh is not printed 8.756306e+06.
func infoValue(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

// cpuProcs are the processes of the kind "cpu" records, in table order.
var cpuProcs = []struct{ key, label string }{
	{"postgres", "PostgreSQL (postmaster + backends)"},
	{"api", "api"},
	{"worker", "worker"},
	{"versitygw", "versitygw (S3)"},
	{"redis", "redis-server"},
	{"exportbench", "exportbench (client, to its last byte)"},
	{"psql", "psql (client)"},
}

// cpuTimes is one process's CPU time in one run, in seconds.
type cpuTimes struct {
	user, sys float64
	known     bool
}

// cpuOf reads the PROC_user_ms, PROC_sys_ms fields of a kind "cpu" record.
// A process missing from it is absent; "unknown" (or anything not a
// number) is present but not known.
func cpuOf(l line) map[string]cpuTimes {
	var m map[string]json.RawMessage
	if json.Unmarshal(l.raw, &m) != nil {
		return nil
	}
	out := map[string]cpuTimes{}
	for k, uv := range m {
		p, ok := strings.CutSuffix(k, "_user_ms")
		if !ok {
			continue
		}
		var u, s float64
		eu := json.Unmarshal(uv, &u)
		es := json.Unmarshal(m[p+"_sys_ms"], &s)
		out[p] = cpuTimes{user: u / 1000, sys: s / 1000, known: eu == nil && es == nil}
	}
	return out
}

// median of xs, the lower middle for an even count (like medianBy).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// cpuSection writes "Where the CPU goes": per process, the median CPU
// seconds of (a)'s and (b)'s runs, their total and the share of the
// machine's CPUs they kept busy.
func cpuSection(w io.Writer, info map[string]string, cpus, exports, copies map[string][]line) {
	type side struct {
		label string
		runs  []line
		wall  float64
		procs map[string][]cpuTimes
		total []float64 // per run, the known processes
		sys   []float64
	}
	mk := func(label string, runs, timed []line) *side {
		if len(runs) == 0 {
			return nil
		}
		sd := &side{label: label, runs: runs, procs: map[string][]cpuTimes{}}
		if len(timed) > 0 {
			sd.wall = medianBy(timed, func(l line) float64 { return l.Seconds }).Seconds
		}
		for _, r := range runs {
			var tot, sys float64
			for p, t := range cpuOf(r) {
				sd.procs[p] = append(sd.procs[p], t)
				if t.known {
					tot += t.user + t.sys
					sys += t.sys
				}
			}
			sd.total = append(sd.total, tot)
			sd.sys = append(sd.sys, sys)
		}
		return sd
	}
	sides := []*side{
		mk("(a) export", cpus["csv-600k"], exports["csv-600k"]),
		mk("(b) `psql \\copy`", cpus["copy-600k"], copies["copy-600k"]),
		mk("zstd-coded export", cpus["csv-600k-zstd"], exports["csv-600k-zstd"]),
		mk("gzip-coded export", cpus["csv-600k-gzip"], exports["csv-600k-gzip"]),
		mk("NDJSON export", cpus["ndjson-big"], exports["ndjson-big"]),
		// The CSV export just before each NDJSON export, and the NDJSON
		// export of the event fields alone just after: the same step, so
		// the three compare (see bytesRows).
		mk("CSV export before each NDJSON", cpus["csv-600k-paired"], exports["csv-600k-paired"]),
		mk("seven-field NDJSON export", cpus["ndjson-fields-big"], exports["ndjson-fields-big"]),
	}
	sides = slices.DeleteFunc(sides, func(sd *side) bool { return sd == nil })
	if len(sides) == 0 {
		return
	}
	nproc, _ := strconv.Atoi(info["nproc"])
	if nproc == 0 { // older results: "2 CPUs, 24 GiB, Linux …"
		nproc, _ = strconv.Atoi(strings.Fields(info["machine"] + " 0")[0])
	}
	// Processes in table order, then any others.
	var procs []string
	seen := map[string]bool{}
	label := map[string]string{}
	for _, p := range cpuProcs {
		procs = append(procs, p.key)
		seen[p.key] = true
		label[p.key] = p.label
	}
	var extra []string
	for _, sd := range sides {
		for p := range sd.procs {
			if !seen[p] {
				seen[p] = true
				extra = append(extra, p)
			}
		}
	}
	slices.Sort(extra)
	procs = append(procs, extra...)

	fmt.Fprint(w, "\n## Where the CPU goes\n\n")
	fmt.Fprintln(w, "CPU seconds (user + system, and the system part) each process used per run, median over the runs "+
		"(so a column need not add up to its total, the median of the runs' totals). Servers: /proc/PID/stat, "+
		"sampled for (a) by exportbench just before its GET and at its last byte, for (b) just before psql starts "+
		"and just after it exits; PostgreSQL is the postmaster with its live children and, through its "+
		"cutime/cstime, its exited ones. Clients: exportbench's getrusage over the same window, psql's whole "+
		"process (bash `times`).")
	fmt.Fprintln(w)
	hdr, sep := "| process |", "|---|"
	for _, sd := range sides {
		hdr += fmt.Sprintf(" %s: CPU s | sys s |", sd.label)
		sep += "---|---|"
	}
	fmt.Fprintln(w, hdr)
	fmt.Fprintln(w, sep)
	pgUnknown := false
	for _, p := range procs {
		var row strings.Builder
		shown := false
		for _, sd := range sides {
			ts, ok := sd.procs[p]
			switch {
			case !ok:
				row.WriteString(" — | — |")
			case slices.ContainsFunc(ts, func(t cpuTimes) bool { return !t.known }):
				shown = true
				row.WriteString(" unknown | unknown |")
				if p == "postgres" {
					pgUnknown = true
				}
			default:
				shown = true
				var tot, sys []float64
				for _, t := range ts {
					tot = append(tot, t.user+t.sys)
					sys = append(sys, t.sys)
				}
				fmt.Fprintf(&row, " %.2f | %.2f |", median(tot), median(sys))
			}
		}
		if shown {
			fmt.Fprintf(w, "| %s |%s\n", label[p], row.String())
		}
	}
	totalLabel := "**total**"
	if pgUnknown {
		totalLabel = "**total** (without PostgreSQL)"
	}
	row, wall, win := "", "", ""
	for _, sd := range sides {
		row += fmt.Sprintf(" **%.2f** | %.2f |", median(sd.total), median(sd.sys))
		wall += fmt.Sprintf(" %.2f | |", sd.wall)
		var ws []float64
		for _, r := range sd.runs {
			ws = append(ws, r.WindowS)
		}
		win += fmt.Sprintf(" %.2f | |", median(ws))
	}
	fmt.Fprintf(w, "| %s |%s\n", totalLabel, row)
	fmt.Fprintf(w, "| wall time, s (median, as in the table above) |%s\n", wall)
	fmt.Fprintf(w, "| sampling window, s (median) |%s\n", win)
	fmt.Fprintln(w)
	if pgUnknown {
		fmt.Fprintln(w, "PostgreSQL's CPU is unknown: the run used BENCH_DATABASE_URL's server, which has no postmaster "+
			"of ours to read, so the totals leave it out.")
		fmt.Fprintln(w)
	}
	if nproc > 0 {
		var parts []string
		for _, sd := range sides {
			if sd.wall > 0 {
				t := median(sd.total)
				parts = append(parts, fmt.Sprintf("%s kept %.0f%% of them busy (%.2f CPU s ÷ (%d × %.2f s))",
					sd.label, 100*t/(float64(nproc)*sd.wall), t, nproc, sd.wall))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "Utilisation of the machine's %d CPUs: %s.\n", nproc, strings.Join(parts, "; "))
		}
	}
}

func verdict(ok bool) string {
	if ok {
		return "MET"
	}
	return "**MISSED**"
}

// medianBy returns the element with the median key (the lower middle for
// an even count).
func medianBy(ls []line, key func(line) float64) line {
	s := slices.Clone(ls)
	slices.SortFunc(s, func(a, b line) int {
		switch ka, kb := key(a), key(b); {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	return s[(len(s)-1)/2]
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
