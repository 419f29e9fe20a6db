package app_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
)

const exportPath = "/v5/audit-sentinel/events/export"

// backends is every combination the end-to-end suite runs on.
var backends = []apptest.Options{
	{Database: "postgres", Storage: "s3"},
	{Database: "sqlite", Storage: "file"},
}

func forEachBackend(t *testing.T, fn func(t *testing.T, o apptest.Options)) {
	for _, o := range backends {
		t.Run(o.Database+"+"+o.Storage, func(t *testing.T) {
			t.Parallel()
			fn(t, o)
		})
	}
}

// fixture is a known set of events; the expected content of any export is
// computed from it with audit.Filter.Match, the reference semantics.
func fixture() []map[string]any {
	base := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	types := []string{"assessment", "task", "workflow"}
	subs := []string{"created", "updated", "deleted"}
	srcs := []string{"assessment_service", "task_platform"}
	var out []map[string]any
	for i := 0; i < 60; i++ {
		md := map[string]any{"entity_id": fmt.Sprintf("ent-%d", i%4)}
		if i%3 == 0 {
			md["assessment_id"] = fmt.Sprintf("asm-%d", i%2)
		}
		if i%5 == 0 {
			md["ip"] = "192.0.2.1"
		}
		ev := map[string]any{
			"id":            fmt.Sprintf("evt-%03d", i),
			"occurred_at":   base.Add(time.Duration(i) * time.Hour).Format(time.RFC3339Nano),
			"event_type":    types[i%3],
			"sub_type":      subs[(i/3)%3],
			"system_source": srcs[i%2],
			"auditee_id":    fmt.Sprintf("user-%d", i%5),
			"description":   fmt.Sprintf("event %d, with \"quotes\", commas and ünïcödé", i),
			"metadata":      md,
		}
		if i == 7 {
			ev["description"] = "=HYPERLINK(\"http://evil\")"
		}
		out = append(out, ev)
	}
	return out
}

func toEvents(raw []map[string]any) []audit.Event {
	var out []audit.Event
	for _, r := range raw {
		t, _ := time.Parse(time.RFC3339Nano, r["occurred_at"].(string))
		md := map[string]string{}
		for k, v := range r["metadata"].(map[string]any) {
			md[k] = v.(string)
		}
		out = append(out, audit.Event{ID: r["id"].(string), OccurredAt: t, EventType: r["event_type"].(string),
			SubType: r["sub_type"].(string), SystemSource: r["system_source"].(string),
			AuditeeID: r["auditee_id"].(string), Description: r["description"].(string), Metadata: md})
	}
	return out
}

// idsOf parses a CSV export and returns its event ids in order, checking
// the header and column count on the way.
func idsOf(t *testing.T, body []byte) []string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("parse csv: %v\n%s", err, body)
	}
	if len(recs) == 0 {
		t.Fatal("empty csv: no header")
	}
	if len(recs[0]) != 7+len(audit.MetadataKeys)+1 {
		t.Fatalf("header has %d columns: %q", len(recs[0]), recs[0])
	}
	ids := []string{}
	for _, r := range recs[1:] {
		ids = append(ids, r[0])
	}
	return ids
}

// withoutSelfAudit is idsOf without the service's own events, which it
// counts.
func withoutSelfAudit(t *testing.T, body []byte) (ids []string, self int) {
	t.Helper()
	all := idsOf(t, body)
	recs, _ := csv.NewReader(bytes.NewReader(body)).ReadAll()
	ids = []string{}
	for i, r := range recs[1:] {
		if r[audit.ColumnIndex("system_source")] == audit.SelfAuditSource {
			self++
			continue
		}
		ids = append(ids, all[i])
	}
	return ids, self
}

func expectedIDs(events []audit.Event, f audit.Filter) []string {
	ids := []string{}
	for i := range events {
		if f.Match(&events[i]) {
			ids = append(ids, events[i].ID)
		}
	}
	return ids
}

