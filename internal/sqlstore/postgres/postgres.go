// Package postgres is the PostgreSQL backend of the audit store: a
// sqlstore.Dialect on pgx/v5 (through database/sql), its migrations, and a
// COPY-based bulk loader.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is the PostgreSQL sqlstore.Dialect.
type Dialect struct{}

var (
	_ sqlstore.Dialect     = Dialect{}
	_ sqlstore.BulkLoader  = Dialect{}
	_ sqlstore.RowStreamer = Dialect{}
)

// Name implements sqlstore.Dialect.
func (Dialect) Name() string { return "postgres" }

// Migrations implements sqlstore.Dialect.
func (Dialect) Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	return sub
}

// migrationLockKey is an arbitrary application-wide advisory lock id.
const migrationLockKey = 7_310_449_114_222_001

// MigrationLock implements sqlstore.Dialect: a transaction-scoped advisory
// lock, released at commit or rollback.
func (Dialect) MigrationLock() string {
	return fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLockKey)
}

// retentionLockClass is the first key of the (int4, int4) advisory locks on
// tenants' retention; the second is the tenant id's hash. Two tenants that
// share a hash only wait on each other now and then.
const retentionLockClass = 7310

// TenantLock implements sqlstore.Dialect: a transaction-scoped advisory
// lock, shared or exclusive, released at commit or rollback.
func (Dialect) TenantLock(exclusive bool) string {
	if exclusive {
		return fmt.Sprintf("SELECT pg_advisory_xact_lock(%d, hashtext($1))", retentionLockClass)
	}
	return fmt.Sprintf("SELECT pg_advisory_xact_lock_shared(%d, hashtext($1))", retentionLockClass)
}

// IsUniqueViolation implements sqlstore.Dialect (SQLSTATE 23505).
func (Dialect) IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// IsTxConflict implements sqlstore.Dialect: deadlock_detected (40P01) and
// serialization_failure (40001).
func (Dialect) IsTxConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// MaxInsertRows implements sqlstore.Dialect: 20 parameters a row stays well
// under PostgreSQL's 65535 per statement.
func (Dialect) MaxInsertRows() int { return 1000 }

// Open connects to the PostgreSQL database at url (postgres://…), applies
// pending migrations and returns the store.
func Open(ctx context.Context, url string, logger *slog.Logger) (*sqlstore.DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cfg, stdlib.OptionShouldPing(shouldPing))
	// A stream holds one connection for its whole length while progress
	// updates need another: keep a few. Idle ones go so a quiet replica
	// does not pin server slots.
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(5)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := sqlstore.Migrate(ctx, db, Dialect{}, logger); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	store, err := sqlstore.New(sqlstore.Config{DB: db, Dialect: Dialect{}, Logger: logger})
	if err != nil {
		db.Close()
		return nil, err
	}
	return store, nil
}

// Migrate applies pending migrations to the database at url.
func Migrate(ctx context.Context, url string, logger *slog.Logger) error {
	cfg, err := parseURL(url)
	if err != nil {
		return err
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	if err := sqlstore.Migrate(ctx, db, Dialect{}, logger); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func parseURL(url string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// The parse error quotes the URL; its password is redacted only on a
		// best-effort basis, so keep the URL out of it.
		var pe *pgconn.ParseConfigError
		if errors.As(err, &pe) {
			if cause := errors.Unwrap(pe); cause != nil {
				return nil, fmt.Errorf("postgres: invalid database URL: %w", cause)
			}
		}
		return nil, errors.New("postgres: invalid database URL")
	}
	return cfg, nil
}

// Placeholder implements sqlstore.Dialect.
func (Dialect) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

// IngestTx implements sqlstore.Snapshotter: the transaction's own id
// (xid8, 64 bits with the epoch: it never wraps), assigned now if the
// transaction has none yet.
func (Dialect) IngestTx(ctx context.Context, tx *sql.Tx) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&id)
	return id, err
}

// EstimateRows implements sqlstore.Estimator: EXPLAIN's "Plan Rows" for
// the top node, from the table's statistics (autovacuum's ANALYZE keeps
// them current), in about a millisecond whatever the table's size.
func (Dialect) EstimateRows(ctx context.Context, db *sql.DB, query string, args ...any) (int64, error) {
	var out string
	if err := db.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&out); err != nil {
		return 0, err
	}
	var plans []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(out), &plans); err != nil {
		return 0, fmt.Errorf("postgres: EXPLAIN output %.200q: %w", out, err)
	}
	if len(plans) != 1 {
		return 0, fmt.Errorf("postgres: EXPLAIN output %.200q: want one plan", out)
	}
	return int64(plans[0].Plan.Rows), nil
}

// Snapshot implements sqlstore.Snapshotter with pg_current_snapshot(). A
// connection outside a transaction has no id of its own, so the snapshot
// sees every transaction that committed before it was taken.
func (Dialect) Snapshot(ctx context.Context, db *sql.DB) (audit.Snapshot, error) {
	var text string
	if err := db.QueryRowContext(ctx, `SELECT pg_current_snapshot()::text`).Scan(&text); err != nil {
		return audit.Snapshot{}, err
	}
	return audit.ParseSnapshot(text)
}
