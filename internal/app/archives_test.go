package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/httpapi"
)

const exportsPath = "/v5/audit-sentinel/exports"

// makeExports requests one export per query, waits for each and returns
// their ids in creation order.
func makeExports(t *testing.T, env *apptest.Env, key string, queries ...string) []string {
	t.Helper()
	var ids []string
	for _, q := range queries {
		res, body := env.Do(http.MethodGet, exportPath+"?"+q, key, nil, "Prefer", "respond-async")
		if res.StatusCode != http.StatusAccepted && res.StatusCode != http.StatusOK {
			t.Fatalf("export %s: %d %s", q, res.StatusCode, body)
		}
		id := exportIDOf(t, res, body)
		if st := env.WaitExport(key, id); st["status"] != "completed" {
			t.Fatalf("export %s: %v", id, st)
		}
		ids = append(ids, id)
	}
	return ids
}

func listPage(t *testing.T, env *apptest.Env, key, query string) (httpapi.ArchiveList, *http.Response) {
	t.Helper()
	res, body := env.Do(http.MethodGet, exportsPath+"?"+query, key, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("list %q: %d %s", query, res.StatusCode, body)
	}
	var l httpapi.ArchiveList
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatalf("list %q: %v: %s", query, err, body)
	}
	return l, res
}

func idsOfList(l httpapi.ArchiveList) []string {
	ids := []string{}
	for _, e := range l.Exports {
		ids = append(ids, e.ID)
	}
	return ids
}

func TestListExports(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		key := env.Key("acme")
		other := env.Key("globex")
		env.Ingest(key, fixture())
		env.Ingest(other, fixture())
		ids := makeExports(t, env, key, "event_type=assessment", "event_type=task", "event_type=workflow",
			"sub_type=created", "sub_type=updated&file_type=pdf")
		makeExports(t, env, other, "event_type=task")
		newestFirst := slices.Clone(ids)
		slices.Reverse(newestFirst)

		// Three pages of two, two and one; the cursor carries the place.
		var got []string
		q := "limit=2"
		pages := 0
		for {
			l, res := listPage(t, env, key, q)
			pages++
			got = append(got, idsOfList(l)...)
			if l.NextCursor == "" {
				if res.Header.Get("Link") != "" {
					t.Errorf("last page has a Link header: %s", res.Header.Get("Link"))
				}
				break
			}
			if len(l.Exports) != 2 || !strings.Contains(res.Header.Get("Link"), `rel="next"`) {
				t.Fatalf("page %d: %d entries, Link %q", pages, len(l.Exports), res.Header.Get("Link"))
			}
			q = "limit=2&cursor=" + url.QueryEscape(l.NextCursor)
		}
		if pages != 3 || !slices.Equal(got, newestFirst) {
			t.Fatalf("pages=%d ids=%v, want 3 pages of %v", pages, got, newestFirst)
		}

		// Entries carry the stored file's facts and links.
		l, _ := listPage(t, env, key, "")
		if len(l.Exports) != 5 || l.NextCursor != "" {
			t.Fatalf("default page: %d entries, cursor %q", len(l.Exports), l.NextCursor)
		}
		e := l.Exports[0]
		if e.Status != "completed" || e.FileType != "pdf" || e.SizeBytes == nil || *e.SizeBytes == 0 ||
			len(e.SHA256) != 64 || e.CompletedAt == nil || e.ExpiresAt == nil || e.RowsTotal == nil ||
			e.ManifestURL != exportsPath+"/"+e.ID+"/manifest" || (e.PresignURL != "") != (o.Storage == "s3") ||
			(o.Storage == "s3" && e.PresignURL != exportsPath+"/"+e.ID+"/download-url") ||
			e.FileURL != exportsPath+"/"+e.ID+"/file" || len(e.Filters.SubTypes) != 1 {
			t.Fatalf("entry: %+v", e)
		}

		// Filters.
		if l, _ := listPage(t, env, key, "file_type=pdf"); !slices.Equal(idsOfList(l), ids[4:]) {
			t.Errorf("file_type=pdf: %v", idsOfList(l))
		}
		if l, _ := listPage(t, env, key, "status=failed&status=running"); len(l.Exports) != 0 {
			t.Errorf("status=failed,running: %v", idsOfList(l))
		}
		if l, _ := listPage(t, env, key, "status=completed,expired&file_type=csv"); len(l.Exports) != 4 {
			t.Errorf("status=completed,expired&file_type=csv: %v", idsOfList(l))
		}
		if l, _ := listPage(t, env, key, "schedule_id=sch_none"); len(l.Exports) != 0 {
			t.Errorf("schedule_id: %v", idsOfList(l))
		}
		future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		past := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
		if l, _ := listPage(t, env, key, "created_from="+future); len(l.Exports) != 0 {
			t.Errorf("created_from=future: %v", idsOfList(l))
		}
		if l, _ := listPage(t, env, key, "created_from="+past+"&created_to="+future); len(l.Exports) != 5 {
			t.Errorf("created range: %v", idsOfList(l))
		}

		// Bad parameters name themselves.
		for q, param := range map[string]string{
			"limit=0": "limit", "limit=501": "limit", "limit=ten": "limit", "status=done": "status",
			"file_type=xls": "file_type", "created_from=yesterday": "created_from", "cursor=bm9wZQ": "cursor",
			"cursor=%%%": "query", "sort=asc": "sort", "limit=1&limit=2": "limit",
			"created_from=" + future + "&created_to=" + past: "created_to",
		} {
			res, body := env.Do(http.MethodGet, exportsPath+"?"+q, key, nil)
			var eb httpapi.ErrorBody
			_ = json.Unmarshal(body, &eb)
			if res.StatusCode != http.StatusBadRequest || eb.Error.Param != param {
				t.Errorf("%s: %d %s, want 400 naming %s", q, res.StatusCode, body, param)
			}
		}
		if res, _ := env.Do(http.MethodGet, exportsPath, "", nil); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("without a key: %d", res.StatusCode)
		}
	})
}

