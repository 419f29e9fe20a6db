package postgres_test

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// A streamed batch of more chunks than the COPY keeps in flight is ONE
// ingest position: every event records the one transaction that stored
// them all, which is what puts a batch in the feed at once and in id
// order, after every batch that committed before it.
func TestStreamedBatchIsOneIngestPosition(t *testing.T) {
	url := testenv.PostgresURL(t)
	s, err := postgres.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	const chunks, size = 6, 1000
	n, err := s.InsertEventStream(t.Context(), "acme", func(put func([]audit.Event) error) error {
		for c := range chunks {
			chunk := make([]audit.Event, size)
			for i := range chunk {
				chunk[i] = audit.Event{ID: fmt.Sprintf("%d-%04d", chunks-c, i), OccurredAt: time.UnixMicro(int64(c*size + i)).UTC(),
					EventType: "t", SubType: "s", SystemSource: "test"}
			}
			if err := put(chunk); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || n != chunks*size {
		t.Fatalf("stream: %d, %v; want %d new", n, err, chunks*size)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, positions int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*), count(DISTINCT ingest_tx) FROM events WHERE tenant_id = 'acme'`).Scan(&rows, &positions); err != nil {
		t.Fatal(err)
	}
	if rows != chunks*size || positions != 1 {
		t.Fatalf("%d events in %d ingest positions; want %d in one", rows, positions, chunks*size)
	}
}
