package postgres_test

import (
	"database/sql"
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/sqlstore/storetest"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

func TestKeysBecomeAdmin(t *testing.T) {
	url := testenv.PostgresURL(t)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.RunKeysBecomeAdmin(t, db, postgres.Dialect{}, func(t *testing.T) audit.Store {
		s, err := postgres.Open(t.Context(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
