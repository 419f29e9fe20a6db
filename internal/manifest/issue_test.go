package manifest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/manifest"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

func forEachStore(t *testing.T, fn func(t *testing.T, ctx context.Context, db *sqlstore.DB)) {
	for _, name := range []string{"postgres", "sqlite"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			var (
				db  *sqlstore.DB
				err error
			)
			if name == "postgres" {
				db, err = postgres.Open(ctx, testenv.PostgresURL(t), nil)
			} else {
				db, err = sqlite.Open(ctx, testenv.SQLitePath(t), nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			fn(t, ctx, db)
		})
	}
}

// TestIssueChain issues the manifests of a schedule's runs from real
// records: each links to its predecessor's frozen manifest, the frozen form
// survives an upgrade, late arrivals are counted, and a predecessor still
// running, failed or deleted is answered as the issue says.
func TestIssueChain(t *testing.T) {
	forEachStore(t, func(t *testing.T, ctx context.Context, db *sqlstore.DB) {
		floor := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		insert := func(id string, at time.Duration) {
			t.Helper()
			ev := audit.Event{ID: id, OccurredAt: floor.Add(at), EventType: "user", SubType: "login", SystemSource: "web"}
			if _, err := db.InsertEvents(ctx, "acme", []audit.Event{ev}); err != nil {
				t.Fatal(err)
			}
		}
		snap := func() audit.Snapshot {
			t.Helper()
			s, err := db.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		var prev *audit.Export
		sched := "sched"
		run := func(id string, seq int64, status audit.ExportStatus) audit.Export {
			t.Helper()
			start, end := floor.Add(time.Duration(seq-1)*time.Hour), floor.Add(time.Duration(seq)*time.Hour-audit.TimePrecision)
			done := floor.Add(time.Duration(seq)*time.Hour + time.Minute)
			occ := floor.Add(time.Duration(seq) * time.Hour)
			e := audit.Export{ID: id, TenantID: "acme", Status: status, RowsTotal: -1, ScheduleID: sched, Occurrence: &occ,
				Params: audit.ExportParams{Filter: audit.Filter{TenantID: "acme", EventTypes: []string{"user"},
					RangeStart: &start, RangeEnd: &end}, FileType: audit.FileCSV, Locale: "en", Timezone: "UTC"},
				SHA256: "ab", CreatedAt: occ, AsOf: &audit.AsOf{At: occ, Snapshot: snap()},
				Chain: &audit.ChainLink{Seq: seq, Start: floor}}
			if status == audit.StatusCompleted {
				e.CompletedAt = &done
			}
			if prev != nil {
				e.Chain.PrevExportID, e.Chain.PrevSnapshot = prev.ID, &prev.AsOf.Snapshot
			}
			e.RequestHash = e.Params.Hash()
			if err := db.CreateExport(ctx, e); err != nil {
				t.Fatal(err)
			}
			got, err := db.GetExport(ctx, "acme", id)
			if err != nil {
				t.Fatal(err)
			}
			prev = &got
			return got
		}
		is := &manifest.Issuer{Store: db, Signer: signer(t), Version: "1.0.0"}
		insert("a", 10*time.Minute)
		r1 := run("r1", 1, audit.StatusCompleted)
		insert("late", 20*time.Minute) // into run 1's window, after its snapshot
		insert("b", 70*time.Minute)
		r2 := run("r2", 2, audit.StatusCompleted)

		// Run 2 first: run 1's manifest is built and frozen on the way.
		m2, err := is.Issue(ctx, r2)
		if err != nil {
			t.Fatal(err)
		}
		if err := manifest.Verify(m2, keysOf(t)); err != nil {
			t.Fatal(err)
		}
		c := m2.Chain
		if c == nil || c.Seq != 2 || c.PrevExportID != "r1" || c.LateCount != 1 || !c.LateFloor.Equal(floor) ||
			!c.WindowStart.Equal(*r2.Params.Filter.RangeStart) || c.Position != r2.AsOf.Snapshot.Position() ||
			c.PrevPosition != r1.AsOf.Snapshot.Position() || c.PrevSnapshot != r1.AsOf.Snapshot.String() {
			t.Fatalf("run 2's chain = %+v", c)
		}
		frozen1, err := db.FrozenManifest(ctx, "acme", "r1")
		if err != nil || frozen1 == nil {
			t.Fatalf("run 1's manifest was not frozen: %q, %v", frozen1, err)
		}
		// An upgraded service serves the frozen manifests as they were.
		up := &manifest.Issuer{Store: db, Signer: signer(t), Version: "2.0.0"}
		m1, err := up.Issue(ctx, r1)
		if err != nil {
			t.Fatal(err)
		}
		d1, _ := manifest.Digest(m1)
		if m1.ServiceVersion != "1.0.0" || d1 != c.PrevManifestSHA256 || m1.Chain.Seq != 1 || m1.Chain.PrevExportID != "" {
			t.Fatalf("run 1 after the upgrade: version %s, digest %s (run 2 states %s), chain %+v",
				m1.ServiceVersion, d1, c.PrevManifestSHA256, m1.Chain)
		}
		again, err := up.Issue(ctx, r2)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(again)
		b, _ := json.Marshal(m2)
		if !bytes.Equal(a, b) {
			t.Fatalf("run 2's manifest changed:\n%s\n%s", b, a)
		}
		// A manifest outside a chain is still signed on request.
		plain := r1
		plain.ID, plain.Chain = "plain", nil
		if pm, err := up.Issue(ctx, plain); err != nil || pm.Chain != nil || pm.ServiceVersion != "2.0.0" {
			t.Fatalf("unchained manifest: %+v, %v", pm, err)
		}

		// Run 4 after a run 3 still running: not yet.
		r3 := run("r3", 3, audit.StatusRunning)
		r4 := run("r4", 4, audit.StatusCompleted)
		if _, err := is.Issue(ctx, r4); audit.ErrorCode(err) != audit.ECONFLICT {
			t.Fatalf("run 4 while run 3 runs: %v, want %s", err, audit.ECONFLICT)
		}
		if m, _ := db.FrozenManifest(ctx, "acme", "r4"); m != nil {
			t.Fatal("a manifest was frozen without its link")
		}
		// Run 3 failed: run 4 names it without a digest.
		if err := db.FailExport(ctx, "acme", r3.ID, "internal", "boom", floor); err != nil {
			t.Fatal(err)
		}
		m4, err := is.Issue(ctx, r4)
		if err != nil || m4.Chain.PrevExportID != "r3" || m4.Chain.PrevManifestSHA256 != "" {
			t.Fatalf("run 4 after a failed run 3: %+v, %v", m4.Chain, err)
		}

		// Another schedule whose run 1 expired before anyone asked for its
		// manifest: run 2's manifest still links to it by digest.
		sched, prev = "sched2", nil
		x1 := run("x1", 1, audit.StatusCompleted)
		x2 := run("x2", 2, audit.StatusCompleted)
		if err := db.ExpireExport(ctx, "acme", x1.ID, floor); err != nil {
			t.Fatal(err)
		}
		mx2, err := is.Issue(ctx, x2)
		if err != nil || mx2.Chain.PrevExportID != "x1" || mx2.Chain.PrevManifestSHA256 == "" {
			t.Fatalf("run 2 after an expired run 1: %+v, %v", mx2.Chain, err)
		}
		frozen, err := db.FrozenManifest(ctx, "acme", "x1")
		if err != nil || frozen == nil {
			t.Fatalf("the expired run's manifest was not frozen: %v", err)
		}
		mx1, err := manifest.Parse(bytes.NewReader(frozen))
		if d, _ := manifest.Digest(mx1); err != nil || d != mx2.Chain.PrevManifestSHA256 {
			t.Fatalf("run 2 states %s for the expired run's manifest, which has %s (%v)", mx2.Chain.PrevManifestSHA256, d, err)
		}
	})
}
