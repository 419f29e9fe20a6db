package storetest

import (
	"database/sql"
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
)

// upTo is a dialect whose migrations stop before version stop: a database
// as an older release left it.
type upTo struct {
	sqlstore.Dialect
	stop int64
}

func (d upTo) Migrations() fs.FS {
	all, err := sqlstore.Migrations(d.Dialect.Migrations())
	if err != nil {
		panic(err)
	}
	m := fstest.MapFS{}
	for _, mig := range all {
		if mig.Version < d.stop {
			m[mig.Name] = &fstest.MapFile{Data: []byte(mig.SQL)}
		}
	}
	return m
}

// ScopesMigrationVersion is the migration that gave keys scopes.
const ScopesMigrationVersion = 6

// RunKeysBecomeAdmin migrates the empty database db to just before
// scopes existed, stores a key as that release did, then opens the store
// (applying every migration) and checks the key is an admin key: the
// access it had. open opens the store on the same database.
func RunKeysBecomeAdmin(t *testing.T, db *sql.DB, d sqlstore.Dialect, open func(t *testing.T) audit.Store) {
	t.Helper()
	ctx := t.Context()
	if err := sqlstore.Migrate(ctx, db, upTo{Dialect: d, stop: ScopesMigrationVersion}, nil); err != nil {
		t.Fatalf("migrate to %d: %v", ScopesMigrationVersion-1, err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version >= $1`, ScopesMigrationVersion).Scan(&n); err != nil || n != 0 {
		t.Fatalf("before the scopes migration: %d later versions, %v", n, err)
	}
	for _, k := range []struct{ id, hash string }{{"old-1", "hash-old-1"}, {"old-2", "hash-old-2"}} {
		if _, err := db.ExecContext(ctx, `INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, created_at)
			VALUES ($1, 'acme', 'ci', 'ask_0000', $2, $3)`, k.id, k.hash, base.UnixMicro()); err != nil {
			t.Fatalf("insert a key as the old release did: %v", err)
		}
	}
	s := open(t)
	defer s.Close()
	k, err := s.APIKeyByHash(ctx, "hash-old-1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(k.Scopes, []audit.Scope{audit.ScopeAdmin}) || k.ExpiresAt != nil || k.Window != nil {
		t.Fatalf("migrated key = %+v; want an admin key without expiry or window", k)
	}
	for _, sc := range audit.Scopes {
		if !k.Allows(sc) {
			t.Errorf("migrated key lost %s", sc)
		}
	}
	// A key stored after the migration without scopes is refused, not
	// defaulted to anything.
	requireInvalid(t, s.CreateAPIKey(ctx, audit.APIKey{ID: "new", TenantID: "acme", CreatedAt: base}, "hash-new"))
}
