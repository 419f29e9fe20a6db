package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/jobs"
	"github.com/auditsentinel/sentinel/internal/manifest"
	"github.com/auditsentinel/sentinel/internal/schedule"
)

// chainRun is one fired run: its manifest, file and their paths.
type chainRun struct {
	m                  manifest.Manifest
	file               []byte
	path, manifestPath string
}

// TestVerifyChain fires a schedule's runs with the dispatcher on an
// injected clock (in 2031, so that the worker's own dispatcher, on the real
// clock, never fires it), with events arriving late into windows that had
// run, and a three-hour downtime. It checks end to end that the manifests
// the API serves chain (numbers, links, digests, contiguous windows), that
// each event is in exactly one file, late ones in the run after they
// arrived; then that `verify --chain` passes the archive, from a directory
// and from the API, and reports every fault made to copies of it.
func TestVerifyChain(t *testing.T) {
	for _, o := range []apptest.Options{{Database: "postgres", Storage: "s3"}, {Database: "sqlite", Storage: "file"}} {
		t.Run(o.Database, func(t *testing.T) {
			t.Parallel()
			testVerifyChain(t, o)
		})
	}
}

func testVerifyChain(t *testing.T, o apptest.Options) {
	env, key := server(t, o)
	vars := map[string]string{"SENTINEL_URL": env.URL, "SENTINEL_API_KEY": key}
	ctx := t.Context()
	store := env.Deps.Store
	day := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	s := audit.Schedule{ID: "sched-chain", TenantID: "acme", Name: "hourly", Cron: "0 * * * *", Timezone: "UTC",
		Window: audit.Window{Kind: audit.LastHours, Hours: 1},
		Params: audit.ExportParams{Filter: audit.Filter{EventTypes: []string{"chain"}}, FileType: audit.FileCSV,
			Locale: "en", Timezone: "UTC"},
		RetentionDays: 30, Enabled: true, WebhookSecret: "whsec_x", CreatedAt: day, UpdatedAt: day}
	if err := store.CreateSchedule(ctx, s); err != nil {
		t.Fatal(err)
	}
	queue := jobs.NewClient(env.Deps.Redis)
	t.Cleanup(func() { queue.Close() })
	insert := func(id string, at time.Duration) {
		t.Helper()
		// Straight into the store: the API refuses events dated 2031.
		ev := audit.Event{ID: id, OccurredAt: day.Add(at), EventType: "chain", SubType: "tick", SystemSource: "tests"}
		if _, err := store.InsertEvents(ctx, "acme", []audit.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	var runs []chainRun
	fire := func(at time.Duration) {
		t.Helper()
		now := day.Add(at)
		d := &schedule.Dispatcher{Store: store, Queue: queue, Now: func() time.Time { return now }}
		if n, err := d.Tick(ctx); err != nil || n != 1 {
			t.Fatalf("tick at %s: fired %d, %v", now, n, err)
		}
		e, err := store.LatestScheduleRun(ctx, "acme", s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st := env.WaitExport(key, e.ID); st["status"] != "completed" {
			t.Fatalf("run %s: %v", e.ID, st)
		}
		res, b := env.Do("GET", httpapi.Prefix+"/exports/"+e.ID+"/manifest", key, nil)
		if res.StatusCode != 200 {
			t.Fatalf("manifest of %s: %d %s", e.ID, res.StatusCode, b)
		}
		m, err := manifest.Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		name := httpapi.FilenameOf(m.TenantID, m.ExportID, m.CompletedAt, m.Filters)
		r := chainRun{m: m, path: filepath.Join(dir, name), manifestPath: filepath.Join(dir, name+".manifest.json")}
		if err := os.WriteFile(r.manifestPath, b, 0o644); err != nil {
			t.Fatal(err)
		}
		mustCLI(t, vars, "exports", "pull", e.ID, "-o", r.path)
		if r.file, err = os.ReadFile(r.path); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
	}

	insert("on-time-1", 10*time.Minute)
	insert("on-time-2", 50*time.Minute)
	fire(time.Hour + 5*time.Second)
	insert("late-into-1", 30*time.Minute)
	insert("on-time-3", 80*time.Minute)
	fire(2*time.Hour + 5*time.Second)
	insert("late-into-2", 100*time.Minute)
	insert("during-downtime", 3*time.Hour)
	fire(5*time.Hour + 10*time.Minute) // back after three hours: one run covers them
	insert("on-time-5", 5*time.Hour+30*time.Minute)
	fire(6*time.Hour + 5*time.Second)

	// Every event in exactly one file: its window's run, or the run after
	// it arrived late.
	want := [][]string{{"on-time-1", "on-time-2"}, {"late-into-1", "on-time-3"}, {"late-into-2", "during-downtime"}, {"on-time-5"}}
	all := []string{"on-time-1", "on-time-2", "late-into-1", "on-time-3", "late-into-2", "during-downtime", "on-time-5"}
	for i, r := range runs {
		for _, id := range all {
			in := bytes.Contains(r.file, []byte(id+","))
			should := strings.Contains(","+strings.Join(want[i], ",")+",", ","+id+",")
			if in != should {
				t.Errorf("run %d has %s: %v, want %v\n%s", i+1, id, in, should, r.file)
			}
		}
		c := r.m.Chain
		if c == nil || c.Seq != int64(i+1) || c.ScheduleID != s.ID || !c.LateFloor.Equal(day) {
			t.Fatalf("run %d chain = %+v", i+1, c)
		}
		if late := []int64{0, 1, 1, 0}[i]; c.LateCount != late || r.m.RowCount != int64(len(want[i])) {
			t.Errorf("run %d: late_count %d, row_count %d; want %d, %d", i+1, c.LateCount, r.m.RowCount, late, len(want[i]))
		}
		if i == 0 {
			continue
		}
		p := runs[i-1].m
		d, _ := manifest.Digest(p)
		if c.PrevExportID != p.ExportID || c.PrevManifestSHA256 != d || c.PrevPosition != p.Chain.Position ||
			!c.WindowStart.Equal(p.Chain.WindowEnd.Add(time.Microsecond)) {
			t.Errorf("run %d does not link to run %d: %+v, previous %+v (digest %s)", i+1, i, c, p.Chain, d)
		}
	}
	if !runs[2].m.Chain.WindowStart.Equal(day.Add(2*time.Hour)) || !runs[2].m.Chain.WindowEnd.Equal(day.Add(5*time.Hour-time.Microsecond)) {
		t.Errorf("the catch-up run's window is %s .. %s", runs[2].m.Chain.WindowStart, runs[2].m.Chain.WindowEnd)
	}

	// A clean chain, from the directory and from the API.
	pub := testPublicKey()
	out := mustCLI(t, nil, "verify", "--chain", "--json=false", dir, "--public-key", pub)
	if !strings.Contains(out, "VERIFIED: 4 runs") || strings.Count(out, " OK ") != 4 {
		t.Fatalf("verify --chain of a clean archive:\n%s", out)
	}
	var jr chainOutput
	if err := json.Unmarshal([]byte(mustCLI(t, nil, "verify", "--chain", "--json", dir, "--public-key", pub)), &jr); err != nil ||
		!jr.OK || len(jr.Runs) != 4 || jr.Runs[3].File == "" {
		t.Fatalf("verify --chain --json: %+v, %v", jr, err)
	}
	out = mustCLI(t, vars, "verify", "--chain", "--json=false", "--schedule", s.ID)
	if !strings.Contains(out, "VERIFIED: 4 runs") {
		t.Fatalf("verify --chain --schedule:\n%s", out)
	}

	// Faults, each on a fresh copy of the archive.
	copyDir := func() string {
		t.Helper()
		to := t.TempDir()
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return to
	}
	in := func(d string, r chainRun, manifestFile bool) string {
		if manifestFile {
			return filepath.Join(d, filepath.Base(r.manifestPath))
		}
		return filepath.Join(d, filepath.Base(r.path))
	}
	editJSON := func(path string, edit func(m map[string]any)) {
		t.Helper()
		b, _ := os.ReadFile(path)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		b, _ = json.Marshal(m)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		fault func(d string)
		want  []string // in the report
	}{
		{"manifest deleted", func(d string) { os.Remove(in(d, runs[1], true)) },
			[]string{"2  MISSING", "no manifest for this run"}},
		{"manifest field altered", func(d string) {
			editJSON(in(d, runs[2], true), func(m map[string]any) { m["row_count"] = 1 })
		}, []string{"3  ALTERED", "signature", "4  ALTERED", "states the digest"}},
		{"file byte altered", func(d string) {
			b, _ := os.ReadFile(in(d, runs[0], false))
			b[len(b)/2] ^= 1
			os.WriteFile(in(d, runs[0], false), b, 0o644)
		}, []string{"1  ALTERED", "is not the file the manifest describes"}},
		{"seq swapped", func(d string) {
			editJSON(in(d, runs[1], true), func(m map[string]any) { m["chain"].(map[string]any)["seq"] = 3 })
			editJSON(in(d, runs[2], true), func(m map[string]any) { m["chain"].(map[string]any)["seq"] = 2 })
		}, []string{"2  ALTERED", "3  ALTERED", "its predecessor is", "not after run 2's", "4  OUT_OF_ORDER"}},
		{"file dropped", func(d string) { os.Remove(in(d, runs[3], false)) },
			[]string{"4  MISSING", "its file is not beside the manifest"}},
		{"manifest damaged", func(d string) {
			b, _ := os.ReadFile(in(d, runs[0], true))
			os.WriteFile(in(d, runs[0], true), b[:len(b)/2], 0o644)
		}, []string{"1  MISSING", "FAULT:", "not a sentinel-manifest/v1 manifest"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := copyDir()
			tc.fault(d)
			code, out, stderr := cli(t, nil, "verify", "--chain", "--json=false", d, "--public-key", pub)
			if code == 0 || !strings.Contains(stderr, "chain verification FAILED") || !strings.Contains(out, "FAILED") {
				t.Fatalf("exit %d\n%s%s", code, out, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("the report does not say %q:\n%s", w, out)
				}
			}
		})
	}
}
