package postgres_test

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// Bug 9: a pooled connection whose backend was terminated while idle (an
// operator's pg_terminate_backend, a failover, a proxy's idle cut) cost the
// next request a 500 when the connection had been used within the last
// second, because the driver only pings connections idle for longer. Such a
// connection must be replaced before it is used, invisibly: the auth
// lookup and an insert right after the kill succeed.
func TestKilledIdleConnectionIsReplaced(t *testing.T) {
	url := testenv.PostgresURL(t)
	store, err := postgres.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	_, secret, err := apikey.Create(t.Context(), store, "acme", "k", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		// Warm the pool: these connections were used just now.
		if _, err := store.APIKeyByHash(t.Context(), apikey.Hash(secret)); err != nil {
			t.Fatal(err)
		}
		kill(t, admin)
		if _, err := store.APIKeyByHash(t.Context(), apikey.Hash(secret)); err != nil {
			t.Fatalf("round %d: auth lookup after the kill: %v", round, err)
		}
		kill(t, admin)
		ev := audit.Event{ID: fmt.Sprintf("evt-%d", round), OccurredAt: time.Now().UTC().Truncate(time.Microsecond),
			EventType: "t", SubType: "s", SystemSource: "x"}
		if _, err := store.InsertEvents(t.Context(), "acme", []audit.Event{ev}); err != nil {
			t.Fatalf("round %d: insert after the kill: %v", round, err)
		}
	}
}

// kill terminates every other backend of the database and waits until they
// are gone, as an operator's kill would leave them.
func kill(t *testing.T, admin *sql.DB) {
	t.Helper()
	const others = `FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`
	if _, err := admin.ExecContext(t.Context(), `SELECT pg_terminate_backend(pid) `+others); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		if err := admin.QueryRowContext(t.Context(), `SELECT count(*) `+others).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d backends still there 10 s after pg_terminate_backend", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
