package postgres_test

import (
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/sqlstore/storetest"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, err := postgres.Open(t.Context(), testenv.PostgresURL(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestMigrateConcurrently starts several replicas on one empty database at
// once: the advisory lock makes them take turns and apply 0001 once.
func TestMigrateConcurrently(t *testing.T) {
	url := testenv.PostgresURL(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), url, nil)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := postgres.Migrate(t.Context(), url, nil); err != nil {
		t.Fatalf("Migrate on a migrated database: %v", err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var versions []int64
	rows, err := db.QueryContext(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if len(versions) == 0 || versions[0] != 1 || len(versions) != len(slices.Compact(slices.Clone(versions))) {
		t.Fatalf("schema_migrations = %v", versions)
	}
}

func TestOpenBadURL(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://user:s3cret@[::1/db", nil)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error = %v; want an error that does not show the password", err)
	}
}