func TestExportFilters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		key := env.Key("acme")
		raw := fixture()
		env.Ingest(key, raw)
		events := toEvents(raw)
		ts := func(s string) *time.Time { v, _ := time.Parse(time.RFC3339, s); return &v }
		cases := []struct {
			query string
			f     audit.Filter
		}{
			{"", audit.Filter{}},
			{"event_type=assessment", audit.Filter{EventTypes: []string{"assessment"}}},
			{"event_type=assessment&event_type=task", audit.Filter{EventTypes: []string{"assessment", "task"}}},
			{"event_type[]=workflow&sub_type=created", audit.Filter{EventTypes: []string{"workflow"}, SubTypes: []string{"created"}}},
			{"system_source=task_platform&auditee_id=user-1&auditee_id=user-2",
				audit.Filter{SystemSources: []string{"task_platform"}, AuditeeIDs: []string{"user-1", "user-2"}}},
			{"metadata[entity_id]=ent-1", audit.Filter{Metadata: map[string][]string{"entity_id": {"ent-1"}}}},
			{"metadata[entity_id]=ent-1&metadata[entity_id]=ent-2&metadata[assessment_id]=asm-0",
				audit.Filter{Metadata: map[string][]string{"entity_id": {"ent-1", "ent-2"}, "assessment_id": {"asm-0"}}}},
			{"range_start=2026-04-10T05:00:00.000Z&range_end=2026-04-10T09:00:00Z",
				audit.Filter{RangeStart: ts("2026-04-10T05:00:00Z"), RangeEnd: ts("2026-04-10T09:00:00Z")}},
			{"range_start=2026-04-11T00:00:00Z", audit.Filter{RangeStart: ts("2026-04-11T00:00:00Z")}},
			{"event_type=nothing-matches", audit.Filter{EventTypes: []string{"nothing-matches"}}},
		}
		// The queries that also match the service's own records of the
		// earlier requests (self-audit events, stamped now): they are
		// ordinary events, so an open-ended range includes them.
		selfAudit := map[string]bool{"range_start=2026-04-11T00:00:00Z": true}
		for _, c := range cases {
			res, body := env.Do(http.MethodGet, exportPath+"?"+c.query, key, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%q: %d %s", c.query, res.StatusCode, body)
			}
			got, self := withoutSelfAudit(t, body)
			if want := expectedIDs(events, c.f); !slices.Equal(got, want) {
				t.Errorf("%q:\n got %v\nwant %v", c.query, got, want)
			}
			if (self > 0) != selfAudit[c.query] {
				t.Errorf("%q: %d self-audit events, want them: %v", c.query, self, selfAudit[c.query])
			}
		}
	})
}

func TestCSVContent(t *testing.T) {
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file"})
	key := env.Key("acme")
	env.Ingest(key, fixture())
	res, body := env.Do(http.MethodGet, exportPath+"?event_type=task&timezone=America/New_York&range_end=2026-04-10T08:00:00Z", key, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// evt-001 occurred 2026-04-10T01:00Z = 21:00 the day before in New York (EDT).
	if recs[1][0] != "evt-001" || recs[1][1] != "2026-04-09T21:00:00-04:00" {
		t.Errorf("first row %q", recs[1])
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("content type %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment; filename=\"audit-events_acme_") {
		t.Errorf("content disposition %q", cd)
	}
	for _, h := range []string{"ETag", "Repr-Digest", "Content-Length", "Accept-Ranges"} {
		if res.Header.Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	// The injection cell is neutralised.
	_, body = env.Do(http.MethodGet, exportPath+"?auditee_id=user-2&event_type=task", key, nil)
	if !strings.Contains(string(body), `'=HYPERLINK`) {
		t.Errorf("formula not neutralised:\n%s", body)
	}
}

func TestSampleRequestsFromTheDoc(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		key := env.Key("acme")
		raw := fixture()
		raw[0]["metadata"].(map[string]any)["entity_id"] = "497f6eca-6276-4993-bfeb-53cbbbba6f08"
		env.Ingest(key, raw)
		// Character for character as the reference document writes them.
		res, body := env.Do(http.MethodGet, "/v5/audit-sentinel/events/export?file_type=csv&event_type=assessment&locale=en", key, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("sample 1: %d %s", res.StatusCode, body)
		}
		if got := idsOf(t, body); len(got) != 20 {
			t.Errorf("sample 1: %d rows", len(got))
		}
		res, body = env.Do(http.MethodGet, "/v5/audit-sentinel/events/export?file_type=pdf&metadata[entity_id=497f6eca-6276-4993-bfeb-53cbbbba6f08]&locale=en", key, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("sample 2: %d %s", res.StatusCode, body)
		}
		if !bytes.HasPrefix(body, []byte("%PDF-")) || res.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("sample 2: not a PDF: %q", body[:min(len(body), 20)])
		}
	})
}

