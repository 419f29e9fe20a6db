package app_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/manifest"
)

// formatFixture is fixture() with what machine formats must carry exactly:
// non-ASCII values, an empty metadata value, metadata outside the
// filterable keys, a fractional second.
func formatFixture() []map[string]any {
	raw := fixture()
	raw[2]["metadata"].(map[string]any)["task_id"] = ""
	raw[3]["metadata"].(map[string]any)["region"] = "Île-de-France ✓"
	raw[3]["metadata"].(map[string]any)["note"] = "a \"q\" \\ ;, b"
	raw[4]["occurred_at"] = "2026-04-10T04:00:00.123456Z"
	return raw
}

func ndjsonSchema(t *testing.T, env *apptest.Env) *jsonschema.Schema {
	t.Helper()
	res, body := env.Do(http.MethodGet, "/v5/audit-sentinel/schemas/event.ndjson.json", "", nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/schema+json" {
		t.Fatalf("schema: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	apptest.Must(t, c.AddResource("event.ndjson.json", doc))
	s, err := c.Compile("event.ndjson.json")
	apptest.Must(t, err)
	return s
}

// TestNDJSONExport checks an NDJSON export against what was ingested, line
// by line, and every line against the published schema.
func TestNDJSONExport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		key := env.Key("acme")
		raw := formatFixture()
		env.Ingest(key, raw)
		events := toEvents(raw)
		schema := ndjsonSchema(t, env)
		ny, err := time.LoadLocation("America/New_York")
		apptest.Must(t, err)

		res, body := env.Do(http.MethodGet, exportPath+"?file_type=ndjson&timezone=America/New_York&locale=de", key, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Errorf("content type %q", ct)
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.HasSuffix(cd, `.ndjson"`) {
			t.Errorf("content disposition %q", cd)
		}
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		i := 0
		for ; sc.Scan(); i++ {
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(sc.Text()))
			apptest.Must(t, err)
			if err := schema.Validate(inst); err != nil {
				t.Fatalf("line %d does not validate: %v\n%s", i, err, sc.Text())
			}
			var got struct {
				SchemaVersion int               `json:"schema_version"`
				ID            string            `json:"id"`
				OccurredAt    string            `json:"occurred_at"`
				EventType     string            `json:"event_type"`
				SubType       string            `json:"sub_type"`
				SystemSource  string            `json:"system_source"`
				AuditeeID     string            `json:"auditee_id"`
				Description   string            `json:"description"`
				Metadata      map[string]string `json:"metadata"`
			}
			apptest.Must(t, json.Unmarshal(sc.Bytes(), &got))
			want := events[i]
			at, err := time.Parse(time.RFC3339Nano, got.OccurredAt)
			apptest.Must(t, err)
			if _, off := at.Zone(); !at.Equal(want.OccurredAt) || off != func() int { _, o := want.OccurredAt.In(ny).Zone(); return o }() {
				t.Errorf("%s: occurred_at %s, want %s in New York", want.ID, got.OccurredAt, want.OccurredAt)
			}
			if got.SchemaVersion != 1 || got.ID != want.ID || got.EventType != want.EventType || got.SubType != want.SubType ||
				got.SystemSource != want.SystemSource || got.AuditeeID != want.AuditeeID || got.Description != want.Description {
				t.Errorf("line %d: %+v\nwant %+v", i, got, want)
			}
			if len(got.Metadata) != len(want.Metadata) {
				t.Errorf("%s: metadata %v, want %v", want.ID, got.Metadata, want.Metadata)
			}
			for k, v := range want.Metadata {
				if gv, ok := got.Metadata[k]; !ok || gv != v {
					t.Errorf("%s: metadata[%s] = %q (present %v), want %q", want.ID, k, gv, ok, v)
				}
			}
		}
		if i != len(events) || body[len(body)-1] != '\n' {
			t.Errorf("%d lines for %d events", i, len(events))
		}
		// The status document says what the file is; columns narrow it.
		res, body = env.Do(http.MethodGet, exportPath+"?file_type=ndjson&columns=event_id,metadata.entity_id", key, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		first := strings.SplitN(string(body), "\n", 2)[0]
		if first != `{"schema_version":1,"id":"evt-000","metadata":{"entity_id":"ent-0"}}` {
			t.Errorf("columns: first line %s", first)
		}
	})
}

