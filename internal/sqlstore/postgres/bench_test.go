package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

const benchEvents = 100_000

func benchStore(b *testing.B) *sqlstore.DB {
	b.Helper()
	s, err := postgres.Open(b.Context(), testenv.PostgresURL(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchSource yields n realistic events: four metadata keys (three indexed)
// and one extra key.
func benchSource(n int) func() (*audit.Event, bool) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	var e audit.Event
	return func() (*audit.Event, bool) {
		if i == n {
			return nil, false
		}
		e = audit.Event{
			ID:           fmt.Sprintf("evt_%012d", i),
			OccurredAt:   t0.Add(time.Duration(i) * 7 * time.Millisecond),
			EventType:    []string{"user", "assessment", "task", "workflow"}[i%4],
			SubType:      []string{"created", "updated", "viewed"}[i%3],
			SystemSource: "api",
			AuditeeID:    fmt.Sprintf("user_%d", i%500),
			Description:  "Updated the risk rating of the assessment",
			Metadata: map[string]string{
				"entity_id":     fmt.Sprintf("ent_%d", i%10_000),
				"assessment_id": fmt.Sprintf("asm_%d", i%3_000),
				"task_id":       fmt.Sprintf("tsk_%d", i%20_000),
				"tag":           "kyc",
				"ip":            "203.0.113.7",
			},
		}
		i++
		return &e, true
	}
}

// BenchmarkBulkInsertEvents loads benchEvents events per iteration into a
// fresh tenant with COPY (the `sentinelctl seed` path).
func BenchmarkBulkInsertEvents(b *testing.B) {
	s := benchStore(b)
	var total int64
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		n, err := s.BulkInsertEvents(b.Context(), fmt.Sprint("tenant", i), benchSource(benchEvents))
		if err != nil || n != benchEvents {
			b.Fatalf("loaded %d, %v", n, err)
		}
		total += n
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkInsertEvents is the ingest path for comparison: batches of 1000
// in one transaction each, with ON CONFLICT DO NOTHING.
func BenchmarkInsertEvents(b *testing.B) {
	s := benchStore(b)
	var total int64
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		next := benchSource(benchEvents)
		batch := make([]audit.Event, 0, 1000)
		for {
			e, ok := next()
			if ok {
				batch = append(batch, *e)
			}
			if len(batch) == cap(batch) || !ok && len(batch) > 0 {
				n, err := s.InsertEvents(b.Context(), fmt.Sprint("tenant", i), batch)
				if err != nil || n != len(batch) {
					b.Fatalf("inserted %d, %v", n, err)
				}
				total += int64(n)
				batch = batch[:0]
			}
			if !ok {
				break
			}
		}
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkStreamEvents streams a tenant's benchEvents events in export
// order per iteration.
func BenchmarkStreamEvents(b *testing.B) {
	s := benchStore(b)
	if _, err := s.BulkInsertEvents(b.Context(), "tenant", benchSource(benchEvents)); err != nil {
		b.Fatal(err)
	}
	// Another tenant's rows in the same table, as in production.
	if _, err := s.BulkInsertEvents(b.Context(), "other", benchSource(benchEvents)); err != nil {
		b.Fatal(err)
	}
	var total int64
	var elapsed time.Duration
	for b.Loop() {
		start := time.Now()
		var n int64
		err := s.StreamEvents(b.Context(), audit.Filter{TenantID: "tenant"}, func(*audit.Event) error {
			n++
			return nil
		})
		if err != nil || n != benchEvents {
			b.Fatalf("streamed %d, %v", n, err)
		}
		elapsed += time.Since(start)
		total += n
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "rows/s")
}

// BenchmarkPooledQuery is one small query at a time through the pool, the
// shape of an API request's lookups (its key, the export, its status): the
// pool's liveness check runs before each one. pgx's CheckConn, the check
// before the socket poll, made each take over a millisecond (it waits out a
// 1 ms read deadline on a healthy connection); see liveness.go.
func BenchmarkPooledQuery(b *testing.B) {
	s := benchStore(b)
	_, secret, err := apikey.Create(b.Context(), s, "acme", "k", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	h := apikey.Hash(secret)
	for b.Loop() {
		if _, err := s.APIKeyByHash(b.Context(), h); err != nil {
			b.Fatal(err)
		}
	}
}
