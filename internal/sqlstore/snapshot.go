package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// Snapshotter is the part of a Dialect that gives events their ingest
// position (see audit.Snapshot and migration 0005).
type Snapshotter interface {
	// IngestTx numbers the ingest transaction tx, in which events are about
	// to be inserted: the events record it as ingest_tx. PostgreSQL answers
	// the transaction's own id; SQLite, whose writers are serialised,
	// increments a counter.
	IngestTx(ctx context.Context, tx *sql.Tx) (int64, error)
	// Snapshot says which ingest transactions have committed now, read
	// on db.
	Snapshot(ctx context.Context, db *sql.DB) (audit.Snapshot, error)
}

// StreamCopier is implemented by dialects that load a streamed batch
// faster than multi-row INSERTs (PostgreSQL's COPY). InsertEventStream uses
// it first.
type StreamCopier interface {
	// CopyEventStream stores every chunk fill puts, in one transaction
	// committed when fill returns nil, numbering the events' ingest_tx as
	// IngestTx does, and returns how many were stored. A batch that cannot
	// be copied as it is (an id that exists, a lost deadlock) stores
	// nothing and answers ErrCopyConflict: InsertEventStream then inserts
	// it skipping existing ids. An error fill returns is returned as it is.
	// fill may run on a goroutine of its own; it has returned when
	// CopyEventStream returns.
	CopyEventStream(ctx context.Context, db *sql.DB, tenantID string, fill func(put func([]audit.Event) error) error) (int64, error)
}

// ErrCopyConflict is StreamCopier's "insert this batch the careful way".
var ErrCopyConflict = errors.New("sqlstore: the batch cannot be copied as it is")

// Snapshot returns the snapshot of ingested events as of now: an export
// created now exports exactly the events visible in it.
func (db *DB) Snapshot(ctx context.Context) (audit.Snapshot, error) {
	s, err := db.d.Snapshot(ctx, db.r)
	if err != nil {
		return audit.Snapshot{}, db.wrap("snapshot", err)
	}
	return s, nil
}

// visibleIn is the condition "ingest_tx was committed in s".
func visibleIn(s audit.Snapshot, a *args) string {
	if len(s.Xip) == 0 {
		return "ingest_tx < " + a.add(s.Xmax)
	}
	return "(ingest_tx < " + a.add(s.Xmin) + " OR (ingest_tx < " + a.add(s.Xmax) +
		" AND ingest_tx NOT IN " + a.inInts(s.Xip) + "))"
}

// notVisibleIn is the negation of visibleIn, written as two ranges an
// index on (tenant_id, ingest_tx) serves: what was ingested after s.
func notVisibleIn(s audit.Snapshot, a *args) string {
	if len(s.Xip) == 0 {
		return "ingest_tx >= " + a.add(s.Xmax)
	}
	return "(ingest_tx >= " + a.add(s.Xmax) + " OR ingest_tx IN " + a.inInts(s.Xip) + ")"
}

func (a *args) inInts(vs []int64) string {
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
