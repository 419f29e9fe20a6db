package app_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/demo"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// buildBinaries compiles cmd/worker (and cmd/api) once per test process, so
// crash tests run the real binaries as separate processes.
func buildBinaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "sentinel-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-race", "-o", binDir+"/", "./cmd/worker", "./cmd/api")
		cmd.Dir = testenv.ModuleRoot(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("go build: %s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build binaries: %v", buildErr)
	}
	return binDir
}

// startWorker runs cmd/worker as its own process on env's services.
func startWorker(t *testing.T, env *apptest.Env, name string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(filepath.Join(buildBinaries(t), "worker"))
	cmd.Env = append(os.Environ(), "LOG_FORMAT=json", "LOG_LEVEL=info", "WORKER_CONCURRENCY=2")
	for k, v := range env.Vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logf, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	apptest.Must(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	apptest.Must(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("%s log:\n%s", name, tail(b, 4000))
		}
	})
	return cmd
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// TestWorkerKilledMidExport kills (SIGKILL) a real worker process while it
// streams an export into S3. The export must still complete — through the
// queue's lease recovery and a second worker — with a correct file, and no
// multipart upload may be left behind.
func TestWorkerKilledMidExport(t *testing.T) {
	t.Parallel()
	env := apptest.Boot(t, apptest.Options{Database: "postgres", Storage: "s3", NoWorker: true})
	key := env.Key("acme")
	const n = 400_000
	env.SeedDemo(demo.Config{Seed: 7, TenantID: "acme", Now: time.Now().UTC(), Days: 30, Events: n})
	victim := startWorker(t, env, "worker-1")

	res, body := env.Do(http.MethodGet, exportPath+"?timezone=Europe/Paris", key, nil, "Prefer", "respond-async")
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("want 202, got %d %s", res.StatusCode, body)
	}
	id := exportIDOf(t, res, body)

	// Kill it once it has written well over one 8 MiB part (~30k rows): it
	// is then mid-stream with a multipart upload open.
	deadline := time.Now().Add(60 * time.Second)
	for {
		e, err := env.Deps.Store.GetExport(t.Context(), "acme", id)
		apptest.Must(t, err)
		if e.Status == audit.StatusRunning && e.RowsWritten > 60_000 {
			break
		}
		if e.Status.Done() {
			t.Fatalf("export finished (%s) before the worker could be killed; make the data set larger", e.Status)
		}
		if time.Now().After(deadline) {
			t.Fatal("export never started running")
		}
		time.Sleep(20 * time.Millisecond)
	}
	apptest.Must(t, victim.Process.Kill())
	_ = victim.Wait()
	e, err := env.Deps.Store.GetExport(t.Context(), "acme", id)
	apptest.Must(t, err)
	if e.Status != audit.StatusRunning {
		t.Fatalf("after the kill the export is %s, want running", e.Status)
	}
	ups, err := env.Deps.Bucket.ListIncompleteUploads(t.Context(), export.Prefix)
	apptest.Must(t, err)
	t.Logf("killed worker mid-export at %d rows; %d incomplete upload(s) left by it", e.RowsWritten, len(ups))
	if len(ups) == 0 {
		t.Fatal("the killed worker left no multipart upload: the test no longer exercises the cleanup")
	}
	if res, _ := env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+id+"/file", key, nil); res.StatusCode != http.StatusConflict {
		t.Errorf("file of a half-done export: %d, want 409", res.StatusCode)
	}

	// A fresh worker recovers the task once its lease (30 s) expires.
	startWorker(t, env, "worker-2")
	st := env.WaitExport(key, id)
	if st["status"] != "completed" {
		t.Fatalf("export ended %v", st)
	}
	res, file := env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+id+"/file", key, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("file: %d", res.StatusCode)
	}
	sum := sha256.Sum256(file)
	if hex.EncodeToString(sum[:]) != st["sha256"] {
		t.Errorf("file digest %x differs from the recorded %v", sum, st["sha256"])
	}
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(file))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines++
	}
	// Demo descriptions have no line breaks: one line per event plus the header.
	if lines != n+1 || st["rows_written"].(float64) != n {
		t.Errorf("file has %d lines, status says %v rows; want %d events", lines, st["rows_written"], n)
	}
	final, err := env.Deps.Store.GetExport(t.Context(), "acme", id)
	apptest.Must(t, err)
	if final.Attempts < 2 {
		t.Errorf("attempts = %d, want the killed one and the recovery", final.Attempts)
	}
	ups, err = env.Deps.Bucket.ListIncompleteUploads(t.Context(), export.Prefix)
	apptest.Must(t, err)
	if len(ups) != 0 {
		t.Errorf("multipart uploads left behind: %+v", ups)
	}
}
