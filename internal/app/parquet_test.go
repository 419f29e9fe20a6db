package app_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/render/parquet"
	"github.com/auditsentinel/sentinel/internal/render/parquet/parquettest"
)

// checkParquet reads body back with arrow-go (not the library that wrote
// it) and compares every value of cols (Parquet column names) with events.
func checkParquet(t *testing.T, body []byte, events []audit.Event, cols []string) *parquettest.File {
	t.Helper()
	f := parquettest.Read(t, body)
	if !slices.Equal(f.Columns(), cols) {
		t.Fatalf("columns %q, want %q", f.Columns(), cols)
	}
	if len(f.Rows) != len(events) {
		t.Fatalf("%d rows, want %d", len(f.Rows), len(events))
	}
	for i, e := range events {
		want := map[string]any{
			"id": e.ID, "event_type": e.EventType, "sub_type": e.SubType, "system_source": e.SystemSource,
			"auditee_id": e.AuditeeID, "description": e.Description,
		}
		rest := map[string]string{}
		for k, v := range e.Metadata {
			if audit.IsMetadataKey(k) {
				want["metadata_"+k] = v
			} else {
				rest[k] = v
			}
		}
		for _, c := range cols {
			got := f.Rows[i][c]
			switch c {
			case "occurred_at":
				// Exact to the microsecond, whatever the export's zone.
				if g, _ := got.(time.Time); !g.Equal(e.OccurredAt) {
					t.Errorf("%s: occurred_at %v, want %v", e.ID, got, e.OccurredAt)
				}
			case "metadata":
				if g, _ := got.(map[string]string); !maps.Equal(g, rest) {
					t.Errorf("%s: metadata %#v, want %#v", e.ID, got, rest)
				}
			default:
				if got != want[c] { // an absent key is a null, nil in both
					t.Errorf("%s: %s = %#v, want %#v", e.ID, c, got, want[c])
				}
			}
		}
	}
	return f
}

// TestParquetExport requests Parquet exports through the API and reads
// them back with arrow-go: every value as ingested, the key-value metadata,
// columns=, the refused options, and which requests attach to one export.
func TestParquetExport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		key := env.Key("acme")
		raw := formatFixture()
		env.Ingest(key, raw)
		events := toEvents(raw)

		q := exportPath + "?file_type=parquet&timezone=America/New_York&locale=de&" + fixtureEnd
		res, body := env.Do(http.MethodGet, q, key, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/vnd.apache.parquet" {
			t.Errorf("content type %q", ct)
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.HasSuffix(cd, `.parquet"`) {
			t.Errorf("content disposition %q", cd)
		}
		all := make([]string, len(audit.ColumnNames))
		for i := range all {
			all[i] = parquet.ColumnName(i)
		}
		f := checkParquet(t, body, events, all)
		id := res.Header.Get("X-Export-Id")
		var filters struct {
			FileType string `json:"file_type"`
			Locale   string `json:"locale"`
			Timezone string `json:"timezone"`
			Filter   struct {
				RangeEnd string `json:"range_end"`
			} `json:"filter"`
		}
		if err := json.Unmarshal([]byte(f.Meta[parquet.MetaFilters]), &filters); err != nil || filters.FileType != "parquet" ||
			filters.Timezone != "America/New_York" || filters.Filter.RangeEnd != "2026-05-01T00:00:00Z" {
			t.Errorf("filters in the file: %s (%v)", f.Meta[parquet.MetaFilters], err)
		}
		if f.Meta[parquet.MetaTimezone] != "America/New_York" || f.Meta[parquet.MetaSchemaVersion] != "1" ||
			f.Meta[parquet.MetaExportID] != id || f.Meta[parquet.MetaAsOf] == "" {
			t.Errorf("key-value metadata %v (export %s)", f.Meta, id)
		}

		// The stored file is what was answered, as its digest says.
		res, stored := env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+id+"/file", key, nil)
		sum := sha256.Sum256(stored)
		if res.StatusCode != http.StatusOK || string(stored) != string(body) ||
			res.Header.Get("X-Checksum-SHA256") != hex.EncodeToString(sum[:]) {
			t.Errorf("stored file: %d, %d bytes, digest %s", res.StatusCode, len(stored), res.Header.Get("X-Checksum-SHA256"))
		}

		// columns= narrows and orders the file's columns.
		resCols, body := env.Do(http.MethodGet, exportPath+"?file_type=parquet&columns=metadata.entity_id,event_id,metadata,occurred_at&"+fixtureEnd, key, nil)
		if resCols.StatusCode != http.StatusOK {
			t.Fatalf("columns: %d %s", resCols.StatusCode, body)
		}
		checkParquet(t, body, events, []string{"metadata_entity_id", "id", "metadata", "occurred_at"})

		// Identical requests attach to one export; other columns, another
		// zone or another format never do.
		again, _ := env.Do(http.MethodGet, q, key, nil)
		respelt, _ := env.Do(http.MethodGet, exportPath+"?file_type=PARQUET&locale=de&timezone=America/New_York&compression=none&"+fixtureEnd, key, nil)
		utc, _ := env.Do(http.MethodGet, exportPath+"?file_type=parquet&locale=de&"+fixtureEnd, key, nil)
		nd, _ := env.Do(http.MethodGet, exportPath+"?file_type=ndjson&timezone=America/New_York&locale=de&"+fixtureEnd, key, nil)
		if again.Header.Get("X-Export-Id") != id || respelt.Header.Get("X-Export-Id") != id {
			t.Errorf("identical requests made exports %s, %s and %s", id, again.Header.Get("X-Export-Id"), respelt.Header.Get("X-Export-Id"))
		}
		distinct := []string{id, resCols.Header.Get("X-Export-Id"), utc.Header.Get("X-Export-Id"), nd.Header.Get("X-Export-Id")}
		for i := range distinct {
			if distinct[i] == "" || slices.Contains(distinct[:i], distinct[i]) {
				t.Errorf("different requests share an export: %q", distinct)
			}
		}

		for _, c := range []struct{ query, param string }{
			{"file_type=parquet&compression=gzip", "compression"},
			{"file_type=parquet&compression=zstd", "compression"},
			{"file_type=parquet&bom=true", "bom"},
			{"file_type=parquet&delimiter=semicolon", "delimiter"},
			{"file_type=parquet&columns=event_id,nope", "columns"},
			{"file_type=parquets", "file_type"},
		} {
			allowed := expectRefusal(t, env, key, c.query, c.param)
			if c.param == "file_type" && !slices.Contains(allowed, "parquet") {
				t.Errorf("%s: allowed %q", c.query, allowed)
			}
		}
	})
}

