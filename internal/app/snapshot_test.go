package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/demo"
)

// TestExportSnapshotAndExactReuse is the reproduction: ingest an
// event, then repeat an export request made before it. The repeat must be
// a new export holding the event; an identical request with nothing new
// is the earlier export and says so (Age, X-Export-Reused); no-cache
// always starts a new one. Every file response says what it is as of.
func TestExportSnapshotAndExactReuse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		key := env.Key("acme")
		env.Ingest(key, fixture())
		const q = exportPath + "?event_type=assessment"
		get := func(header ...string) (*http.Response, []string) {
			t.Helper()
			res, body := env.Do(http.MethodGet, q, key, nil, header...)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("export: %d %s", res.StatusCode, body)
			}
			return res, idsOf(t, body)
		}
		first, ids1 := get()
		id1 := first.Header.Get("X-Export-Id")
		asOf, err := time.Parse(time.RFC3339Nano, first.Header.Get("X-Export-As-Of"))
		if err != nil || time.Since(asOf) > time.Minute || asOf.After(time.Now()) {
			t.Fatalf("X-Export-As-Of %q: %v", first.Header.Get("X-Export-As-Of"), err)
		}
		pos, err := strconv.ParseInt(first.Header.Get("X-Export-As-Of-Position"), 10, 64)
		if err != nil || pos <= 0 {
			t.Fatalf("X-Export-As-Of-Position %q", first.Header.Get("X-Export-As-Of-Position"))
		}
		snap, err := audit.ParseSnapshot(first.Header.Get("X-Export-Snapshot"))
		if err != nil || snap.Position() != pos {
			t.Fatalf("X-Export-Snapshot %q: %v", first.Header.Get("X-Export-Snapshot"), err)
		}
		if first.Header.Get("X-Export-Reused") != "false" || first.Header.Get("Age") != "" {
			t.Fatalf("a new export: X-Export-Reused %q, Age %q", first.Header.Get("X-Export-Reused"), first.Header.Get("Age"))
		}
		want := expectedIDs(toEvents(fixture()), audit.Filter{EventTypes: []string{"assessment"}})
		if !slices.Equal(ids1, want) {
			t.Fatalf("first export = %v, want %v", ids1, want)
		}

		// Nothing new, and something new that the request does not match:
		// the earlier export, said to be reused.
		for _, ev := range []map[string]any{nil, {"id": "task-later", "occurred_at": "2026-04-10T05:30:00Z",
			"event_type": "task", "sub_type": "created", "system_source": "task_platform"}} {
			if ev != nil {
				env.Ingest(key, []map[string]any{ev})
			}
			res, ids := get()
			if res.Header.Get("X-Export-Id") != id1 || res.Header.Get("X-Export-Reused") != "true" || res.Header.Get("Age") == "" {
				t.Fatalf("identical request (new non-matching event: %v): export %s reused %q Age %q; want %s reused",
					ev != nil, res.Header.Get("X-Export-Id"), res.Header.Get("X-Export-Reused"), res.Header.Get("Age"), id1)
			}
			if res.Header.Get("X-Export-Snapshot") != first.Header.Get("X-Export-Snapshot") || !slices.Equal(ids, ids1) {
				t.Fatal("a reused answer is not the earlier export")
			}
		}

		// A matching event ingested after the snapshot: a new export with it,
		// although it occurred before everything else.
		env.Ingest(key, []map[string]any{{"id": "asm-later", "occurred_at": "2026-04-09T23:00:00Z",
			"event_type": "assessment", "sub_type": "created", "system_source": "assessment_service"}})
		second, ids2 := get()
		id2 := second.Header.Get("X-Export-Id")
		if id2 == id1 || second.Header.Get("X-Export-Reused") != "false" {
			t.Fatalf("after a matching event: export %s (first %s), reused %q; want a new export", id2, id1, second.Header.Get("X-Export-Reused"))
		}
		if !slices.Equal(ids2, append([]string{"asm-later"}, want...)) {
			t.Fatalf("second export = %v, want asm-later first, then %v", ids2, want)
		}
		pos2, _ := strconv.ParseInt(second.Header.Get("X-Export-As-Of-Position"), 10, 64)
		if pos2 <= pos {
			t.Fatalf("second export's position %d is not after the first's %d", pos2, pos)
		}

		// Cache-Control: no-cache always makes a new export.
		third, ids3 := get("Cache-Control", "no-cache")
		if id3 := third.Header.Get("X-Export-Id"); id3 == id2 || id3 == id1 || third.Header.Get("X-Export-Reused") != "false" {
			t.Fatalf("no-cache: export %s reused %q; want a new one", id3, third.Header.Get("X-Export-Reused"))
		}
		if !slices.Equal(ids3, ids2) {
			t.Fatalf("no-cache export = %v, want %v", ids3, ids2)
		}

		// The status document says it too.
		res, body := env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+id1, key, nil)
		var st map[string]any
		if err := json.Unmarshal(body, &st); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("status: %d %s", res.StatusCode, body)
		}
		if st["as_of_snapshot"] != snap.String() || st["as_of_position"] != float64(pos) || st["as_of"] == nil {
			t.Fatalf("status of %s: as_of %v, position %v, snapshot %v", id1, st["as_of"], st["as_of_position"], st["as_of_snapshot"])
		}
		if _, ok := st["reused"]; ok {
			t.Fatalf("the status document of an export has no reuse to speak of: %s", body)
		}
	})
}

