// Package sqlstore implements audit.Store on database/sql. What differs
// between SQL engines (migrations, error codes, bulk loading, parameter
// limits) sits behind the small Dialect interface; the backends beneath it,
// sqlstore/postgres and sqlstore/sqlite, each provide one and an Open that
// wires it up, and sqlstore/storetest is the contract both pass.
//
// Every timestamp is stored as BIGINT unix microseconds, so both engines keep
// audit.TimePrecision exactly and order by a plain integer.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/secretbox"
)

// Dialect is what one SQL engine does differently.
type Dialect interface {
	// Name names the engine in logs: "postgres", "sqlite".
	Name() string
	// Migrations holds the versioned migration files NNNN_name.sql at its
	// root. Adding a file is all it takes to add a migration.
	Migrations() fs.FS
	// MigrationLock is a statement run first in every migration transaction
	// so that concurrent migrators take turns ("" when the engine's
	// transactions already serialise, as SQLite's BEGIN IMMEDIATE does).
	MigrationLock() string
	// IsUniqueViolation reports whether err is a unique or primary key
	// violation.
	IsUniqueViolation(err error) bool
	// IsTxConflict reports whether err is a transaction that lost to a
	// concurrent one (a deadlock, a serialization failure) and would
	// succeed if run again.
	IsTxConflict(err error) bool
	// MaxInsertRows is how many events one multi-row INSERT may carry
	// within the engine's bound-parameter limit.
	MaxInsertRows() int
	// Placeholder is the n-th (from 1) positional parameter of a query built
	// in code. Fixed queries in this package use $N, which every supported
	// engine accepts; built ones may hold thousands of parameters, which
	// SQLite binds fast only when they are bare ?s. A built query therefore
	// uses each placeholder once, in order, and holds no literal $N.
	Placeholder(n int) string
	// TenantLock is a statement, with the tenant id as $1, that takes a
	// transaction-scoped lock on the tenant's retention: exclusive for a
	// purge batch, shared for what a purge must not overtake (creating an
	// export or a legal hold). "" when write transactions already
	// serialise (SQLite).
	TenantLock(exclusive bool) string
	// Snapshotter numbers ingest transactions and takes snapshots of them
	// (snapshot.go).
	Snapshotter
}

// Estimator is implemented by dialects whose query planner estimates how
// many rows a query returns without running it (PostgreSQL).
type Estimator interface {
	// EstimateRows is the planner's row estimate for query.
	EstimateRows(ctx context.Context, db *sql.DB, query string, args ...any) (int64, error)
}

// BulkLoader is implemented by dialects with a faster path for loading many
// events than batched INSERTs (PostgreSQL's COPY).
type BulkLoader interface {
	// BulkInsertEvents loads every event next yields for tenantID, skipping
	// ids that exist, and returns how many were new.
	BulkInsertEvents(ctx context.Context, db *sql.DB, tenantID string, next func() (*audit.Event, bool)) (int64, error)
}

// Config configures a DB.
type Config struct {
	// DB is the pool that writes (and reads, when ReadDB is nil).
	DB *sql.DB
	// ReadDB, when set, serves every read-only query. SQLite uses it to keep
	// readers off its single write connection.
	ReadDB  *sql.DB
	Dialect Dialect
	Logger  *slog.Logger
	// BulkTxRows is how many events BulkInsertEvents commits per transaction
	// when the dialect is not a BulkLoader. Default 10000.
	BulkTxRows int
}

// DB is an audit.Store on database/sql.
type DB struct {
	w, r       *sql.DB
	d          Dialect
	log        *slog.Logger
	bulkTxRows int
	box        *secretbox.Box // nil: secrets are stored as they are (WithSecretBox)
}

var _ audit.Store = (*DB)(nil)

// New returns a DB on cfg's pools. It does not migrate; see Migrate.
func New(cfg Config) (*DB, error) {
	if cfg.DB == nil || cfg.Dialect == nil {
		return nil, errors.New("sqlstore: DB and Dialect are required")
	}
	db := &DB{w: cfg.DB, r: cfg.ReadDB, d: cfg.Dialect, log: cfg.Logger, bulkTxRows: cfg.BulkTxRows}
	if db.r == nil {
		db.r = db.w
	}
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	if db.bulkTxRows <= 0 {
		db.bulkTxRows = 10000
	}
	return db, nil
}

// Dialect returns the dialect the DB was built with.
func (db *DB) Dialect() Dialect { return db.d }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	if db.r != db.w {
		if err := db.r.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlstore: ping readers: %w", err)
		}
	}
	return nil
}

// Close closes the pools.
func (db *DB) Close() error {
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// wrap translates err at the edge: unique violations match
// audit.ErrConflict, anything else is an internal error with op as context.
// No rows is decided by each caller, which knows what was not found.
func (db *DB) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if db.d.IsUniqueViolation(err) {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, audit.ErrConflict, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// oneRow turns "no row changed" into a not-found error.
func (db *DB) oneRow(res sql.Result, op, format string, args ...any) error {
	return db.changedOr(res, op, func() error { return audit.NotFound(format, args...) })
}

// changedOr answers for a statement meant to change one row: nil when it
// did, otherwise orElse's answer. orElse is a not-found error (oneRow), or
// a lookup of the record when a conditional update may rightly change
// nothing: it tells a missing record (not found) from one already as
// wanted (nil).
func (db *DB) changedOr(res sql.Result, op string, orElse func() error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return db.wrap(op, err)
	}
	if n == 0 {
		return orElse()
	}
	return nil
}

// withTx runs fn in a write transaction, committing when it returns nil.
func (db *DB) withTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap(op+": begin", err)
	}
	// Rolled back whichever way fn ends but a commit, a panic included
	// (a panicking ingest producer): left open, the transaction would hold
	// SQLite's only write connection for good. After a commit it is a
	// no-op.
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return db.wrap(op+": commit", err)
	}
	return nil
}

// args collects positional parameters for a query built in code, numbered
// by the dialect's Placeholder.
type args struct {
	vals []any
	ph   func(n int) string
}

func (db *DB) args() *args { return &args{ph: db.d.Placeholder} }

func (a *args) add(v any) string {
	a.vals = append(a.vals, v)
	return a.ph(len(a.vals))
}

func (a *args) in(vs []string) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(a.add(v))
	}
	b.WriteByte(')')
	return b.String()
}

// micros converts t to the stored form.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts the stored form back (UTC).
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}

func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicros(n.Int64)
	return &t
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// floorMicros is the last microsecond at or before t: the bound
// t.Truncate(audit.TimePrecision) gives, as filters are canonicalised.
func floorMicros(t time.Time) int64 {
	us := t.UnixMicro()
	if time.UnixMicro(us).After(t) {
		us--
	}
	return us
}