func TestAuth(t *testing.T) {
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file"})
	key := env.Key("acme")
	for name, k := range map[string]string{"missing": "", "unknown": "ask_" + strings.Repeat("0", 64)} {
		res, body := env.Do(http.MethodGet, exportPath, k, nil)
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"code":"unauthorized"`) {
			t.Errorf("%s key: %d %s", name, res.StatusCode, body)
		}
	}
	keys, err := env.Deps.Store.ListAPIKeys(t.Context(), "acme")
	apptest.Must(t, err)
	apptest.Must(t, env.Deps.Store.RevokeAPIKey(t.Context(), keys[0].ID, time.Now()))
	res, body := env.Do(http.MethodGet, exportPath, key, nil)
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked key: %d %s", res.StatusCode, body)
	}
	res, _ = env.Do(http.MethodPost, "/v5/audit-sentinel/events", key, strings.NewReader(`{"events":[]}`))
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked key ingest: %d", res.StatusCode)
	}
}

func TestTenantIsolation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		a, b := env.Key("tenant-a"), env.Key("tenant-b")
		env.Ingest(a, fixture())
		// Same ids in tenant B are B's own events, not duplicates of A's.
		rawB := fixture()[:5]
		out := env.Ingest(b, rawB)
		if out["accepted"].(float64) != 5 {
			t.Fatalf("tenant b ingest: %v", out)
		}
		res, body := env.Do(http.MethodGet, exportPath, b, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		if n := len(idsOf(t, body)); n != 5 {
			t.Errorf("tenant b sees %d events, want its own 5", n)
		}
		// A's export id is a 404 for B, on every export route.
		res, body = env.Do(http.MethodGet, exportPath+"?event_type=task", a, nil, "Prefer", "respond-async")
		if res.StatusCode != http.StatusAccepted && res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		id := exportIDOf(t, res, body)
		for _, p := range []string{"/v5/audit-sentinel/exports/" + id, "/v5/audit-sentinel/exports/" + id + "/file"} {
			if res, body := env.Do(http.MethodGet, p, b, nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("tenant b reads %s: %d %s", p, res.StatusCode, body)
			}
		}
	})
}

func exportIDOf(t *testing.T, res *http.Response, body []byte) string {
	t.Helper()
	if id := res.Header.Get("X-Export-Id"); id != "" {
		return id
	}
	var st map[string]any
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("status body: %v: %s", err, body)
	}
	return st["id"].(string)
}

func TestAsyncFlowAndRanges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		key := env.Key("acme")
		env.Ingest(key, fixture())
		res, body := env.Do(http.MethodGet, exportPath+"?sub_type=updated", key, nil, "Prefer", "respond-async")
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("want 202, got %d %s", res.StatusCode, body)
		}
		loc := res.Header.Get("Location")
		id := exportIDOf(t, res, body)
		if res.Header.Get("Preference-Applied") != "respond-async" {
			t.Errorf("Preference-Applied %q", res.Header.Get("Preference-Applied"))
		}
		if loc != "/v5/audit-sentinel/exports/"+id || res.Header.Get("Retry-After") == "" {
			t.Errorf("Location %q Retry-After %q", loc, res.Header.Get("Retry-After"))
		}
		st := env.WaitExport(key, id)
		want := float64(len(expectedIDs(toEvents(fixture()), audit.Filter{SubTypes: []string{"updated"}})))
		if st["status"] != "completed" || st["rows_written"].(float64) != want || st["rows_total"].(float64) != want {
			t.Fatalf("status %v", st)
		}
		res, full := env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+id+"/file", key, nil)
		if res.StatusCode != http.StatusOK || fmt.Sprint(len(full)) != res.Header.Get("Content-Length") {
			t.Fatalf("file: %d, %d bytes, Content-Length %s", res.StatusCode, len(full), res.Header.Get("Content-Length"))
		}
		// Retrying the original URL attaches to the same export and gets its file.
		res, again := env.Do(http.MethodGet, exportPath+"?sub_type=updated", key, nil)
		if res.StatusCode != http.StatusOK || !bytes.Equal(again, full) || res.Header.Get("X-Export-Id") != id {
			t.Errorf("retry: %d, same bytes %v, id %s want %s", res.StatusCode, bytes.Equal(again, full), res.Header.Get("X-Export-Id"), id)
		}
		for _, r := range []struct {
			hdr        string
			start, end int
		}{{"bytes=0-9", 0, 10}, {"bytes=100-", 100, len(full)}, {fmt.Sprintf("bytes=-%d", 7), len(full) - 7, len(full)}} {
			res, part := env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+id+"/file", key, nil, "Range", r.hdr)
			if res.StatusCode != http.StatusPartialContent || !bytes.Equal(part, full[r.start:r.end]) {
				t.Errorf("range %s: %d %q", r.hdr, res.StatusCode, part)
			}
		}
		etag := res.Header.Get("ETag")
		// HEAD: the same headers, no body.
		head, hbody := env.Do(http.MethodHead, "/v5/audit-sentinel/exports/"+id+"/file", key, nil)
		if head.StatusCode != http.StatusOK || len(hbody) != 0 || head.Header.Get("ETag") != etag ||
			head.Header.Get("Content-Length") != fmt.Sprint(len(full)) || head.Header.Get("Repr-Digest") == "" {
			t.Errorf("HEAD: %d, %d body bytes, headers %v", head.StatusCode, len(hbody), head.Header)
		}
		if head, _ := env.Do(http.MethodHead, "/v5/audit-sentinel/exports/"+id+"/file", "", nil); head.StatusCode != http.StatusUnauthorized {
			t.Errorf("HEAD without a key: %d", head.StatusCode)
		}
		res, _ = env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+id+"/file", key, nil, "If-None-Match", etag)
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %d", res.StatusCode)
		}
	})
}

func TestConcurrentIdenticalRequestsMakeOneExport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		key := env.Key("acme")
		env.Ingest(key, fixture())
		var wg sync.WaitGroup
		ids := make([]string, 10)
		for i := range ids {
			wg.Go(func() {
				res, body := env.Do(http.MethodGet, exportPath+"?event_type=workflow&locale=de", key, nil)
				if res.StatusCode != http.StatusOK {
					t.Errorf("%d %s", res.StatusCode, body)
					return
				}
				ids[i] = res.Header.Get("X-Export-Id")
			})
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("identical requests got different exports: %v", ids)
			}
		}
		list, err := env.Deps.Store.ListExports(t.Context(), audit.ExportListFilter{TenantID: "acme", Limit: 100})
		apptest.Must(t, err)
		if len(list) != 1 || list[0].Attempts != 1 {
			t.Errorf("want one export run once, got %d exports (attempts %v)", len(list), attemptsOf(list))
		}
	})
}

// A tenant at EXPORT_MAX_ACTIVE_PER_TENANT gets 429 with Retry-After for a
// new export, and nothing is queued for it; identical requests still attach,
// and other tenants are not affected.
func TestTenantActiveExportLimit(t *testing.T) {
	// No worker: the exports stay queued.
	env := apptest.Boot(t, apptest.Options{NoWorker: true, Env: map[string]string{"EXPORT_MAX_ACTIVE_PER_TENANT": "2"}})
	key, other := env.Key("acme"), env.Key("globex")
	async := []string{"Prefer", "respond-async"}
	for _, q := range []string{"?event_type=user", "?event_type=workflow"} {
		if res, body := env.Do(http.MethodGet, exportPath+q, key, nil, async...); res.StatusCode != http.StatusAccepted {
			t.Fatalf("%s under the limit: %d %s", q, res.StatusCode, body)
		}
	}
	res, body := env.Do(http.MethodGet, exportPath+"?event_type=system", key, nil, async...)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), `"code":"too_many"`) {
		t.Fatalf("at the limit: %d Retry-After %q %s; want 429 too_many with Retry-After", res.StatusCode,
			res.Header.Get("Retry-After"), body)
	}
	list, err := env.Deps.Store.ListExports(t.Context(), audit.ExportListFilter{TenantID: "acme", Limit: 100})
	apptest.Must(t, err)
	if len(list) != 2 {
		t.Fatalf("%d exports recorded; the refused one must not be", len(list))
	}
	if res, body := env.Do(http.MethodGet, exportPath+"?event_type=user", key, nil, async...); res.StatusCode != http.StatusAccepted {
		t.Fatalf("identical request at the limit: %d %s; want it attached (202)", res.StatusCode, body)
	}
	if res, body := env.Do(http.MethodGet, exportPath+"?event_type=system", other, nil, async...); res.StatusCode != http.StatusAccepted {
		t.Fatalf("another tenant: %d %s", res.StatusCode, body)
	}
}

func attemptsOf(l []audit.Export) []int {
	var out []int
	for _, e := range l {
		out = append(out, e.Attempts)
	}
	return out
}

func TestBadRequests(t *testing.T) {
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file"})
	key := env.Key("acme")
	long := strings.Repeat("x", 300)
	many := strings.Repeat("event_type=a&", 101)
	cases := []struct{ query, param string }{
		{"file_type=xlsx", "file_type"},
		{"locale=xx", "locale"},
		{"file_type=pdf&paper=a3", "paper"},
		{"timezone=Mars/Olympus", "timezone"},
		{"timezone=Local", "timezone"},
		{"range_start=yesterday", "range_start"},
		{"range_end=2026-13-01T00:00:00Z", "range_end"},
		{"range_start=2026-04-11T00:00:00Z&range_end=2026-04-10T00:00:00Z", "range_start"},
		{"metadata[colour]=red", "metadata[colour]"},
		{"metadata=entity_id:1", "metadata"},
		{"event_typ=assessment", "event_typ"},
		{"event_type=" + long, "event_type"},
		{many, "event_type"},
		{"event_type=", "event_type"},
		{"file_type=csv&file_type=pdf", "file_type"},
		{"locale[]=en", "locale[]"},
		{"event_type=%zz", "query"},
	}
	for _, c := range cases {
		res, body := env.Do(http.MethodGet, exportPath+"?"+c.query, key, nil)
		var eb struct {
			Error struct{ Code, Message, Param string } `json:"error"`
		}
		_ = json.Unmarshal(body, &eb)
		if res.StatusCode != http.StatusBadRequest || eb.Error.Param != c.param || eb.Error.Message == "" {
			t.Errorf("%.60q: %d param %q (want %q): %s", c.query, res.StatusCode, eb.Error.Param, c.param, body)
		}
	}
	res, body := env.Do(http.MethodGet, exportPath+"?locale=xx", key, nil)
	if !strings.Contains(string(body), "de") || !strings.Contains(string(body), "supported") {
		t.Errorf("locale error does not list supported locales: %s", body)
	}
	_ = res
	list, err := env.Deps.Store.ListExports(t.Context(), audit.ExportListFilter{TenantID: "acme", Limit: 10})
	apptest.Must(t, err)
	if len(list) != 0 {
		t.Errorf("a bad request queued an export: %d", len(list))
	}
}

func TestIngest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		key := env.Key("acme")
		raw := fixture()[:10]
		out := env.Ingest(key, raw)
		if out["accepted"].(float64) != 10 || out["duplicates"].(float64) != 0 {
			t.Errorf("first: %v", out)
		}
		out = env.Ingest(key, raw)
		if out["accepted"].(float64) != 0 || out["duplicates"].(float64) != 10 {
			t.Errorf("re-sent: %v", out)
		}
		// All or nothing: one bad event rejects the batch.
		bad := fixture()[20:25]
		delete(bad[2], "event_type")
		bad[4]["occurred_at"] = "not a time"
		b, _ := json.Marshal(map[string]any{"events": bad})
		res, body := env.Do(http.MethodPost, "/v5/audit-sentinel/events", key, bytes.NewReader(b), "Content-Type", "application/json")
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"index":2`) || !strings.Contains(string(body), `"index":4`) {
			t.Errorf("bad batch: %d %s", res.StatusCode, body)
		}
		n, err := env.Deps.Store.CountEvents(t.Context(), audit.Filter{TenantID: "acme"}, 0)
		apptest.Must(t, err)
		if n != 10 {
			t.Errorf("after a rejected batch the tenant has %d events, want 10", n)
		}
		// NDJSON, all or nothing as well.
		var nd bytes.Buffer
		for _, ev := range fixture()[30:40] {
			l, _ := json.Marshal(ev)
			nd.Write(append(l, '\n'))
		}
		res, body = env.Do(http.MethodPost, "/v5/audit-sentinel/events", key, bytes.NewReader(nd.Bytes()), "Content-Type", "application/x-ndjson")
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"accepted":10`) {
			t.Errorf("ndjson: %d %s", res.StatusCode, body)
		}
		nd.WriteString(`{"event_type":"x"}` + "\n")
		res, _ = env.Do(http.MethodPost, "/v5/audit-sentinel/events", key, bytes.NewReader(nd.Bytes()), "Content-Type", "application/x-ndjson")
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("bad ndjson: %d", res.StatusCode)
		}
		n, _ = env.Deps.Store.CountEvents(t.Context(), audit.Filter{TenantID: "acme"}, 0)
		if n != 20 {
			t.Errorf("tenant has %d events, want 20", n)
		}
		res, _ = env.Do(http.MethodPost, "/v5/audit-sentinel/events", key, strings.NewReader(`{"events":[{"tenant_id":"other","occurred_at":"2026-01-01T00:00:00Z","event_type":"a","sub_type":"b","system_source":"c"}]}`), "Content-Type", "application/json")
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("tenant_id in body: %d", res.StatusCode)
		}
	})
}

var _ = url.QueryEscape
