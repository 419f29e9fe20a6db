// Package storetest is the one contract suite every SQL backend of the audit
// store passes (sqlstore/postgres and sqlstore/sqlite call Run). It runs
// against real databases only.
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/secretbox"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
)

// BulkInserter is the fast loader the SQL stores provide (used by
// `sentinelctl seed`).
type BulkInserter interface {
	BulkInsertEvents(ctx context.Context, tenantID string, next func() (*audit.Event, bool)) (int64, error)
}

// Store is everything the suite exercises. A backend's Open returns one, so
// a backend that lacks a method fails to compile its test instead of
// failing it at run time.
type Store interface {
	audit.Store
	BulkInserter
	// WithSecretBox is a handle on the same pools that seals and opens
	// webhook secrets with box (nil: none).
	WithSecretBox(box *secretbox.Box) *sqlstore.DB
	SealStoredSecrets(ctx context.Context) (sealed, unopened int, err error)
}

var _ Store = (*sqlstore.DB)(nil)

// Open returns a fresh, empty, migrated store for one test. The suite closes
// it when the test ends.
type Open func(t *testing.T) Store

// testBundle is what every test starts from.
type testBundle struct {
	store Store
	ctx   context.Context
}

// base is a time with a full microsecond part, to catch precision loss.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

func setup(t *testing.T, open Open) *testBundle {
	t.Helper()
	s := open(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &testBundle{store: s, ctx: t.Context()}
}

// Run runs the whole contract against stores made by open. Subtests run in
// parallel, each on its own store.
func Run(t *testing.T, open Open) {
	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		if err := b.store.Ping(b.ctx); err != nil {
			t.Fatal(err)
		}
	})
	runEvents(t, open)
	runKeys(t, open)
	runExports(t, open)
	runSchedules(t, open)
	runWebhookSecrets(t, open)
	runSealedSecrets(t, open)
	runSnapshots(t, open)
	runChains(t, open)
	runRetention(t, open)
	runRetireArchive(t, open)
}

func requireCode(t *testing.T, err error, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want one matching %v", err, target)
	}
}

func requireInvalid(t *testing.T, err error) {
	t.Helper()
	if audit.ErrorCode(err) != audit.EINVALID {
		t.Fatalf("error = %v, want code %s", err, audit.EINVALID)
	}
}

func ptr[T any](v T) *T { return &v }