func TestDeleteExport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		key := env.Key("acme")
		other := env.Key("globex")
		env.Ingest(key, fixture())
		id := makeExports(t, env, key, "event_type=assessment")[0]
		ex, err := env.Deps.Store.GetExport(t.Context(), "acme", id)
		apptest.Must(t, err)
		if _, err := env.Deps.Bucket.Stat(t.Context(), ex.ObjectKey); err != nil {
			t.Fatal(err)
		}

		if res, body := env.Do(http.MethodDelete, exportsPath+"/"+id, other, nil); res.StatusCode != http.StatusNotFound {
			t.Fatalf("another tenant's delete: %d %s", res.StatusCode, body)
		}
		if res, body := env.Do(http.MethodDelete, exportsPath+"/"+id, key, nil); res.StatusCode != http.StatusNoContent {
			t.Fatalf("delete: %d %s", res.StatusCode, body)
		}
		if _, err := env.Deps.Bucket.Stat(t.Context(), ex.ObjectKey); !errors.Is(err, audit.ErrNotFound) {
			t.Fatalf("object after delete: %v", err)
		}
		for _, p := range []string{"", "/file"} {
			if res, _ := env.Do(http.MethodGet, exportsPath+"/"+id+p, key, nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s after delete: %d", p, res.StatusCode)
			}
		}
		if res, _ := env.Do(http.MethodDelete, exportsPath+"/"+id, key, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("second delete: %d", res.StatusCode)
		}

		// A running export is the worker's: 409.
		now := time.Now()
		apptest.Must(t, env.Deps.Store.CreateExport(t.Context(), audit.Export{
			ID: "exp_running", TenantID: "acme", RequestHash: "h", Status: audit.StatusRunning, RowsTotal: -1,
			Params: audit.ExportParams{FileType: audit.FileCSV, Locale: "en", Timezone: "UTC"}, CreatedAt: now, StartedAt: &now,
		}))
		res, body := env.Do(http.MethodDelete, exportsPath+"/exp_running", key, nil)
		var eb httpapi.ErrorBody
		_ = json.Unmarshal(body, &eb)
		if res.StatusCode != http.StatusConflict || eb.Error.Code != audit.ECONFLICT || !strings.Contains(eb.Error.Message, "running") {
			t.Fatalf("delete running: %d %s", res.StatusCode, body)
		}
		if _, err := env.Deps.Store.GetExport(t.Context(), "acme", "exp_running"); err != nil {
			t.Fatalf("running export gone after a refused delete: %v", err)
		}
	})
}

