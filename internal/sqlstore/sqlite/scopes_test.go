package sqlite_test

import (
	"database/sql"
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite"
	"github.com/auditsentinel/sentinel/internal/sqlstore/storetest"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

func TestKeysBecomeAdmin(t *testing.T) {
	path := testenv.SQLitePath(t)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.RunKeysBecomeAdmin(t, db, sqlite.Dialect{}, func(t *testing.T) audit.Store {
		s, err := sqlite.Open(t.Context(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