// TestCSVSpreadsheetOptions: bom, delimiter and columns, their refusals,
// and that they take part in which requests attach to one export.
func TestCSVSpreadsheetOptions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		key := env.Key("acme")
		raw := formatFixture()
		env.Ingest(key, raw)
		events := toEvents(raw)

		res, body := env.Do(http.MethodGet, exportPath+"?bom=true&delimiter=semicolon&locale=fr"+
			"&columns=event_id,description,metadata.entity_id,metadata", key, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		rest, ok := bytes.CutPrefix(body, []byte("\uFEFF"))
		if !ok {
			t.Fatalf("no byte order mark: %q", body[:min(20, len(body))])
		}
		rd := csv.NewReader(bytes.NewReader(rest))
		rd.Comma = ';'
		recs, err := rd.ReadAll()
		if err != nil {
			t.Fatalf("parse: %v\n%s", err, rest)
		}
		if len(recs) != len(events)+1 || len(recs[0]) != 4 {
			t.Fatalf("%d records, header %q", len(recs), recs[0])
		}
		for i, e := range events {
			r := recs[i+1]
			desc := e.Description
			if strings.HasPrefix(desc, "=") {
				desc = "'" + desc // the CSV injection rule, whatever the separator
			}
			extra, err := audit.EncodeExtraMetadata(e.Metadata)
			apptest.Must(t, err)
			if r[0] != e.ID || r[1] != desc || r[2] != e.Metadata["entity_id"] || r[3] != extra {
				t.Errorf("row %d: %q, want [%s %s %s %s]", i, r, e.ID, desc, e.Metadata["entity_id"], extra)
			}
		}
		// tab, and every column named in the usual order is the default
		// request: it attaches to the same export.
		res, tab := env.Do(http.MethodGet, exportPath+"?delimiter=tab", key, nil)
		if res.StatusCode != http.StatusOK || !bytes.Contains(tab, []byte("evt-000\t")) {
			t.Fatalf("tab: %d %.200s", res.StatusCode, tab)
		}
		_, plain := env.Do(http.MethodGet, exportPath, key, nil)
		resPlain, _ := env.Do(http.MethodGet, exportPath+"?delimiter=comma&bom=false&compression=none", key, nil)
		resAll, _ := env.Do(http.MethodGet, exportPath+"?columns="+strings.Join(audit.ColumnNames, ","), key, nil)
		resTab, _ := env.Do(http.MethodGet, exportPath+"?delimiter=TAB", key, nil)
		resCols, _ := env.Do(http.MethodGet, exportPath+"?columns=event_id,description", key, nil)
		resCols2, _ := env.Do(http.MethodGet, exportPath+"?columns=description,event_id", key, nil)
		ids := []string{resPlain.Header.Get("X-Export-Id"), resAll.Header.Get("X-Export-Id")}
		if ids[0] == "" || ids[0] != ids[1] {
			t.Errorf("default-equivalent requests did not attach to one export: %q", ids)
		}
		if resTab.Header.Get("X-Export-Id") != res.Header.Get("X-Export-Id") {
			t.Errorf("delimiter=TAB and delimiter=tab are different exports")
		}
		distinct := []string{ids[0], res.Header.Get("X-Export-Id"), resCols.Header.Get("X-Export-Id"), resCols2.Header.Get("X-Export-Id")}
		for i := range distinct {
			for j := range i {
				if distinct[i] == distinct[j] {
					t.Errorf("different requests share export %s: %q", distinct[i], distinct)
				}
			}
		}
		if got, _ := withoutSelfAudit(t, plain); len(got) != len(events) {
			t.Errorf("plain export changed")
		}

		for _, c := range []struct{ query, param string }{
			{"columns=event_id,nope", "columns"},
			{"columns=event_id,event_id", "columns"},
			{"columns=event_id,,description", "columns"},
			{"delimiter=pipe", "delimiter"},
			{"bom=yes", "bom"},
			{"file_type=ndjson&bom=true", "bom"},
			{"file_type=ndjson&delimiter=tab", "delimiter"},
			{"file_type=pdf&columns=event_id", "columns"},
			{"file_type=pdf&compression=gzip", "compression"},
			{"compression=brotli", "compression"},
		} {
			allowed := expectRefusal(t, env, key, c.query, c.param)
			if c.query == "columns=event_id,nope" && !slices.Equal(allowed, audit.ColumnNames) {
				t.Errorf("unknown column: allowed %q", allowed)
			}
		}
	})
}

// fixtureEnd bounds an export to the fixtures' month, before any event the
// service records about the test's own requests.
const fixtureEnd = "range_end=2026-05-01T00:00:00Z"

