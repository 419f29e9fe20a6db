package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/demo"
	"github.com/auditsentinel/sentinel/internal/ingest"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
)

// cmdGen writes one set of generated events twice, so that the API's
// NDJSON ingest and psql's \copy … FROM load exactly the same events:
// as an ingest body (-ndjson) and as a CSV of the events table's columns
// (-csv, sqlstore.EventColumns, for -csv-tenant). internal/demo makes them,
// as `sentinelctl seed` does.
func cmdGen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	events := fs.Int("events", 100_000, "events to generate")
	seed := fs.Uint64("seed", 1, "generator seed (same seed, same events)")
	days := fs.Int("days", demo.DefaultDays, "the events fall in the last D days")
	ndjsonPath := fs.String("ndjson", "", "write the NDJSON ingest body here")
	csvPath := fs.String("csv", "", "write the CSV for psql \\copy events (COLUMNS) FROM … CSV here; "+
		"with several -csv-tenants, a pattern whose %s is the tenant")
	csvTenants := fs.String("csv-tenants", "", "comma-separated tenant_ids: one CSV of the same events for each")
	columns := fs.Bool("columns", false, "print the CSV's column list (for \\copy) and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *columns {
		fmt.Println(strings.Join(sqlstore.EventColumns, ", "))
		return nil
	}
	if *ndjsonPath == "" && *csvPath == "" {
		return errors.New("-ndjson or -csv is required")
	}
	tenants := strings.Split(*csvTenants, ",")
	if *csvPath != "" && (*csvTenants == "" || (len(tenants) > 1 && !strings.Contains(*csvPath, "%s"))) {
		return errors.New("-csv needs -csv-tenants, and a %s in its path for more than one")
	}
	var nd *bufio.Writer
	var cs []*bufio.Writer
	var files []*os.File
	open := func(path string) (*bufio.Writer, error) {
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		return bufio.NewWriterSize(f, 1<<20), nil
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	var err error
	if *ndjsonPath != "" {
		if nd, err = open(*ndjsonPath); err != nil {
			return err
		}
	}
	var csvFiles []string
	if *csvPath != "" {
		for _, t := range tenants {
			path := *csvPath
			if strings.Contains(path, "%s") {
				path = fmt.Sprintf(path, t)
			}
			b, err := open(path)
			if err != nil {
				return err
			}
			cs, csvFiles = append(cs, b), append(csvFiles, path)
		}
	}
	g := demo.New(demo.Config{Seed: *seed, Now: time.Now().UTC(), Days: *days, Events: *events})
	enc := json.NewEncoder(nd)
	enc.SetEscapeHTML(false)
	n := 0
	for e, ok := g.Next(); ok; e, ok = g.Next() {
		n++
		if nd != nil {
			if err := enc.Encode(e); err != nil { // audit.Event's JSON is the ingest form
				return err
			}
		}
		for i, b := range cs {
			row, err := sqlstore.EventValues(tenants[i], e)
			if err != nil {
				return err
			}
			if err := writeCopyCSV(b, row); err != nil {
				return err
			}
		}
	}
	out := map[string]any{"events": n}
	for _, w := range []struct {
		key string
		b   *bufio.Writer
		f   string
	}{{"ndjson_bytes", nd, *ndjsonPath}} {
		if w.b == nil {
			continue
		}
		if err := w.b.Flush(); err != nil {
			return err
		}
		st, err := os.Stat(w.f)
		if err != nil {
			return err
		}
		out[w.key] = st.Size()
	}
	for i, b := range cs {
		if err := b.Flush(); err != nil {
			return err
		}
		st, err := os.Stat(csvFiles[i])
		if err != nil {
			return err
		}
		out["csv_bytes"] = st.Size()
	}
	for _, f := range files {
		if err := f.Close(); err != nil {
			return err
		}
	}
	files = nil
	// The API refuses a larger body (ETOOLARGE): say so now, not as a 413
	// in the middle of the measurement.
	if lim := ingest.DefaultNDJSONLimits(); nd != nil && (out["ndjson_bytes"].(int64) > lim.MaxBytes || n > lim.MaxEvents) {
		return fmt.Errorf("the NDJSON body holds %d events in %d bytes, over the API's limits (%d events, %d bytes)",
			n, out["ndjson_bytes"], lim.MaxEvents, lim.MaxBytes)
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// writeCopyCSV writes row (sqlstore.EventValues) as one line of
// PostgreSQL's CSV format: NULL is an empty unquoted field, every string
// is quoted (so an empty string stays one and does not become NULL).
// bufio.Writer's errors are sticky: the final WriteByte returns any.
func writeCopyCSV(w *bufio.Writer, row []any) error {
	for i, v := range row {
		if i > 0 {
			_ = w.WriteByte(',')
		}
		switch v := v.(type) {
		case nil:
		case string:
			_ = w.WriteByte('"')
			_, _ = w.WriteString(strings.ReplaceAll(v, `"`, `""`))
			_ = w.WriteByte('"')
		case int64:
			_, _ = w.WriteString(strconv.FormatInt(v, 10))
		default:
			return fmt.Errorf("copy csv: column %s: unexpected %T", sqlstore.EventColumns[i], v)
		}
	}
	return w.WriteByte('\n')
}