// TestReusedStatusSaysSo: a request answered 202 with an export made for an
// earlier identical request says reused and how old (no worker runs, so
// the exports stay queued).
func TestReusedStatusSaysSo(t *testing.T) {
	t.Parallel()
	env := apptest.Boot(t, apptest.Options{NoWorker: true})
	key := env.Key("acme")
	env.Ingest(key, fixture()[:3])
	status := func(header ...string) (*http.Response, map[string]any) {
		t.Helper()
		res, body := env.Do(http.MethodGet, exportPath, key, nil, append([]string{"Prefer", "respond-async"}, header...)...)
		var st map[string]any
		if err := json.Unmarshal(body, &st); err != nil || res.StatusCode != http.StatusAccepted {
			t.Fatalf("export: %d %s", res.StatusCode, body)
		}
		return res, st
	}
	_, st1 := status()
	if st1["reused"] != false || st1["age_seconds"] != nil || st1["as_of_snapshot"] == nil {
		t.Fatalf("new export: %v", st1)
	}
	time.Sleep(1100 * time.Millisecond) // Age counts whole seconds
	res, st2 := status()
	if st2["id"] != st1["id"] || st2["reused"] != true || st2["age_seconds"].(float64) < 1 || res.Header.Get("Age") == "" {
		t.Fatalf("identical request: %v, Age %q; want %v reused, at least 1 s old", st2, res.Header.Get("Age"), st1["id"])
	}
	_, st3 := status("Cache-Control", "no-cache")
	if st3["id"] == st1["id"] || st3["reused"] != false {
		t.Fatalf("no-cache: %v; want a new export", st3)
	}
	// The superseded one is not attached to again.
	if _, st4 := status(); st4["id"] != st3["id"] {
		t.Fatalf("after no-cache: %v; want %v", st4["id"], st3["id"])
	}
}

