package app_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
)

// scrape reads a /metrics page into "name{labels}" -> value, labels as
// the exposition writes them (sorted by name).
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("scrape %s: %d %s", url, res.StatusCode, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape %s: line %q: %v", url, line, err)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMetricsAfterExport runs a real export through an api and a separate
// worker and checks both /metrics pages moved by exactly what happened:
// one export created and one reused, one attempt run, its rows and bytes.
func TestMetricsAfterExport(t *testing.T) {
	t.Parallel()
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file",
		Env: map[string]string{"METRICS_ADDR": "127.0.0.1:0"}})
	apiURL := env.URL + "/metrics"
	workerURL := "http://" + env.WorkerMain.MetricsAddr() + "/metrics"
	if a, b := env.Main.DebugAddr(), env.WorkerMain.DebugAddr(); a != "" || b != "" {
		t.Errorf("without DEBUG_ADDR the api serves profiles on %q, the worker on %q", a, b)
	}
	key := env.Key("acme")
	env.Ingest(key, fixture())

	api0, worker0 := scrape(t, apiURL), scrape(t, workerURL)
	const q = exportPath + "?event_type=task" // 20 of the fixture's 60
	res, body := env.Do(http.MethodGet, q, key, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export: %d %s", res.StatusCode, body)
	}
	res2, body2 := env.Do(http.MethodGet, q, key, nil) // identical: reused
	if res2.StatusCode != http.StatusOK || !bytes.Equal(body, body2) {
		t.Fatalf("second export: %d", res2.StatusCode)
	}
	_, _ = env.Do(http.MethodGet, "/v5/audit-sentinel/exports/0190-no-such-export", key, nil)

	// The GET answers once the record says completed; the worker counts
	// just after recording it, so wait for that signal.
	var worker1 map[string]float64
	deadline := time.Now().Add(10 * time.Second)
	for {
		worker1 = scrape(t, workerURL)
		if worker1[`sentinel_exports_completed_total{file_type="csv"}`] > worker0[`sentinel_exports_completed_total{file_type="csv"}`] ||
			time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	api1 := scrape(t, apiURL)

	delta := func(before, after map[string]float64, series string, want float64) {
		t.Helper()
		if _, ok := after[series]; !ok {
			t.Errorf("%s is not served", series)
			return
		}
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s moved by %v, want %v", series, got, want)
		}
	}
	const route = `sentinel_http_requests_total{code="200",method="GET",route="/v5/audit-sentinel/events/export"}`
	delta(api0, api1, route, 2)
	delta(api0, api1, `sentinel_http_requests_total{code="404",method="GET",route="/v5/audit-sentinel/exports/:id"}`, 1)
	delta(api0, api1, `sentinel_http_request_duration_seconds_count{method="GET",route="/v5/audit-sentinel/events/export"}`, 2)
	delta(api0, api1, `sentinel_exports_requested_total{file_type="csv",outcome="created"}`, 1)
	delta(api0, api1, `sentinel_exports_requested_total{file_type="csv",outcome="reused"}`, 1)

	delta(worker0, worker1, `sentinel_exports_started_total{file_type="csv"}`, 1)
	delta(worker0, worker1, `sentinel_exports_completed_total{file_type="csv"}`, 1)
	delta(worker0, worker1, `sentinel_export_rows_count{file_type="csv"}`, 1)
	delta(worker0, worker1, `sentinel_export_rows_sum{file_type="csv"}`, 20)
	delta(worker0, worker1, `sentinel_export_duration_seconds_count{file_type="csv"}`, 1)
	delta(worker0, worker1, `sentinel_export_store_seconds_count{file_type="csv"}`, 1)
	if took, store := worker1[`sentinel_export_duration_seconds_sum{file_type="csv"}`]-worker0[`sentinel_export_duration_seconds_sum{file_type="csv"}`],
		worker1[`sentinel_export_store_seconds_sum{file_type="csv"}`]-worker0[`sentinel_export_store_seconds_sum{file_type="csv"}`]; store <= 0 || store > took {
		t.Errorf("the export's store time %v s is not a part of its %v s", store, took)
	}
	delta(worker0, worker1, `sentinel_export_bytes_total{file_type="csv"}`, float64(len(body)))
	if got := worker1["sentinel_exports_in_flight"]; got != 0 {
		t.Errorf("sentinel_exports_in_flight = %v after the export, want 0", got)
	}

	// The ids never become labels; the queue and readiness are on both.
	for name, page := range map[string]map[string]float64{"api": api1, "worker": worker1} {
		for series := range page {
			if strings.Contains(series, "0190-no-such-export") || strings.Contains(series, "acme") {
				t.Errorf("%s: series %s carries an id", name, series)
			}
		}
		for _, dep := range []string{"database", "redis", "storage"} {
			if got := page[`sentinel_dependency_up{dependency="`+dep+`"}`]; got != 1 {
				t.Errorf("%s: sentinel_dependency_up{%s} = %v, want 1", name, dep, got)
			}
		}
		if got, ok := page[`sentinel_queue_tasks{queue="exports",state="pending"}`]; !ok || got != 0 {
			t.Errorf("%s: exports queue pending = %v (served %v), want 0", name, got, ok)
		}
		if got := page[`sentinel_queue_inspect_up{queue="exports"}`]; got != 1 {
			t.Errorf("%s: sentinel_queue_inspect_up = %v", name, got)
		}
	}
	// A separate worker serves no HTTP API, so no request series.
	for series := range worker1 {
		if strings.HasPrefix(series, "sentinel_http_requests_total") {
			t.Errorf("worker serves %s", series)
		}
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		r, err := http.Get("http://" + env.WorkerMain.MetricsAddr() + p)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Errorf("worker %s: %d", p, r.StatusCode)
		}
	}
}
