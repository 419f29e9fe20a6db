package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// TestStreamRowsTextForm pins sqlstore.RowStreamer's column form: text
// (an integer in decimal, not pgx's binary int8), NULL as nil, the empty
// string as empty but not nil.
func TestStreamRowsTextForm(t *testing.T) {
	url := testenv.PostgresURL(t)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got [][][]byte
	err = postgres.Dialect{}.StreamRows(t.Context(), db,
		`SELECT NULL::text, ''::text, $1::text, (-1742000000000123)::bigint FROM generate_series(1, 2)`, []any{"é"},
		func(cols [][]byte) error {
			row := make([][]byte, len(cols))
			for i, c := range cols {
				if c != nil {
					row[i] = append([]byte{}, c...)
				}
			}
			got = append(got, row)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{nil, {}, []byte("é"), []byte("-1742000000000123")}
	if len(got) != 2 || !reflect.DeepEqual(got[0], want) || !reflect.DeepEqual(got[1], want) {
		t.Fatalf("rows = %q, want twice %q", got, want)
	}
}

// TestStreamEventsReleasesConnection streams on a pool of ONE connection:
// a stream that fn stops or that is cancelled half way must give the
// connection back, or the next query would wait for ever.
func TestStreamEventsReleasesConnection(t *testing.T) {
	url := testenv.PostgresURL(t)
	if err := postgres.Migrate(t.Context(), url, nil); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	s, err := sqlstore.New(sqlstore.Config{DB: db, Dialect: postgres.Dialect{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 20_000 // well beyond what one read from the server buffers
	if got, err := s.BulkInsertEvents(t.Context(), "t1", benchSource(n)); err != nil || got != n {
		t.Fatalf("loaded %d, %v", got, err)
	}
	usable := func(when string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if c, err := s.CountEvents(ctx, audit.Filter{TenantID: "t1"}, 0); err != nil || c != n {
			t.Fatalf("%s: CountEvents = %d, %v; the connection did not come back", when, c, err)
		}
		if inUse := db.Stats().InUse; inUse != 0 {
			t.Fatalf("%s: %d connections in use", when, inUse)
		}
	}

	errStop := errors.New("stop")
	seen := 0
	err = s.StreamEvents(t.Context(), audit.Filter{TenantID: "t1"}, func(*audit.Event) error {
		if seen++; seen == 10 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || seen != 10 {
		t.Fatalf("fn error: StreamEvents = %v after %d events; want errStop itself after 10", err, seen)
	}
	usable("after fn stopped the stream")

	ctx, cancel := context.WithCancel(t.Context())
	seen = 0
	err = s.StreamEvents(ctx, audit.Filter{TenantID: "t1"}, func(*audit.Event) error {
		if seen++; seen == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || seen != 10 {
		t.Fatalf("cancelled: StreamEvents = %v after %d events; want context.Canceled after 10", err, seen)
	}
	usable("after a cancelled stream")

	// And the whole stream still reads every event in order.
	seen = 0
	prev := ""
	err = s.StreamEvents(t.Context(), audit.Filter{TenantID: "t1"}, func(e *audit.Event) error {
		if e.ID <= prev {
			return fmt.Errorf("%s after %s", e.ID, prev)
		}
		prev = e.ID
		seen++
		return nil
	})
	if err != nil || seen != n {
		t.Fatalf("full stream: %d events, %v", seen, err)
	}
	usable("after a full stream")
}

// TestStreamEventsMetadata pins what the store contract leaves implicit:
// an empty value is kept (in a column and in the JSON of the other keys),
// an event without metadata reads back with Metadata nil, and so does one
// whose stored object of other keys is empty.
func TestStreamEventsMetadata(t *testing.T) {
	url := testenv.PostgresURL(t)
	s, err := postgres.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)
	evs := []audit.Event{
		{ID: "a", OccurredAt: at, EventType: "user", SubType: "login", SystemSource: "web"},
		{ID: "b", OccurredAt: at, EventType: "user", SubType: "login", SystemSource: "web",
			Metadata: map[string]string{"tag": "", "other": "", "entity_id": "e1"}},
		{ID: "c", OccurredAt: at, EventType: "user", SubType: "login", SystemSource: "web",
			Metadata: map[string]string{"ip": "203.0.113.7"}},
	}
	if _, err := s.InsertEvents(t.Context(), "t1", evs); err != nil {
		t.Fatal(err)
	}
	// Not what EventValues writes, but what another tool might.
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `UPDATE events SET metadata_extra = '{}' WHERE id = 'c'`); err != nil {
		t.Fatal(err)
	}
	var got []audit.Event
	if err := s.StreamEvents(t.Context(), audit.Filter{TenantID: "t1"}, func(e *audit.Event) error {
		got = append(got, *e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		evs[i].TenantID = "t1"
	}
	evs[2].Metadata = nil
	if !reflect.DeepEqual(got, evs) {
		t.Fatalf("got  %+v\nwant %+v", got, evs)
	}
}