// TestRetriedLiveExportKeepsItsBytes: a client receives a large CSV live
// while it renders; the worker is killed mid-export, events matching the
// export are ingested while no worker runs, and a second worker retries the
// export. The retry reads the export's snapshot, so it produces exactly the
// bytes the first attempt was producing: the live response completes, its
// trailers match the body, and it holds none of the events ingested
// meanwhile (a new request does).
func TestRetriedLiveExportKeepsItsBytes(t *testing.T) {
	t.Parallel()
	env := apptest.Boot(t, apptest.Options{Database: "postgres", Storage: "s3", NoWorker: true,
		Env: map[string]string{"EXPORT_WAIT": "120s"}})
	key := env.Key("acme")
	const n = 300_000
	now := time.Now().UTC()
	env.SeedDemo(demo.Config{Seed: 5, TenantID: "acme", Now: now, Days: 30, Events: n})
	victim := startWorker(t, env, "worker-1")

	req, _ := http.NewRequest(http.MethodGet, env.URL+exportPath, nil)
	req.Header.Set("apikey", key)
	req.Header.Set("Prefer", "wait=120")
	// The whole answer spans a kill, the task's recovery and a second run
	// of 300,000 rows under -race: longer than env.Client's two minutes on
	// a loaded machine. The test waits for the stream's end, not a clock.
	// No transparent gzip either: the test reads the bytes as stored.
	res, err := (&http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.ContentLength != -1 {
		t.Fatalf("status %d, Content-Length %d; want 200 streamed while rendering", res.StatusCode, res.ContentLength)
	}
	id := res.Header.Get("X-Export-Id")
	if res.Header.Get("X-Export-Snapshot") == "" {
		t.Fatal("a live response without X-Export-Snapshot")
	}
	var body bytes.Buffer
	if _, err := io.CopyN(&body, res.Body, 4<<20); err != nil {
		t.Fatalf("read the first bytes: %v", err)
	}
	apptest.Must(t, victim.Process.Kill())
	_ = victim.Wait()

	// Matching events, spread over the exported range, ingested while the
	// export waits for its retry.
	var late []map[string]any
	for i := range 50 {
		late = append(late, map[string]any{"id": fmt.Sprintf("late-%02d", i),
			"occurred_at": now.Add(-time.Duration(i) * 12 * time.Hour).Format(time.RFC3339Nano),
			"event_type":  "assessment", "sub_type": "created", "system_source": "assessment_service"})
	}
	env.Ingest(key, late)
	startWorker(t, env, "worker-2")

	if _, err := io.Copy(&body, res.Body); err != nil {
		t.Fatalf("the live response broke after the retry: %v (%d bytes read)", err, body.Len())
	}
	sum := sha256.Sum256(body.Bytes())
	if got := res.Trailer.Get("X-Checksum-SHA256"); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("trailer X-Checksum-SHA256 %q, body hashes to %x", got, sum)
	}
	if got := res.Trailer.Get("X-Export-Rows"); got != strconv.Itoa(n) {
		t.Fatalf("trailer X-Export-Rows %q, want %d: the retry must not add events ingested after the snapshot", got, n)
	}
	if bytes.Contains(body.Bytes(), []byte("late-")) {
		t.Fatal("the retried export holds events ingested after its snapshot")
	}
	e, err := env.Deps.Store.GetExport(t.Context(), "acme", id)
	apptest.Must(t, err)
	if e.Attempts < 2 {
		t.Fatalf("attempts = %d: the worker was not killed mid-export", e.Attempts)
	}
	// The stored file is the same bytes.
	fres, stored := env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+id+"/file", key, nil)
	if fres.StatusCode != http.StatusOK || !bytes.Equal(stored, body.Bytes()) {
		t.Fatalf("stored file: %d, equal %v", fres.StatusCode, bytes.Equal(stored, body.Bytes()))
	}
	// A new request is a new export, with the late events.
	nres, fresh := env.Do(http.MethodGet, exportPath, key, nil, "Prefer", "wait=120")
	if nres.StatusCode != http.StatusOK || nres.Header.Get("X-Export-Id") == id {
		t.Fatalf("new request: %d, export %s (the retried one is %s)", nres.StatusCode, nres.Header.Get("X-Export-Id"), id)
	}
	// It also holds the service's own records of this test's requests
	// (self-audit events, stamped now), which are ordinary events.
	if got, _ := withoutSelfAudit(t, fresh); len(got) != n+len(late) {
		t.Fatalf("new export has %d events besides the service's own, want %d", len(got), n+len(late))
	}
}
