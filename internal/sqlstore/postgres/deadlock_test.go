package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// Two streamed batches that share ids, chunked so that each takes the
// other's ids in the opposite order: A puts x then y, B puts y then x, and
// each puts its second chunk only once both hold their first. PostgreSQL
// detects the deadlock and aborts one; the store must run that one again
// (from the first chunk) so that both batches succeed and every event is
// stored once, instead of answering one client with an internal error.
func TestStreamedBatchesThatDeadlockBothSucceed(t *testing.T) {
	s, err := postgres.Open(t.Context(), testenv.PostgresURL(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	events := func(prefix string, n int) []audit.Event {
		out := make([]audit.Event, n)
		for i := range out {
			out[i] = audit.Event{ID: fmt.Sprintf("%s-%03d", prefix, i), OccurredAt: time.UnixMicro(int64(i)).UTC(),
				EventType: "t", SubType: "s", SystemSource: "test"}
		}
		return out
	}
	x, y := events("x", 50), events("y", 50)

	var firstHeld sync.WaitGroup
	firstHeld.Add(2)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	batch := func(first, second []audit.Event) (calls, inserted int, err error) {
		inserted, err = s.InsertEventStream(ctx, "acme", func(put func([]audit.Event) error) error {
			calls++
			if err := put(first); err != nil {
				return err
			}
			if calls == 1 { // only the first attempt waits for the other batch
				firstHeld.Done()
				firstHeld.Wait()
			}
			return put(second)
		})
		return calls, inserted, err
	}
	type result struct {
		calls, inserted int
		err             error
	}
	results := make(chan result, 2)
	for _, order := range [][2][]audit.Event{{x, y}, {y, x}} {
		go func() {
			c, n, err := batch(order[0], order[1])
			results <- result{c, n, err}
		}()
	}
	total, retried := 0, 0
	for range 2 {
		r := <-results
		if r.err != nil {
			t.Fatalf("a batch failed: %v", r.err)
		}
		total += r.inserted
		if r.calls > 1 {
			retried++
		}
	}
	if retried == 0 {
		t.Fatal("neither batch was run again: the deadlock this test builds did not happen")
	}
	if total != len(x)+len(y) {
		t.Fatalf("the two batches inserted %d events between them, want %d (each once)", total, len(x)+len(y))
	}
	n, err := s.CountEvents(t.Context(), audit.Filter{TenantID: "acme"}, 0)
	if err != nil || n != int64(len(x)+len(y)) {
		t.Fatalf("stored %d events, %v; want %d", n, err, len(x)+len(y))
	}
}
