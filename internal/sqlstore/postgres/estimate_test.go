package postgres_test

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// TestEstimateEvents: the planner's estimate follows the filter (tenant,
// range) closely enough for a progress bar, without counting.
func TestEstimateEvents(t *testing.T) {
	url := testenv.PostgresURL(t)
	db, err := postgres.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !db.EstimatesEvents() {
		t.Fatal("EstimatesEvents = false on PostgreSQL")
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	insert := func(tenant string, n int) {
		var evs []audit.Event
		for i := range n {
			evs = append(evs, audit.Event{ID: fmt.Sprintf("%s-%05d", tenant, i), OccurredAt: t0.Add(time.Duration(i) * time.Minute),
				EventType: "task", SubType: "created", SystemSource: "tests"})
			if len(evs) == 1000 || i == n-1 {
				if _, err := db.InsertEvents(t.Context(), tenant, evs); err != nil {
					t.Fatal(err)
				}
				evs = evs[:0]
			}
		}
	}
	insert("big", 8000)
	insert("small", 40)
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(t.Context(), "ANALYZE events"); err != nil {
		t.Fatal(err)
	}
	mid := t0.Add(2000 * time.Minute)
	for _, c := range []struct {
		name   string
		f      audit.Filter
		lo, hi int64
	}{
		{"tenant", audit.Filter{TenantID: "big"}, 4000, 16000},
		{"small tenant", audit.Filter{TenantID: "small"}, 1, 1000},
		{"a quarter of the range", audit.Filter{TenantID: "big", RangeEnd: &mid}, 500, 5000},
	} {
		n, ok, err := db.EstimateEvents(t.Context(), c.f)
		if err != nil || !ok || n < c.lo || n > c.hi {
			t.Errorf("%s: estimate %d, %v, %v; want within [%d, %d]", c.name, n, ok, err, c.lo, c.hi)
		}
	}
}
