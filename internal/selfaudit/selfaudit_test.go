package selfaudit_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/selfaudit"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite/sqlitetest"
)

// flaky is a real store whose inserts fail while down is set (a fault
// injected in front of SQLite).
type flaky struct {
	selfaudit.Store
	down atomic.Bool
}

func (f *flaky) InsertEvents(ctx context.Context, tenantID string, events []audit.Event) (int, error) {
	if f.down.Load() {
		return 0, errors.New("database unreachable")
	}
	return f.Store.InsertEvents(ctx, tenantID, events)
}

func count(t *testing.T, s interface {
	CountEvents(context.Context, audit.Filter, int64) (int64, error)
}) int64 {
	t.Helper()
	n, err := s.CountEvents(t.Context(), audit.Filter{TenantID: "acme", SystemSources: []string{selfaudit.SystemSource}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRecorderKeepsWhatItCouldNotStore(t *testing.T) {
	db := sqlitetest.Open(t)
	store := &flaky{Store: db}
	rec := selfaudit.NewRecorder(store, nil)
	at := time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC)
	actor := selfaudit.Actor{KeyID: "k1", KeyName: "ci"}
	ev := selfaudit.Event("acme", "export", "downloaded", "x1", actor, at, "export downloaded: x1", nil)
	if ev.SystemSource != "audit_sentinel" || ev.AuditeeID != "key:k1" || ev.Metadata["actor_key_name"] != "ci" {
		t.Fatalf("event = %+v", ev)
	}
	// The same fact makes the same id; another moment, another id.
	if again := selfaudit.Event("acme", "export", "downloaded", "x1", actor, at, "", nil); again.ID != ev.ID {
		t.Fatal("one fact, two ids: a retry would duplicate it")
	}
	if later := selfaudit.Event("acme", "export", "downloaded", "x1", actor, at.Add(time.Microsecond), "", nil); later.ID == ev.ID {
		t.Fatal("two downloads share an id: the second would be lost")
	}

	store.down.Store(true)
	rec.Record(t.Context(), ev) // must not fail, must not panic
	if rec.Pending() != 1 || count(t, db) != 0 {
		t.Fatalf("pending %d, stored %d", rec.Pending(), count(t, db))
	}
	if left := rec.Flush(t.Context()); left != 1 {
		t.Fatalf("flush while down: %d left, want 1", left)
	}
	store.down.Store(false)
	if left := rec.Flush(t.Context()); left != 0 || count(t, db) != 1 {
		t.Fatalf("flush when back: %d left, %d stored", left, count(t, db))
	}
	// Recording it again (a duplicate hook call) stores nothing new.
	rec.Record(t.Context(), ev)
	if count(t, db) != 1 {
		t.Fatalf("a repeated event was stored twice")
	}

	// Run retries by itself and stores what is pending when it stops.
	store.down.Store(true)
	rec.Record(t.Context(), selfaudit.Event("acme", "api_key", "created", "k2", actor, at, "", nil))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); rec.Run(ctx, time.Millisecond) }()
	store.down.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for rec.Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if count(t, db) != 2 {
		t.Fatalf("Run did not store the pending event: %d stored", count(t, db))
	}
}