// TestScheduleParquet: a schedule with file_type parquet and columns runs
// into the Parquet file it describes.
func TestScheduleParquet(t *testing.T) {
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file"})
	key := env.Key("acme")
	raw := formatFixture()
	env.Ingest(key, raw)
	body := weekly()
	body["window"] = map[string]any{"kind": "last_hours", "hours": 8784} // the fixture is in April 2026
	body["filters"] = map[string]any{"file_type": "parquet", "columns": []string{"event_id", "occurred_at", "metadata"},
		"event_type": []string{"task"}}
	res, sc := doJSON(t, env, http.MethodPost, schedulesPath, key, body)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %v", res.StatusCode, sc)
	}
	if f := sc["filters"].(map[string]any); f["file_type"] != "parquet" {
		t.Errorf("filters %v", f)
	}
	res, st := doJSON(t, env, http.MethodPost, schedulesPath+"/"+sc["id"].(string)+"/run", key, nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("run: %d %v", res.StatusCode, st)
	}
	done := env.WaitExport(key, st["id"].(string))
	if done["status"] != "completed" || done["file_type"] != "parquet" {
		t.Fatalf("run-now export: %v", done)
	}
	res, file := env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+st["id"].(string)+"/file", key, nil)
	if ct := res.Header.Get("Content-Type"); ct != "application/vnd.apache.parquet" {
		t.Errorf("content type %q", ct)
	}
	var tasks []audit.Event
	for _, e := range toEvents(raw) {
		if e.EventType == "task" {
			tasks = append(tasks, e)
		}
	}
	checkParquet(t, file, tasks, []string{"id", "occurred_at", "metadata"})
	body["filters"] = map[string]any{"file_type": "parquet", "compression": "gzip"}
	if res, out := doJSON(t, env, http.MethodPost, schedulesPath, key, body); res.StatusCode != http.StatusBadRequest ||
		!strings.Contains(errParam(out), "compression") {
		t.Errorf("parquet+gzip schedule: %d %v", res.StatusCode, out)
	}
}
