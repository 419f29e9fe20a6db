package app_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// syncBuffer collects a process's log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTwoWorkerProcessesFireOnce runs two real worker binaries on one
// redis-server and one PostgreSQL. A schedule created long ago has a missed
// occurrence (1 January, 00:00 UTC, this year) that both workers see due
// when they start: exactly one export must come of it, tagged with that
// occurrence, and it must complete.
func TestTwoWorkerProcessesFireOnce(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "worker")
	build := exec.Command("go", "build", "-o", bin, "./cmd/worker")
	build.Dir = testenv.ModuleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build worker: %v\n%s", err, out)
	}
	dbURL, redisURL, dir := testenv.PostgresURL(t), testenv.RedisURL(t), t.TempDir()
	ctx := t.Context()
	store, err := postgres.Open(ctx, dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	now := time.Now().UTC()
	occ := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	created := occ.AddDate(-2, 0, 0)
	s := audit.Schedule{
		ID: "sched-1", TenantID: "acme", Name: "new year", Cron: "0 0 1 1 *", Timezone: "UTC",
		Window: audit.Window{Kind: audit.PreviousDay}, RetentionDays: 5, Enabled: true,
		Params:        audit.ExportParams{FileType: audit.FileCSV, Locale: "en", Timezone: "UTC"},
		WebhookSecret: "whsec_x", CreatedAt: created, UpdatedAt: created,
	}
	if err := store.CreateSchedule(ctx, s); err != nil {
		t.Fatal(err)
	}

	var logs []*syncBuffer
	for i := range 2 {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "REDIS_URL="+redisURL, "STORAGE_URL=file://"+dir,
			"LOG_LEVEL=debug", "LOG_FORMAT=json", "HTTP_ADDR=127.0.0.1:0")
		buf := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = buf, buf
		if err := cmd.Start(); err != nil {
			t.Fatalf("start worker %d: %v", i, err)
		}
		logs = append(logs, buf)
		t.Cleanup(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
			if t.Failed() {
				t.Logf("worker %d log:\n%s", i, buf.String())
			}
		})
	}

	// Wait for both dispatchers to have ticked, and for the export to be
	// done.
	deadline := time.Now().Add(90 * time.Second)
	var list []audit.Export
	for {
		ticked := 0
		for _, l := range logs {
			if strings.Contains(l.String(), `"msg":"scheduler tick"`) {
				ticked++
			}
		}
		list, err = store.ListExports(ctx, audit.ExportListFilter{TenantID: "acme", ScheduleID: "sched-1"})
		if err != nil {
			t.Fatal(err)
		}
		if ticked == 2 && len(list) > 0 && list[0].Status.Done() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 90s: %d workers ticked, exports %+v", ticked, list)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	if len(list) != 1 {
		t.Fatalf("%d exports for one occurrence, want 1: %+v", len(list), list)
	}
	e := list[0]
	if e.Status != audit.StatusCompleted || e.Occurrence == nil || !e.Occurrence.Equal(occ) || e.RetentionDays != 5 {
		t.Fatalf("export %+v, want completed for occurrence %s", e, occ)
	}
	got, err := store.GetSchedule(context.WithoutCancel(ctx), "acme", "sched-1")
	if err != nil || got.LastFiredAt == nil || !got.LastFiredAt.Equal(occ) {
		t.Fatalf("LastFiredAt = %v, %v", got.LastFiredAt, err)
	}
}
