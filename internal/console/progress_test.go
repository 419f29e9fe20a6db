package console_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/demo"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// startWorker builds cmd/worker and runs it as its own process on env's
// services, so that the test can freeze it (SIGSTOP) in the middle of an
// export and thaw it (SIGCONT): a real export held at a known point
// without a hook in production code.
func startWorker(t *testing.T, env *apptest.Env) *os.Process {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "worker")
	build := exec.Command("go", "build", "-race", "-o", bin, "./cmd/worker")
	build.Dir = testenv.ModuleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/worker: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "LOG_FORMAT=json", "LOG_LEVEL=warn")
	for k, v := range env.Vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	log, err := os.Create(filepath.Join(t.TempDir(), "worker.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // a stopped process dies too
		_ = cmd.Wait()
		log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("worker log:\n%s", b)
		}
	})
	return cmd.Process
}

// exportWhen polls the export's record until ok says yes.
func exportWhen(t *testing.T, env *apptest.Env, id, what string, ok func(audit.Export) bool) audit.Export {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		e, err := env.Deps.Store.GetExport(context.Background(), "acme", id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(e) {
			return e
		}
		if e.Status.Done() {
			t.Fatalf("export %s before %s (%d rows): make the data set larger", e.Status, what, e.RowsWritten)
		}
		if time.Now().After(deadline) {
			t.Fatalf("export never %s: %+v", what, e)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestProgressBarMidExport watches the progress bar of a real export of
// 100,000 events stand between empty and full, then fill.
//
// On PostgreSQL the bar's total is the planner's estimate (the status
// document's rows_estimate; the worker does not count), and the worker
// records rows written at most once a second, so a fast machine would
// finish before the bar ever showed a fraction. The test therefore runs
// the worker as a process of its own and freezes it: once the export
// runs, for long enough that the throttle has lapsed; thawed, the worker
// records at once, and is frozen again as soon as the record holds a
// fraction. The page must then show exactly that fraction of "~" the
// estimate.
func TestProgressBarMidExport(t *testing.T) {
	const n = 100_000
	env := apptest.Boot(t, apptest.Options{Database: "postgres", Storage: "file", NoWorker: true})
	key := env.Key("acme")
	g := demo.New(demo.Config{Seed: 11, TenantID: "acme", Days: 30, Events: n})
	if _, err := env.Deps.Store.BulkInsertEvents(context.Background(), "acme", g.Next); err != nil {
		t.Fatal(err)
	}
	// Statistics now, so that the planner's estimate (the bar's total on
	// PostgreSQL) does not change under the test when autovacuum gets to
	// the new rows.
	raw, err := sql.Open("pgx", env.Config.DatabaseDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(t.Context(), "ANALYZE events"); err != nil {
		t.Fatal(err)
	}
	ctx := browserContext(t)
	run(t, ctx, "sign in", chromedp.Navigate(env.URL+"/console/signin"), chromedp.WaitVisible(chromedp.CSS("#apikey")),
		chromedp.SendKeys(chromedp.CSS("#apikey"), key), chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#export-form")))
	// No worker yet: the export waits in the queue.
	run(t, ctx, "request", chromedp.Click(chromedp.CSS("#request-export")), chromedp.WaitVisible(chromedp.CSS("#progress")))
	id := location(t, ctx)[strings.LastIndex(location(t, ctx), "/")+1:]
	if got := text(t, ctx, "#status"); got != "queued" {
		t.Errorf("before any worker runs the export is %q", got)
	}

	worker := startWorker(t, env)
	exportWhen(t, env, id, "ran", func(e audit.Export) bool { return e.Status == audit.StatusRunning })
	if err := worker.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// The worker's clock goes on while it is frozen: its 2 s before
	// counting and 1 s between progress writes lapse.
	time.Sleep(2500 * time.Millisecond)
	if err := worker.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	e := exportWhen(t, env, id, "recorded a fraction", func(e audit.Export) bool { return e.RowsWritten > 0 })
	if err := worker.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// A write the worker sent just before it froze may still land: read
	// until two reads a moment apart agree.
	for prev := e; ; prev = e {
		time.Sleep(200 * time.Millisecond)
		e = exportWhen(t, env, id, "stayed frozen", func(audit.Export) bool { return true })
		if e.RowsWritten == prev.RowsWritten && e.RowsTotal == prev.RowsTotal {
			break
		}
	}
	// PostgreSQL: no count beside the run; the page shows the planner's
	// estimate, marked "~", never below the rows written.
	if e.RowsTotal != -1 {
		t.Fatalf("rows total %d on PostgreSQL, want none (the worker does not count there)", e.RowsTotal)
	}
	est, ok, err := env.Deps.Store.EstimateEvents(t.Context(), export.ReadFilter(e))
	if err != nil || !ok {
		t.Fatalf("estimate: %v %v", ok, err)
	}
	e.RowsTotal = max(est, e.RowsWritten)
	if e.RowsTotal < n/2 || e.RowsTotal > 2*n {
		t.Fatalf("estimate %d for %d events: not a progress bar's total", e.RowsTotal, n)
	}

	// The page polls twice a second; it shows what the record holds. The
	// API asks the planner afresh on every poll, and the planner's answer
	// may move by a row or two as the table changes under it (the reads
	// this test makes are audited into the same table), so the bar's total
	// is held to the estimate within 1 %, and the words beside the bar to
	// the bar itself, read in the same instant.
	const bar = `(() => { const b = document.getElementById("progress");
		return {value: b.value, max: b.max, rows: document.getElementById("rows").textContent.trim()}; })()`
	type snapshot struct {
		Value float64 `json:"value"`
		Max   float64 `json:"max"`
		Rows  string  `json:"rows"`
	}
	deadline := time.Now().Add(30 * time.Second)
	var vm snapshot
	for {
		vm = eval[snapshot](t, ctx, bar)
		if vm.Value == float64(e.RowsWritten) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if vm.Value != float64(e.RowsWritten) || !(vm.Value > 0 && vm.Value <= vm.Max) ||
		math.Abs(vm.Max-float64(e.RowsTotal)) > float64(e.RowsTotal)/100 {
		t.Fatalf("progress bar %v of %v, want %d of about %d, strictly between empty and full", vm.Value, vm.Max, e.RowsWritten, e.RowsTotal)
	}
	if want := fmt.Sprintf("%s of ~%s rows", thousands(e.RowsWritten), thousands(int64(vm.Max))); vm.Rows != want {
		t.Errorf("rows say %q, want %q", vm.Rows, want)
	}
	if got := text(t, ctx, "#status"); got != "running" {
		t.Errorf("status says %q mid-export", got)
	}
	t.Logf("progress bar at %d of %.0f rows (%.0f%%)", e.RowsWritten, vm.Max, 100*vm.Value/vm.Max)
	checkA11y(t, ctx, "export in progress")
	screenshot(t, ctx, "export-progress")

	if err := worker.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "finish", chromedp.WaitVisible(chromedp.CSS("#download")))
	if vm = eval[snapshot](t, ctx, bar); vm.Value != n || vm.Max != n {
		t.Errorf("finished progress bar %v of %v, want %d of %d", vm.Value, vm.Max, n, n)
	}
	if want := thousands(n) + " of " + thousands(n) + " rows"; vm.Rows != want {
		t.Errorf("finished rows say %q, want %q", vm.Rows, want)
	}
}

// thousands writes n as English does: 12,345.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
