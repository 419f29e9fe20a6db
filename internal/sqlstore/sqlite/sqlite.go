// Package sqlite is the SQLite backend of the audit store: a
// sqlstore.Dialect on modernc.org/sqlite (pure Go, driver "sqlite") and its
// migrations. It suits one node; PostgreSQL is the backend for scale.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"runtime"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is the SQLite sqlstore.Dialect.
type Dialect struct{}

var _ sqlstore.Dialect = Dialect{}

// Name implements sqlstore.Dialect.
func (Dialect) Name() string { return "sqlite" }

// Migrations implements sqlstore.Dialect.
func (Dialect) Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	return sub
}

// MigrationLock implements sqlstore.Dialect: none is needed, the write
// connection begins every transaction IMMEDIATE, which takes the database's
// write lock (other processes wait on busy_timeout).
func (Dialect) MigrationLock() string { return "" }

// IsUniqueViolation implements sqlstore.Dialect.
func (Dialect) IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// IsTxConflict implements sqlstore.Dialect. SQLite has one writer at a
// time (BEGIN IMMEDIATE, a busy timeout): write transactions queue instead
// of deadlocking.
func (Dialect) IsTxConflict(error) bool { return false }

// MaxInsertRows implements sqlstore.Dialect: 20 parameters a row within
// SQLite's default limit of 32766 bound parameters.
func (Dialect) MaxInsertRows() int { return 1000 }

// busyTimeoutMS is how long a connection waits for a lock held by another
// process (or by a checkpoint) before failing with SQLITE_BUSY.
const busyTimeoutMS = 10_000

// Open opens (creating if needed) the SQLite database file at path, applies
// pending migrations and returns the store.
//
// SQLite allows one writer at a time. The store therefore uses two pools on
// the file: a single write connection, so this process's writers queue in
// Go (honouring ctx) instead of failing with SQLITE_BUSY, and a pool of
// read-only connections. In WAL mode readers never block the writer nor
// each other, so a long StreamEvents keeps going while progress updates are
// written.
func Open(ctx context.Context, path string, logger *slog.Logger) (*sqlstore.DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if path == "" || path == ":memory:" {
		// Each connection would get its own empty in-memory database.
		return nil, errors.New("sqlite: a database file path is required")
	}
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	// The writer connects first: it switches the file to WAL (a persistent
	// setting) and creates the schema before any reader looks.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := sqlstore.Migrate(ctx, w, Dialect{}, logger); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	store, err := sqlstore.New(sqlstore.Config{DB: w, ReadDB: r, Dialect: Dialect{}, Logger: logger, BulkTxRows: 10_000})
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	return store, nil
}

// dsn builds the modernc.org/sqlite connection string. synchronous=NORMAL
// is durable in WAL mode except for the last transactions before a power
// loss, which is the usual trade for a single-node store.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		// Take the write lock at BEGIN, where busy_timeout applies, rather
		// than on the first write, where a stale snapshot fails at once.
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// TenantLock implements sqlstore.Dialect: none is needed, the one write
// connection runs write transactions one at a time (BEGIN IMMEDIATE).
func (Dialect) TenantLock(bool) string { return "" }

// Placeholder implements sqlstore.Dialect: a bare ?. Parameters with a name
// ($N, ?N) cost a linear search each when bound (sqlite3_bind_parameter_name),
// quadratic in a 20000-parameter INSERT: 95% of a bulk load's time.
func (Dialect) Placeholder(int) string { return "?" }

// IngestTx implements sqlstore.Snapshotter: the next value of the one-row
// counter. The write connection begins IMMEDIATE, so transactions that
// take a number commit in the order of their numbers.
func (Dialect) IngestTx(ctx context.Context, tx *sql.Tx) (int64, error) {
	var n int64
	err := tx.QueryRowContext(ctx, `UPDATE ingest_clock SET tx = tx + 1 WHERE one = 1 RETURNING tx`).Scan(&n)
	return n, err
}

// Snapshot implements sqlstore.Snapshotter: every number the counter has
// committed is visible, none is in progress (the writer holds the only
// uncommitted one, which the readers do not see).
func (Dialect) Snapshot(ctx context.Context, db *sql.DB) (audit.Snapshot, error) {
	var n int64
	if err := db.QueryRowContext(ctx, `SELECT tx FROM ingest_clock WHERE one = 1`).Scan(&n); err != nil {
		return audit.Snapshot{}, err
	}
	return audit.Snapshot{Xmin: n + 1, Xmax: n + 1}, nil
}