func TestDownloadURL(t *testing.T) {
	t.Run("s3", func(t *testing.T) {
		t.Parallel()
		env := apptest.Boot(t, apptest.Options{Database: "postgres", Storage: "s3"})
		key := env.Key("acme")
		env.Ingest(key, fixture())
		id := makeExports(t, env, key, "event_type=task")[0]
		res, file := env.Do(http.MethodGet, exportsPath+"/"+id+"/file", key, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("file: %d", res.StatusCode)
		}
		sum := sha256.Sum256(file)

		res, body := env.Do(http.MethodGet, exportsPath+"/"+id+"/download-url?ttl=10m", key, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("download-url: %d %s", res.StatusCode, body)
		}
		var d httpapi.DownloadURL
		apptest.Must(t, json.Unmarshal(body, &d))
		if left := time.Until(d.ExpiresAt); left < 9*time.Minute || left > 10*time.Minute+time.Second {
			t.Errorf("expires in %s, want 10m", left)
		}
		if d.SHA256 != hex.EncodeToString(sum[:]) || d.SizeBytes != int64(len(file)) || !strings.HasSuffix(d.Filename, ".csv") {
			t.Errorf("answer: %+v", d)
		}
		// Plain net/http, no API key: the signature is the authorisation.
		got, err := http.Get(d.URL)
		apptest.Must(t, err)
		b, _ := io.ReadAll(got.Body)
		got.Body.Close()
		if got.StatusCode != http.StatusOK || !bytes.Equal(b, file) {
			t.Fatalf("GET presigned: %d, %d bytes (want %d)", got.StatusCode, len(b), len(file))
		}
		if cd := got.Header.Get("Content-Disposition"); !strings.Contains(cd, d.Filename) {
			t.Errorf("Content-Disposition %q, want %s", cd, d.Filename)
		}

		res, _ = env.Do(http.MethodGet, exportsPath+"/"+id+"/download-url", key, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("default ttl: %d", res.StatusCode)
		}
		for q, param := range map[string]string{"ttl=1s": "ttl", "ttl=48h": "ttl", "ttl=soon": "ttl", "expires=1": "expires"} {
			res, body := env.Do(http.MethodGet, exportsPath+"/"+id+"/download-url?"+q, key, nil)
			var eb httpapi.ErrorBody
			_ = json.Unmarshal(body, &eb)
			if res.StatusCode != http.StatusBadRequest || eb.Error.Param != param {
				t.Errorf("%s: %d %s", q, res.StatusCode, body)
			}
		}
	})
	t.Run("file", func(t *testing.T) {
		t.Parallel()
		env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file"})
		key := env.Key("acme")
		env.Ingest(key, fixture())
		id := makeExports(t, env, key, "event_type=task")[0]
		res, body := env.Do(http.MethodGet, exportsPath+"/"+id+"/download-url", key, nil)
		var eb httpapi.ErrorBody
		_ = json.Unmarshal(body, &eb)
		if res.StatusCode != http.StatusNotImplemented || eb.Error.Code != audit.ENOTIMPLEMENTED ||
			!strings.Contains(eb.Error.Message, "S3") {
			t.Fatalf("download-url on file storage: %d %s", res.StatusCode, body)
		}
		// Without SIGNING_KEY and outside embedded mode, manifests are off
		// and say how to turn them on; the key list is empty.
		res, body = env.Do(http.MethodGet, exportsPath+"/"+id+"/manifest", key, nil)
		if res.StatusCode != http.StatusNotImplemented || !strings.Contains(string(body), "SIGNING_KEY") {
			t.Fatalf("manifest without a key: %d %s", res.StatusCode, body)
		}
		res, body = env.Do(http.MethodGet, "/v5/audit-sentinel/signing-keys", key, nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"keys":[]`) {
			t.Fatalf("signing-keys without a key: %d %s", res.StatusCode, body)
		}
	})
}
