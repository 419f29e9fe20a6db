package app_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/jobs"
	"github.com/auditsentinel/sentinel/internal/manifest"
	"github.com/auditsentinel/sentinel/internal/schedule"
)

// contractChain checks a scheduled run's manifest (with its chain) and the
// 409 of a run whose predecessor is not finished against the document. The
// schedule lives in 2031, fired by a dispatcher on an injected clock, so
// that the worker's own dispatcher never fires it.
func contractChain(t *testing.T, c *contract, key string) {
	t.Helper()
	ctx := t.Context()
	store := c.env.Deps.Store
	day := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	s := audit.Schedule{ID: "contract-chain", TenantID: "acme", Name: "hourly", Cron: "0 * * * *", Timezone: "UTC",
		Window: audit.Window{Kind: audit.LastHours, Hours: 1},
		Params: audit.ExportParams{Filter: audit.Filter{EventTypes: []string{"task"}}, FileType: audit.FileCSV,
			Locale: "en", Timezone: "UTC"},
		RetentionDays: 30, Enabled: true, WebhookSecret: "whsec_x", CreatedAt: day, UpdatedAt: day}
	apptest.Must(t, store.CreateSchedule(ctx, s))
	q := jobs.NewClient(c.env.Deps.Redis)
	defer q.Close()
	now := day.Add(time.Hour + 5*time.Second)
	d := &schedule.Dispatcher{Store: store, Queue: q, Now: func() time.Time { return now }}
	if n, err := d.Tick(ctx); err != nil || n != 1 {
		t.Fatalf("tick: fired %d, %v", n, err)
	}
	run1, err := store.LatestScheduleRun(ctx, "acme", s.ID)
	apptest.Must(t, err)
	c.env.WaitExport(key, run1.ID)
	_, body := c.do(exchange{method: "GET", path: apiPrefix + "/exports/" + run1.ID + "/manifest", key: key, status: 200})
	m, err := manifest.Parse(bytes.NewReader(body))
	if err != nil || m.Chain == nil || m.Chain.Seq != 1 {
		t.Fatalf("run 1's manifest: %s, %v", body, err)
	}

	// Run 3 completed while run 2 is still queued: its manifest has to wait.
	run1, err = store.GetExport(ctx, "acme", run1.ID)
	apptest.Must(t, err)
	link := func(seq int64, prev audit.Export, status audit.ExportStatus) audit.Export {
		e := run1
		e.ID, e.Status = uuid.NewString(), status
		e.ObjectKey = "tenants/acme/exports/" + e.ID + ".csv"
		occ := run1.Occurrence.Add(time.Duration(seq-1) * time.Hour)
		e.Occurrence = &occ
		e.Chain = &audit.ChainLink{Seq: seq, PrevExportID: prev.ID, Start: run1.Chain.Start, PrevSnapshot: &prev.AsOf.Snapshot}
		if status != audit.StatusCompleted {
			e.CompletedAt, e.ObjectKey = nil, ""
		}
		apptest.Must(t, store.CreateExport(ctx, e))
		return e
	}
	run3 := link(3, link(2, run1, audit.StatusQueued), audit.StatusCompleted)
	c.do(exchange{method: "GET", path: apiPrefix + "/exports/" + run3.ID + "/manifest", key: key, status: 409})
}
