// Package sqlitetest opens throwaway SQLite stores for the tests of other
// packages: a real database file in the test's temp dir, migrated, closed
// when the test ends.
package sqlitetest

import (
	"log/slog"
	"testing"

	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// Open returns a fresh, migrated store, closed when tb ends.
func Open(tb testing.TB) *sqlstore.DB {
	tb.Helper()
	db, err := sqlite.Open(tb.Context(), testenv.SQLitePath(tb), slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
