package sqlite_test

import (
	"database/sql"
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite"
	"github.com/auditsentinel/sentinel/internal/sqlstore/storetest"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, err := sqlite.Open(t.Context(), testenv.SQLitePath(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// withExtra is the SQLite dialect with one more migration, as a later
// change will add one: dropping a file in migrations/ is all it takes. Its
// version is past any real one, so adding real migrations keeps it last.
type withExtra struct{ sqlite.Dialect }

const extraVersion = 9999

func (withExtra) Migrations() fs.FS {
	m := fstest.MapFS{"9999_extra.sql": {Data: []byte(`CREATE TABLE extra (id TEXT PRIMARY KEY);`)}}
	base := sqlite.Dialect{}.Migrations()
	entries, _ := fs.ReadDir(base, ".")
	for _, e := range entries {
		b, _ := fs.ReadFile(base, e.Name())
		m[e.Name()] = &fstest.MapFile{Data: b}
	}
	return m
}

func TestMigrate(t *testing.T) {
	path := testenv.SQLitePath(t)
	s, err := sqlite.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.InsertEvents(t.Context(), "t1", []audit.Event{{ID: "a", EventType: "x"}}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Reopening applies nothing again and keeps the data.
	s, err = sqlite.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if n, err := s.CountEvents(t.Context(), audit.Filter{TenantID: "t1"}, 0); err != nil || n != 1 {
		t.Fatalf("after reopen: %d events, %v", n, err)
	}
	s.Close()

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlstore.Migrate(t.Context(), db, withExtra{}, nil); err != nil {
		t.Fatalf("migrate to %d: %v", extraVersion, err)
	}
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
	real, err := sqlstore.Migrations(sqlite.Dialect{}.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, m := range real {
		want = append(want, m.Version)
	}
	want = append(want, extraVersion)
	if !slices.Equal(versions, want) {
		t.Fatalf("schema_migrations = %v, want %v", versions, want)
	}
	if _, err := db.ExecContext(t.Context(), `INSERT INTO extra (id) VALUES ('x')`); err != nil {
		t.Fatalf("%d not applied: %v", extraVersion, err)
	}
}

func TestOpenMemoryRefused(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), ":memory:", nil); err == nil {
		t.Fatal(":memory: accepted; each pooled connection would see its own empty database")
	}
}