// TestCompressedFiles: compression=gzip|zstd makes the stored file itself
// compressed; it decodes to the identity file, and the manifest describes
// the compressed bytes.
func TestCompressedFiles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		_, seed, err := manifest.GenerateKey()
		apptest.Must(t, err)
		o.Env = map[string]string{"SIGNING_KEY": seed}
		env := apptest.Boot(t, o)
		key := env.Key("acme")
		env.Ingest(key, formatFixture())
		for _, c := range []struct {
			query, ct, ext string
			decode         func(io.Reader) (io.Reader, error)
		}{
			// Both ends of each comparison end before the service's own
			// (self-audit) events of this test, which an open range would
			// include, more of them in the later export.
			{"compression=gzip&" + fixtureEnd, "application/gzip", ".csv.gz", func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
			{"compression=zstd&file_type=ndjson&" + fixtureEnd, "application/zstd", ".ndjson.zst", func(r io.Reader) (io.Reader, error) {
				d, err := zstd.NewReader(r)
				return d, err
			}},
		} {
			identityQuery := strings.NewReplacer("compression=gzip", "", "compression=zstd", "").Replace(c.query)
			_, identity := env.Do(http.MethodGet, exportPath+"?"+identityQuery, key, nil)
			res, body := env.Do(http.MethodGet, exportPath+"?"+c.query, key, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", c.query, res.StatusCode, body)
			}
			if ct := res.Header.Get("Content-Type"); ct != c.ct || res.Header.Get("Content-Encoding") != "" {
				t.Errorf("%s: content type %q, encoding %q", c.query, ct, res.Header.Get("Content-Encoding"))
			}
			if cd := res.Header.Get("Content-Disposition"); !strings.HasSuffix(cd, c.ext+`"`) {
				t.Errorf("%s: content disposition %q", c.query, cd)
			}
			d, err := c.decode(bytes.NewReader(body))
			apptest.Must(t, err)
			plain, err := io.ReadAll(d)
			apptest.Must(t, err)
			if !bytes.Equal(plain, identity) {
				t.Errorf("%s: decoded file differs from the identity file (%d vs %d bytes)", c.query, len(plain), len(identity))
			}
			// Stored form: the manifest and the headers describe the
			// compressed bytes.
			id := res.Header.Get("X-Export-Id")
			res, stored := env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+id+"/file", key, nil)
			sum := sha256.Sum256(stored)
			if res.StatusCode != http.StatusOK || !bytes.Equal(stored, body) || res.Header.Get("X-Checksum-SHA256") != hex.EncodeToString(sum[:]) {
				t.Errorf("%s: stored file %d, digest %s", c.query, res.StatusCode, res.Header.Get("X-Checksum-SHA256"))
			}
			res, mb := env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+id+"/manifest", key, nil)
			var m struct {
				ByteSize int64  `json:"byte_size"`
				SHA256   string `json:"sha256"`
				Filters  struct {
					Compression string `json:"compression"`
				} `json:"filters"`
			}
			apptest.Must(t, json.Unmarshal(mb, &m))
			if res.StatusCode != http.StatusOK || m.ByteSize != int64(len(body)) || m.SHA256 != hex.EncodeToString(sum[:]) ||
				m.Filters.Compression == "" {
				t.Errorf("%s: manifest %d %s", c.query, res.StatusCode, mb)
			}
			_, st := env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+id, key, nil)
			if !strings.Contains(string(st), `"compression":"`) {
				t.Errorf("%s: status does not say compression: %s", c.query, st)
			}
		}
	})
}

// TestScheduleFormats: a schedule keeps the file options and its run
// produces the file they describe; a bad option is refused at creation.
func TestScheduleFormats(t *testing.T) {
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file"})
	key := env.Key("acme")
	env.Ingest(key, formatFixture())
	const schedules = "/v5/audit-sentinel/export-schedules"
	body := weekly()
	body["window"] = map[string]any{"kind": "last_hours", "hours": 8784} // the fixture is in April 2026
	body["filters"] = map[string]any{"file_type": "ndjson", "compression": "zstd", "columns": []string{"event_id", "metadata"}}
	res, sc := doJSON(t, env, http.MethodPost, schedules, key, body)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %v", res.StatusCode, sc)
	}
	if f := sc["filters"].(map[string]any); f["compression"] != "zstd" || f["file_type"] != "ndjson" || len(f["columns"].([]any)) != 2 {
		t.Errorf("filters %v", f)
	}
	res, st := doJSON(t, env, http.MethodPost, schedules+"/"+sc["id"].(string)+"/run", key, nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("run: %d %v", res.StatusCode, st)
	}
	done := env.WaitExport(key, st["id"].(string))
	if done["status"] != "completed" || done["compression"] != "zstd" {
		t.Fatalf("run-now export: %v", done)
	}
	res, file := env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+st["id"].(string)+"/file", key, nil)
	d, err := zstd.NewReader(bytes.NewReader(file))
	apptest.Must(t, err)
	plain, err := io.ReadAll(d)
	apptest.Must(t, err)
	if res.Header.Get("Content-Type") != "application/zstd" || !bytes.HasPrefix(plain, []byte(`{"schema_version":1,"id":"evt-`)) {
		t.Errorf("scheduled file: %s %.200s", res.Header.Get("Content-Type"), plain)
	}
	body["filters"] = map[string]any{"file_type": "pdf", "compression": "gzip"}
	if res, out := doJSON(t, env, http.MethodPost, schedules, key, body); res.StatusCode != http.StatusBadRequest ||
		!strings.Contains(errParam(out), "compression") {
		t.Errorf("pdf+gzip schedule: %d %v", res.StatusCode, out)
	}
}

// expectRefusal requests the export query and expects a 400 naming param;
// it returns the error's list of allowed values.
func expectRefusal(t *testing.T, env *apptest.Env, key, query, param string) (allowed []string) {
	t.Helper()
	res, body := env.Do(http.MethodGet, exportPath+"?"+query, key, nil)
	var eb struct {
		Error struct {
			Param   string   `json:"param"`
			Allowed []string `json:"allowed"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &eb)
	if res.StatusCode != http.StatusBadRequest || eb.Error.Param != param {
		t.Errorf("%s: %d %s, want 400 naming %s", query, res.StatusCode, body, param)
	}
	return eb.Error.Allowed
}
